/* bench/heap-1m: NODES heap nodes in a list reached from the global `head`; the program sums
 * the list every 100 ms and prints the sum, so a lost or corrupted node shows. Built -O2: the
 * functions stay out of main (noinline), so that main, which never returns, is not patched. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct node {
	long value;
	struct node *next;
};

struct node *head;

__attribute__((noinline)) static long total(void)
{
	long s = 0;
	for (struct node *n = head; n; n = n->next)
		s += n->value;
	return s;
}

__attribute__((noinline)) static void build(long nodes)
{
	for (long i = 0; i < nodes; i++) {
		struct node *n = malloc(sizeof *n);
		n->value = i;
		n->next = head;
		head = n;
	}
}

__attribute__((noinline)) static void report(void)
{
	printf("sum %ld\n", total());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	build(argc > 1 ? atol(argv[1]) : 1000000);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		report();
		usleep(100000);
	}
}
