#include <stdio.h>
#include <unistd.h>

void step(void)
{
	static int count;
	count++;
	printf("tick %d\n", count);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		step();
		usleep(20000);
	}
}
