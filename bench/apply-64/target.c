/* bench/apply-64 target: THREADS (argv[1]) threads stamp CLOCK_MONOTONIC in a tight loop and keep
 * the longest gap between two consecutive stamps of any thread; with argv[2] = "hot" each stamp
 * also calls f0, one of the ten functions the patch replaces, so at any stop some threads are
 * inside it. Every 10 ms main prints "w <window start ns> <window end ns> <longest gap ns> <sum>"
 * and calls f0..f9.
 * Built by run.mjs with: katana-cc -O2 -pthread -o target target.c (v2: fix.patch applied). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic long long window_max;
static int hot;

#define F(n) __attribute__((noinline)) long f##n(long x) { return x * (n + 1) + 1; }
F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9)

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *stamp(void *arg)
{
	volatile long x = (long)arg;
	long long prev = now_ns();
	for (;;) {
		if (hot) x = f0(x) & 0xffff;
		long long t = now_ns();
		long long gap = t - prev;
		prev = t;
		long long seen = atomic_load_explicit(&window_max, memory_order_relaxed);
		while (gap > seen && !atomic_compare_exchange_weak(&window_max, &seen, gap))
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 64;
	hot = argc > 2 && strcmp(argv[2], "hot") == 0;
	pthread_t t;
	for (long i = 0; i < threads; i++)
		pthread_create(&t, NULL, stamp, (void *)i);
	long long start = now_ns();
	atomic_store(&window_max, 0);
	for (long n = 0;; n++) {
		usleep(10000);
		long long end = now_ns();
		long long gap = atomic_exchange(&window_max, 0);
		long sum = f0(n) + f1(n) + f2(n) + f3(n) + f4(n) + f5(n) + f6(n) + f7(n) + f8(n) + f9(n);
		printf("w %lld %lld %lld %ld\n", start, end, gap, sum);
		fflush(stdout);
		start = end;
	}
}
