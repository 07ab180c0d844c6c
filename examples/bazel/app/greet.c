#include "app/greet.h"

#include <stdio.h>

int greet(char *buf, size_t len, const char *who)
{
	return snprintf(buf, len, "hello, %s", who);
}
