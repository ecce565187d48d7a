#include <cstdio>
#include <unistd.h>
#include "common.h"

int main()
{
	for (long n = 1;; n++) {
		std::printf("%ld: a %ld b %ld\n", n, use_a(n), use_b(n));
		std::fflush(stdout);
		usleep(20000);
	}
}
