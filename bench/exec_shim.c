/* exec_shim.c - the cheapest possible exec wrapper: execv(argv[1], argv + 1).
 * bench/startup.sh links it statically and measures it as the floor any
 * wrapper (flywheel included) is compared against. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: exec_shim PROGRAM [ARGS...]\n", stderr);
		return 64;
	}
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
