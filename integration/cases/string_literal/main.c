#include <stdio.h>
#include <unistd.h>

void greet(int n)
{
	printf("hello %d\n", n);
}

void farewell(int n)
{
	printf("goodbye %d\n", n);
}

int main(void)
{
	for (int n = 0;; n++) {
		greet(n);
		farewell(n);
		fflush(stdout);
		usleep(20000);
	}
}
