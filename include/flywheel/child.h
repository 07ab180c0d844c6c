/* child.h - run Bazel as a child process (report and proof modes).
 *
 * Plain mode execs Bazel; child modes need to see the result, so Bazel runs
 * as a child: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to flywheel are
 * forwarded to it (terminal-generated ones already reach it through the
 * process group and are not sent twice), the child gets the signal mask
 * flywheel started with, and its exit status comes back unchanged (killed by
 * signal n: 128+n).  stderr passes through while a bounded tail is kept, so
 * that quota exhaustion (exit 34 with RESOURCE_EXHAUSTED) can be recognised
 * and retried with bounded, jittered backoff.
 */
#ifndef FLYWHEEL_CHILD_H
#define FLYWHEEL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"

#define CHILD_TAIL_MAX (64u * 1024u)
#define CHILD_QUOTA_RETRIES_MAX 10
#define CHILD_BACKOFF_MAX_MS (5u * 60u * 1000u)
/* Bazel's exit code for a remote-environment failure (quota among them). */
#define CHILD_BAZEL_EXIT_REMOTE_ERROR 34

struct child_opts {
	char *const *argv;        /* argv[0]: absolute path of the program */
	char *const *envp;        /* NULL: the current environment */
	bool capture_stderr;      /* pass stderr through a pipe and keep a tail */
	bool quiet;               /* with capture_stderr: keep the tail only, print nothing */
	unsigned quota_retries;   /* retries after exit 34 + RESOURCE_EXHAUSTED (<= CHILD_QUOTA_RETRIES_MAX) */
	uint64_t backoff_base_ms; /* first wait before jitter (0: 2000) */
	uint64_t backoff_max_ms;  /* cap of one wait (0: 60000; <= CHILD_BACKOFF_MAX_MS) */
	/* Called before each quota wait so that the command can announce it
	 * (modules do not print).  attempt is the retry about to be made (1..). */
	void (*announce)(void *userdata, unsigned attempt, unsigned retries, uint64_t wait_ms);
	void *userdata;
};

struct child_result {
	int status;               /* exit code, or 128+signal */
	int signo;                /* signal that ended the last attempt, else 0 */
	int interrupted_by;       /* signal forwarded to the child (0: none) */
	unsigned attempts;        /* Bazel runs made (1 + retries used) */
	uint64_t quota_wait_ms;   /* total time spent waiting for quota */
	bool resource_exhausted;  /* the last attempt's stderr said RESOURCE_EXHAUSTED */
	uint64_t elapsed_ns;      /* wall time of all attempts and waits */
	size_t tail_len;
	char tail[CHILD_TAIL_MAX + 1]; /* last bytes of the last attempt's stderr, NUL-terminated */
};

/* Run the program until it ends (with quota retries).  Returns 0 with *ret
 * filled whatever the child's exit status, or -1 with err filled when it
 * could not be run at all: not found (exit 127), not executable (126),
 * fork/pipe failure (71). */
int child_run(const struct child_opts *o, struct child_result *ret, struct fw_error *err);

/* Whether an attempt that ended with status and stderr tail is quota exhaustion. */
bool child_is_quota_failure(int status, bool resource_exhausted);

/* Wait before retry `attempt` (1-based): base * 2^(attempt-1), capped, with
 * equal jitter ([d/2, d]) from the random value r. */
uint64_t child_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, uint32_t r);

#endif
