/* fake_bazel.c - a stand-in for the Bazel client that does nothing: `--version`
 * prints "bazel 4.2.3" and every call exits 0.  Static, so that what the start-up
 * benchmark measures is the wrapper in front of it, not Bazel's own client. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		fputs("bazel 4.2.3\n", stdout);
	return 0;
}
