#include <stdio.h>
#include <unistd.h>

struct point {
	int x;
	int y;
};

struct point origin = { 1, 2 };
struct point *current = &origin;

void show(void)
{
	printf("origin %d %d\n", current->x, current->y);
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		show();
		usleep(20000);
	}
}
