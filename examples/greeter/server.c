#include <stdio.h>
#include <unistd.h>
#include "greeting.h"

int main(void)
{
	for (int n = 0;; n++) {
		printf("%s %d\n", greeting(n), n);
		fflush(stdout);
		usleep(20000);
	}
}
