#include <stdio.h>
#include <string.h>

/* libfoo: compiled with katana-cc -O0 -fPIC -c foo.c; linked with katana-cc -shared -o libfoo.so foo.o */
static int calls;

static int weight(const char *word)
{
	return (int)strlen(word);
}

int foo_score(const char *word)
{
	calls++;
	return weight(word) * 10;
}

void foo_report(const char *word)
{
	printf("%s scores %d (call %d)\n", word, foo_score(word), calls);
	fflush(stdout);
}
