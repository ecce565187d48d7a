#include <cstdio>
#include <unistd.h>
#include "shape.h"

int main()
{
	for (long n = 1;; n++) {
		Shape *shape = make_square(n);
		long area = shape->area();
		long perimeter = static_cast<Square *>(shape)->perimeter();
		std::printf("%ld: area %ld perimeter %ld\n", n, area, perimeter);
		std::fflush(stdout);
		delete shape;
		usleep(20000);
	}
}
