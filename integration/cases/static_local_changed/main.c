#include <stdio.h>
#include <unistd.h>

struct tally {
	int count;
	int odd;
};

static int sample(int n)
{
	static struct tally t = { 100, 0 };
	if (n % 5 == 0)
		t.count++;
	return t.count;
}

static void step(void)
{
	static struct tally t;
	t.count++;
	if (t.count % 2)
		t.odd++;
	printf("count %d odd %d samples %d\n", t.count, t.odd, sample(t.count));
	fflush(stdout);
}

int main(void)
{
	for (;;) {
		step();
		usleep(20000);
	}
}
