#include <unistd.h>

/* Linked against libfoo: katana-cc -O0 -c main.c; katana-cc -o prog main.o -L. -lfoo -Wl,-rpath,'$ORIGIN' */
void foo_report(const char *word);

int main(void)
{
	for (;;) {
		foo_report("katana");
		usleep(20000);
	}
}
