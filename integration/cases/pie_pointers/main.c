#include <stdio.h>
#include <unistd.h>

/* A PIE whose patch holds absolute addresses: tables of function and string pointers, a pointer to
 * a libc function, all of which the loader must relocate by the load bias. */
static int twice(int n) { return 2 * n; }
static int square(int n) { return n * n; }

static int (*const ops[])(int) = { twice, square };
static const char *names[] = { "twice", "square" };

void show(int tick)
{
	printf("tick %d %s %d\n", tick, names[tick % 2], ops[tick % 2](tick));
	fflush(stdout);
}

int main(void)
{
	for (int tick = 0;; tick++) {
		show(tick);
		usleep(20000);
	}
}
