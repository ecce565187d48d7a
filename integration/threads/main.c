/* The target of integration/test/threads.test.ts: a process whose threads are in every state an
 * apply must stop and resume without a trace. version() is what fix.patch changes (1 -> 2).
 *   64 hot threads  call version() in a tight loop, each keeping the last value it saw;
 *   reader          blocked in read() on FIFO argv[1]; prints "read <n> <data>|", wakes cond;
 *   cond            blocked in pthread_cond_wait (a futex) until the reader got data; "cond <version>";
 *   acceptor        blocked in accept() on a listening TCP socket; "accepted <version>";
 *   epoller         blocked in epoll_wait(-1) on FIFO argv[2]; "epoll <rc> <errno>" on every
 *                   return, then "epoll data <data>|";
 *   sleeper         nanosleep(300 ms) in a loop; "slept <start ns> <end ns> <rc>" (CLOCK_MONOTONIC);
 *   churn           starts and joins short-lived threads without pause;
 *   SIGRTMIN        handler (real-time: every signal sent is queued, none merged) calls version();
 *                   only main, hot and churn threads take it;
 *   main            prints "ready <port>", then every 50 ms
 *                   "status rt <handled> hv <version in handler> min <lowest> max <highest version
 *                   a hot thread saw> born <threads started>". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HOT 64

static volatile int seen[HOT];
static volatile sig_atomic_t rt_handled, handler_version;
static atomic_long born;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static int have_data;
static int listener, read_fd, epoll_fd;

__attribute__((noinline)) int version(void)
{
	return 1;
}

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_rt(int signo)
{
	(void)signo;
	handler_version = version();
	rt_handled++;
}

static void *hot(void *arg)
{
	long i = (long)arg;
	for (;;) seen[i] = version();
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[256];
	ssize_t n = read(read_fd, buf, sizeof buf - 1);
	if (n < 0) {
		printf("read failed %d\n", errno);
		return NULL;
	}
	buf[n] = 0;
	printf("read %zd %s|\n", n, buf);
	pthread_mutex_lock(&lock);
	have_data = 1;
	pthread_cond_signal(&arrived);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *cond(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!have_data) pthread_cond_wait(&arrived, &lock);
	pthread_mutex_unlock(&lock);
	printf("cond %d\n", version());
	return NULL;
}

static void *acceptor(void *arg)
{
	(void)arg;
	int fd = accept(listener, NULL, NULL);
	if (fd < 0) printf("accept failed %d\n", errno);
	else printf("accepted %d\n", version());
	return NULL;
}

static void *epoller(void *arg)
{
	(void)arg;
	struct epoll_event event;
	for (;;) {
		int rc = epoll_wait(epoll_fd, &event, 1, -1);
		printf("epoll %d %d\n", rc, rc < 0 ? errno : 0);
		if (rc == 1) break;
	}
	char buf[256];
	ssize_t n = read(event.data.fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("epoll data %s|\n", buf);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec pause = {0, 300 * 1000 * 1000};
		long long start = now_ns();
		int rc = nanosleep(&pause, NULL);
		printf("slept %lld %lld %d\n", start, now_ns(), rc);
	}
	return NULL;
}

static void *short_lived(void *arg)
{
	(void)arg;
	atomic_fetch_add(&born, 1);
	return NULL;
}

static void *churn(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, short_lived, NULL) == 0) pthread_join(t, NULL);
	}
	return NULL;
}

static void start(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	if (pthread_create(&t, NULL, fn, arg) != 0) {
		perror("pthread_create");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s READ_FIFO EPOLL_FIFO\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGRTMIN, on_rt);
	read_fd = open(argv[1], O_RDWR); /* O_RDWR: open does not wait for a writer */
	int epoll_fifo = open(argv[2], O_RDWR);
	epoll_fd = epoll_create1(0);
	struct epoll_event want = {.events = EPOLLIN, .data.fd = epoll_fifo};
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, epoll_fifo, &want);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t length = sizeof address;
	if (read_fd < 0 || epoll_fifo < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 ||
	    listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
		perror("setup");
		return 1;
	}
	/* The blocked threads never take SIGRTMIN (they inherit this mask): a handler run in one of
	 * them would rightly end nanosleep or epoll_wait with EINTR, and the test checks they never do. */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &rt, NULL);
	start(reader, NULL);
	start(cond, NULL);
	start(acceptor, NULL);
	start(epoller, NULL);
	start(sleeper, NULL);
	pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
	for (long i = 0; i < HOT; i++) start(hot, (void *)i);
	start(churn, NULL);
	printf("ready %d\n", ntohs(address.sin_port));
	for (;;) {
		struct timespec pause = {0, 50 * 1000 * 1000};
		nanosleep(&pause, NULL);
		int lo = 99, hi = 0;
		for (int i = 0; i < HOT; i++) {
			if (seen[i] < lo) lo = seen[i];
			if (seen[i] > hi) hi = seen[i];
		}
		printf("status rt %d hv %d min %d max %d born %ld\n", (int)rt_handled, (int)handler_version, lo, hi,
		       atomic_load(&born));
	}
}
