#include "greeting.h"

const char *greeting(int n)
{
	return n % 2 ? "hello" : "hi";
}
