#include <stdio.h>
#include <unistd.h>

/* At -O2 gcc specialises scale() for the constant factor into scale.constprop.0 (or an .isra clone). */
static __attribute__((noinline)) long scale(long value, long factor, const char *label)
{
	long r = value * factor;
	printf("%s %ld\n", label, r);
	return r;
}

__attribute__((noinline)) void work(long n)
{
	scale(n, 3, "scaled");
	fflush(stdout);
}

int main(void)
{
	for (long n = 1;; n++) {
		work(n);
		usleep(20000);
	}
}
