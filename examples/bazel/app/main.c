#include <stdio.h>

#include "app/greet.h"

int main(int argc, char **argv)
{
	char buf[128];
	greet(buf, sizeof(buf), argc > 1 ? argv[1] : "flywheel");
	puts(buf);
	return 0;
}
