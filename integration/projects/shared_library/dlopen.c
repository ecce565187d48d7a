#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

/* Loads libfoo at run time: katana-cc -O0 -c dlopen.c; katana-cc -o loader dlopen.o -ldl; ./loader /path/to/libfoo.so */
int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
		return 2;
	}
	void *library = dlopen(argv[1], RTLD_NOW);
	if (library == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	void (*report)(const char *) = (void (*)(const char *))dlsym(library, "foo_report");
	if (report == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	for (;;) {
		report("dlopen");
		usleep(20000);
	}
}
