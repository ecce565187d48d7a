#include <stdio.h>
#include <unistd.h>

static const int limits[4] = { 10, 20, 30, 40 };

struct level {
	const char *name;
	int threshold;
};

const struct level levels[3] = { { "low", 1 }, { "mid", 5 }, { "high", 9 } };

static int ticks;

static void show(void)
{
	ticks++;
	const struct level *l = &levels[ticks % 3];
	printf("tick %d limit %d level %s %d\n", ticks, limits[ticks % 4], l->name, l->threshold);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		show();
		usleep(20000);
	}
}
