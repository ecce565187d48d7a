#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Two globals point at the same heap object: the patch must move it once and update both. */
struct account {
	int id;
	long balance;
};

struct account *primary;
struct account *backup;

static void deposit(void)
{
	primary->balance += 10;
}

static void show(void)
{
	printf("%s balance %ld id %d\n", primary == backup ? "same" : "DIFFERENT", backup->balance, backup->id);
	fflush(stdout);
}

static void open_account(void)
{
	primary = malloc(sizeof *primary);
	primary->id = 42;
	primary->balance = 0;
	backup = primary;
}

int main(void)
{
	open_account();
	for (;;) {
		deposit();
		show();
		usleep(20000);
	}
}
