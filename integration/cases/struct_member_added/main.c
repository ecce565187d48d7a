#include <stdio.h>
#include <unistd.h>

struct stats {
	int hits;
	int misses;
	int errors;
};

struct stats stats;

static int hits(void)
{
	return stats.hits;
}

static void count(void)
{
	stats.hits++;
	stats.misses++;
	stats.errors++;
}

static void show(void)
{
	printf("hits %d misses %d errors %d\n", hits(), stats.misses, stats.errors);
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
