#include <stdio.h>
#include <unistd.h>

/* Never returns: a patch that replaces it can never find a safe moment. */
void serve_forever(void)
{
	for (int n = 0;; n++) {
		printf("serving %d\n", n);
		fflush(stdout);
		usleep(20000);
	}
}

int main(void)
{
	serve_forever();
}
