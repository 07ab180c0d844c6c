/* looptimer.c - fallback for hyperfine: run each command RUNS times, rounds
 * interleaved (command 1, 2, ..., 1, 2, ...) so drift on a shared machine hits
 * every command alike, and print "median_s mean_s stddev_s min_s" per command.
 *
 * usage: looptimer RUNS WARMUP -- CMD1 ARGS... -- CMD2 ARGS... ...
 * Output goes to /dev/null; a command that exits non-zero is an error. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_RUNS 100000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(char **argv, double *ret)
{
	double t0 = now_s();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	*ret = now_s() - t0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	char **cmds[MAX_CMDS];
	int ncmd = 0, runs, warmup, i, c;
	double *t[MAX_CMDS];

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fputs("usage: looptimer RUNS WARMUP -- CMD ARGS... [-- CMD ARGS...]\n", stderr);
		return 64;
	}
	runs = (int)strtol(argv[1], NULL, 10);
	warmup = (int)strtol(argv[2], NULL, 10);
	if (runs < 1 || runs > MAX_RUNS || warmup < 0 || warmup > MAX_RUNS) {
		fputs("looptimer: RUNS must be 1..100000, WARMUP 0..100000\n", stderr);
		return 64;
	}
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			if (i + 1 < argc) {
				if (ncmd == MAX_CMDS) {
					fputs("looptimer: too many commands\n", stderr);
					return 64;
				}
				cmds[ncmd++] = &argv[i + 1];
			}
		}
	}
	for (c = 0; c < ncmd; c++) {
		t[c] = calloc((size_t)runs, sizeof(double));
		if (!t[c])
			return 70;
	}
	for (i = -warmup; i < runs; i++) {
		for (c = 0; c < ncmd; c++) {
			double d = 0;
			if (run(cmds[c], &d) < 0) {
				fprintf(stderr, "looptimer: %s failed\n", cmds[c][0]);
				return 1;
			}
			if (i >= 0)
				t[c][i] = d;
		}
	}
	for (c = 0; c < ncmd; c++) {
		double sum = 0, sq = 0, mean;
		for (i = 0; i < runs; i++)
			sum += t[c][i];
		mean = sum / runs;
		for (i = 0; i < runs; i++)
			sq += (t[c][i] - mean) * (t[c][i] - mean);
		qsort(t[c], (size_t)runs, sizeof(double), cmp);
		printf("%.9f %.9f %.9f %.9f\n", runs % 2 ? t[c][runs / 2] : (t[c][runs / 2 - 1] + t[c][runs / 2]) / 2,
		       mean, sqrt(sq / runs), t[c][0]);
		free(t[c]);
	}
	return 0;
}
