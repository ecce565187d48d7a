#include <stdio.h>
#include <unistd.h>

union value {
	int i;
	float f;
};

union value current = { 1 };

void show(void)
{
	printf("value %d\n", current.i++);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		show();
		usleep(20000);
	}
}
