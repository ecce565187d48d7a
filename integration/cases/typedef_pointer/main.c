#include <stdio.h>
#include <unistd.h>

typedef struct {
	int hits;
	int misses;
} stats_t;

stats_t stats;
stats_t *cur = &stats;

static void count(void)
{
	stats.hits++;
	stats.misses++;
}

static void show(void)
{
	printf("hits %d misses %d\n", stats.hits, stats.misses);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		count();
		show();
		usleep(20000);
	}
}
