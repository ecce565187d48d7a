#include "common.h"

long use_a(long n)
{
	Box box{n};
	return scaled<long>(n) + box.doubled();
}
