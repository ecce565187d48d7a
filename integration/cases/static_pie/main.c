#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A static PIE (gcc -static-pie: no dynamic loader; its start-up code applies its own dynamic
 * relocations, IRELATIVE ones for libc's IFUNCs included) whose patch holds absolute addresses
 * the start-up code must relocate (pointer tables, a pointer to printf, fflush through the GOT),
 * calls strlen (an IFUNC: its symbol is the resolver) and fflush (hidden in libc.a, so the link
 * made it a local symbol of the executable). */
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
