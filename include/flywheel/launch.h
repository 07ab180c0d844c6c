/* launch.h - the `flywheel bazel` path: config, plan, probe verdict, eligibility,
 * staging check, argv, environment; then exec (launcher), or a child run
 * (report and proof in flywheel-net), or print (explain).
 *
 * Lifecycle: launch_init(); launch_prepare(); use l->argv / l->envp;
 * launch_release() always.  launch_prepare() starts nothing of Bazel: every
 * check has passed when it returns 0. */
#ifndef FLYWHEEL_LAUNCH_H
#define FLYWHEEL_LAUNCH_H

#include <limits.h>
#include <stdbool.h>

#include "flywheel/bazel_argv.h"
#include "flywheel/bazel_find.h"
#include "flywheel/bazel_flags.h"
#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/error.h"
#include "flywheel/plan.h"
#include "flywheel/verdict.h"

struct launch_opts {
	const char *argv0;
	const char *mode;   /* --mode, or NULL */
	bool json;          /* --json */
	int verbosity;      /* -v count */
	bool quiet;         /* -q */
	bool strict;        /* --strict: ineligible targets refuse executor mode instead of falling back */
	const char *report; /* --report[=FILE]: "" for the default file, NULL: no report */
	const char *workspace; /* configuration from this workspace (NULL: found from the cwd) */
};

enum {
	LAUNCH_EXPLAIN = 1u << 0, /* no probe, no staging, conflicts recorded instead of failing */
	LAUNCH_CHILD = 1u << 1,   /* Bazel runs as a child: ask it for an execution log and a BEP file
				   * in a private directory (l->evidence_dir) */
	LAUNCH_FORCE = 1u << 2,   /* forced remote execution (proof): --remote_accept_cached=false */
	LAUNCH_PREFER_EXECUTOR = 1u << 3, /* no mode chosen and an executor configured: executor mode */
	LAUNCH_NO_ELIGIBILITY = 1u << 4,  /* the eligibility manifest does not gate (proof, dev-attach) */
	LAUNCH_KEEP_EVIDENCE = 1u << 5,   /* leave the evidence directory in place on release */
};

#define LAUNCH_NOTES_MAX 64

/* Everything one launch owns. */
struct launch {
	const struct launch_opts *o;
	unsigned flags;
	struct config cfg;
	struct bazel_cmdline cmd;
	struct bazel_found found;
	struct bazel_version version;
	struct fw_plan plan;
	enum fw_mode requested_mode; /* before fallback or eligibility lowered it */
	struct strv notes;        /* decisions, one line each, for explain and reports */
	struct bazel_flags flags_; /* injected startup and command options */
	struct strv argv;         /* final argv, argv[0] = Bazel's path */
	struct strv envp;         /* final environment */
	char self_exe[PATH_MAX];
	char *evidence_dir;       /* LAUNCH_CHILD: private 0700 directory for the logs */
	struct verdict cache_verdict, exec_verdict;
	bool probed;              /* a verdict was consulted */
	bool staged_warm;         /* the stat-only check said everything is staged */
	char fallback_reason[FW_ERROR_TEXT_MAX];   /* remote unusable: why (else empty) */
	char ineligible_reason[FW_ERROR_TEXT_MAX]; /* executor refused for the targets (else empty) */
	struct fw_error err;
	bool err_reported;        /* a child (the stager) already printed the one line */
};

void launch_init(struct launch *l, const struct launch_opts *o, unsigned flags);
void launch_release(struct launch *l);
/* Everything up to the final argv and environment.  Returns 0, or -1 with
 * l->err set (the caller reports it and exits with l->err.exit_code). */
int launch_prepare(struct launch *l, int argc, char **args);

/* Run (explain=false: execve, returns only on failure) or explain Bazel with
 * args[0..argc).  Returns the exit code for main. */
int launch_bazel(const struct launch_opts *o, int argc, char **args, bool explain);

/* Replace this process with flywheel-net running argv[0..argc) (argv[0] is
 * its command); flywheel's options travel as FLYWHEEL_* variables.  Returns
 * only on failure, with the exit code (69) after printing why. */
int launch_exec_net(const struct launch_opts *o, int argc, char **argv);

/* `flywheel credential-helper ...` and `flywheel eligibility ...` (argv[0] is
 * the command word). */
int launch_credential_helper(const struct launch_opts *o, int argc, char **argv);
int launch_eligibility(const struct launch_opts *o, int argc, char **argv);

#endif
