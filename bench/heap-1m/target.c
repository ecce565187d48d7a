/* bench/heap-1m: NODES heap nodes in a list reached from the global `head`; the program sums
 * the list every 100 ms and prints the sum, so a lost or corrupted node shows. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct node {
	long value;
	struct node *next;
};

struct node *head;

static long total(void)
{
	long s = 0;
	for (struct node *n = head; n; n = n->next)
		s += n->value;
	return s;
}

int main(int argc, char **argv)
{
	long nodes = argc > 1 ? atol(argv[1]) : 1000000;
	for (long i = 0; i < nodes; i++) {
		struct node *n = malloc(sizeof *n);
		n->value = i;
		n->next = head;
		head = n;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		printf("sum %ld\n", total());
		fflush(stdout);
		usleep(100000);
	}
}
