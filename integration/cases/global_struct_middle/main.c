#include <stdio.h>
#include <unistd.h>

struct conn {
	int id;
	int sent;
	const char *peer;
	long received;
};

struct conn conn = { .id = 7, .peer = "alpha" };

static void traffic(void)
{
	conn.sent++;
	conn.received += 1000;
}

static void show(void)
{
	printf("conn %d sent %d peer %s received %ld\n", conn.id, conn.sent, conn.peer, conn.received);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		traffic();
		show();
		usleep(20000);
	}
}
