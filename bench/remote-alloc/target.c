/* bench/remote-alloc's target: builds a linked list of NODES nodes of 48 bytes (64-byte chunks: a
 * 64 MB heap for a million), prints "head 0x..." and the addresses of two functions the bench
 * calls, then sleeps in nanosleep like an idle server.
 * Compile: gcc -O2 -o target target.c;  run: ./target NODES */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct node {
  long value;
  struct node *next;
  char payload[32];
};

/* An empty function: what one remote call costs without work. */
long nothing(void) { return 0; }

/* A transformer-shaped function for callEach: copies the value of the old node into the new one. */
void copy_value(void *to, const void *from) { ((struct node *)to)->value = ((const struct node *)from)->value; }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long nodes = argc > 1 ? atol(argv[1]) : 1000000;
  struct node *head = NULL;
  for (long i = 0; i < nodes; i++) {
    struct node *n = malloc(sizeof *n);
    n->value = nodes - i;
    n->next = head;
    head = n;
  }
  printf("fn nothing %p\nfn copy_value %p\nhead %p\nready\n", (void *)nothing, (void *)copy_value, (void *)head);
  struct timespec pause = {0, 100000000};
  for (;;) nanosleep(&pause, NULL);
}
