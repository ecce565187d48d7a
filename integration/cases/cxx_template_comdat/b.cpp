#include "common.h"

long use_b(long n)
{
	Box box{n + 1};
	return scaled<long>(n + 1) + box.doubled();
}
