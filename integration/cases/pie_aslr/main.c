#include <stdio.h>
#include <unistd.h>

int status_code(int tick) { return tick % 7; }

void report(int tick)
{
	printf("tick %d status %d\n", tick, status_code(tick));
	fflush(stdout);
}

int main(void)
{
	for (int tick = 0;; tick++) {
		report(tick);
		usleep(20000);
	}
}
