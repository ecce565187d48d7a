#include <stdio.h>
#include <unistd.h>

struct stats {
	int requests;
	int errors;
};

struct server {
	int port;
	struct stats st;
	long uptime;
} srv = { .port = 8080 };

static void serve(void)
{
	srv.st.requests++;
	if (srv.st.requests % 3 == 0)
		srv.st.errors++;
	srv.uptime += 10;
}

static void report(void)
{
	printf("port %d requests %d errors %d uptime %ld\n", srv.port, srv.st.requests, srv.st.errors, srv.uptime);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		serve();
		report();
		usleep(20000);
	}
}
