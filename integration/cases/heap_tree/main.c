#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A binary search tree of 2,000 keys reached from the global `root`; every tick inserts a key and
 * checks that an in-order walk sees every key once, in order. */
struct tree {
	int key;
	struct tree *left, *right;
};

struct tree *root;
static int size, next_key;

static struct tree *insert(struct tree *t, int key)
{
	if (!t) {
		t = calloc(1, sizeof *t);
		t->key = key;
		size++;
		return t;
	}
	if (key < t->key)
		t->left = insert(t->left, key);
	else
		t->right = insert(t->right, key);
	return t;
}

static int walk(struct tree *t, int *last, int *ordered)
{
	if (!t)
		return 0;
	int n = walk(t->left, last, ordered);
	if (t->key <= *last)
		*ordered = 0;
	*last = t->key;
	return n + 1 + walk(t->right, last, ordered);
}

static void check(void)
{
	int last = -1, ordered = 1;
	int n = walk(root, &last, &ordered);
	printf("%s tree %d keys %d\n", n == size && ordered ? "ok" : "CORRUPT", n, next_key);
	fflush(stdout);
}

/* Keys in a scrambled order, so that the tree is bushy rather than a list. */
static int scramble(int i)
{
	return (int) ((i * 2654435761u) % 1000003u);
}

int main(void)
{
	while (next_key < 2000)
		root = insert(root, scramble(next_key++));
	for (;;) {
		root = insert(root, scramble(next_key++));
		check();
		usleep(20000);
	}
}
