#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A queue of 10,000 heap nodes reached from the global `head`; every tick pushes one node at the
 * front and frees the last one, and checks the whole list against counters kept outside it. */
struct node {
	long value;
	struct node *next;
};

struct node *head;
static long length, sum, next_value;

static void push(long value)
{
	struct node *n = malloc(sizeof *n);
	n->value = value;
	n->next = head;
	head = n;
	length++;
	sum += value;
}

static void drop_last(void)
{
	struct node **p = &head;
	while ((*p)->next)
		p = &(*p)->next;
	sum -= (*p)->value;
	free(*p);
	*p = NULL;
	length--;
}

static void check(void)
{
	long n = 0, s = 0;
	for (struct node *i = head; i; i = i->next) {
		n++;
		s += i->value;
	}
	if (n != length || s != sum)
		printf("corrupt: %ld nodes sum %ld, expected %ld sum %ld\n", n, s, length, sum);
	else
		printf("list %ld nodes ok %ld\n", n, next_value);
	fflush(stdout);
}

int main(void)
{
	while (length < 10000)
		push(next_value++);
	for (;;) {
		push(next_value++);
		drop_last();
		check();
		usleep(20000);
	}
}
