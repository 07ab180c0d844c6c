#include <stdio.h>
#include <string.h>

#include "app/greet.h"

int main(void)
{
	char buf[32];
	int n = greet(buf, sizeof(buf), "world");
	if (n != 12 || strcmp(buf, "hello, world") != 0) {
		fprintf(stderr, "greet gave %d \"%s\"\n", n, buf);
		return 1;
	}
	n = greet(buf, 8, "truncated");
	if (n != 16 || strlen(buf) != 7) {
		fprintf(stderr, "truncation: %d \"%s\"\n", n, buf);
		return 1;
	}
	puts("ok");
	return 0;
}
