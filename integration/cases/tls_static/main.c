#include <stdio.h>
#include <unistd.h>

/* A thread-local counter of the main thread: the patched code must reach the same TLS slot. */
__thread long visits = 100;

void visit(void)
{
	visits++;
	printf("visits %ld\n", visits);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		visit();
		usleep(20000);
	}
}
