#include <stdio.h>
#include <unistd.h>

static const char *names[] = { "alpha", "beta", "gamma" };

void shout(const char *name, int n)
{
	printf("%d %s\n", n, name);
	fflush(stdout);
}

int main(void)
{
	for (int n = 0;; n++) {
		shout(names[n % 3], n);
		usleep(20000);
	}
}
