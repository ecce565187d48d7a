#include <stdio.h>
#include <unistd.h>

int served;

void serve(void)
{
	served++;
	printf("served %d\n", served);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		serve();
		usleep(20000);
	}
}
