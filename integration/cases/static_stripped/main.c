#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The castle from "In memory live patching": argc is never below 1, so the princess is never here. */
int visit(int argc)
{
	if (argc < 1) {
		printf("Thank you marrrio, *smooch*!\n");
		return EXIT_SUCCESS;
	}
	printf("Sorry but our princess is in another castle\n");
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	(void)argv;
	for (;;) {
		visit(argc);
		fflush(stdout);
		usleep(20000);
	}
}
