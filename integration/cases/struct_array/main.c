#include <stdio.h>
#include <unistd.h>

struct slot {
	int id;
	int count;
};

struct slot slots[3] = { { 1, 0 }, { 2, 10 }, { 3, 20 } };

static void setup(void)
{
	for (int i = 0; i < 3; i++)
		slots[i].id = 11 * (i + 1);
}

static void tick(void)
{
	for (int i = 0; i < 3; i++)
		slots[i].count++;
}

static void show(void)
{
	printf("slots %d +%d +%d ids %d %d %d\n", slots[0].count, slots[1].count - slots[0].count,
	       slots[2].count - slots[0].count, slots[0].id, slots[1].id, slots[2].id);
	fflush(stdout);
}

int main(void)
{
	setup();
	for (;;) {
		tick();
		show();
		usleep(20000);
	}
}
