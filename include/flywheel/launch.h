/* launch.h - the `flywheel bazel` path: config, plan, probe verdict, staging
 * check, argv, exec.  And `explain`, which stops before exec and prints. */
#ifndef FLYWHEEL_LAUNCH_H
#define FLYWHEEL_LAUNCH_H

#include <stdbool.h>

struct launch_opts {
	const char *argv0;
	const char *mode;   /* --mode, or NULL */
	bool json;          /* --json */
	int verbosity;      /* -v count */
	bool quiet;         /* -q */
};

/* Run (explain=false: execve, returns only on failure) or explain Bazel with
 * args[0..argc).  Returns the exit code for main. */
int launch_bazel(const struct launch_opts *o, int argc, char **args, bool explain);

/* `flywheel credential-helper ...` and `flywheel eligibility ...` (argv[0] is
 * the command word). */
int launch_credential_helper(const struct launch_opts *o, int argc, char **argv);
int launch_eligibility(const struct launch_opts *o, int argc, char **argv);

#endif
