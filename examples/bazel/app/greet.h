#ifndef GREET_H
#define GREET_H
#include <stddef.h>

/* Writes "hello, <who>" into buf (at most len bytes); returns the length it needed. */
int greet(char *buf, size_t len, const char *who);

#endif
