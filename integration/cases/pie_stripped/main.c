#include <stdio.h>
#include <ctype.h>
#include <unistd.h>

/* A PIE deployed stripped: the patch must find served, describe and toupper without a .symtab. */
static int served;

static const char *describe(int n)
{
	return n % 2 ? "odd" : "even";
}

void serve(void)
{
	served++;
	printf("served %d (%s)\n", served, describe(served));
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		serve();
		usleep(20000);
	}
}
