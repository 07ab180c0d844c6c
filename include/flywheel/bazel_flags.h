/* bazel_flags.h - turn a plan and the real Bazel's version into the options
 * flywheel injects, spelled for that version.
 *
 * The result feeds bazel_argv_build(): startup options, command options (each
 * with a strength), and notes for explain about what the version could not do.
 */
#ifndef FLYWHEEL_BAZEL_FLAGS_H
#define FLYWHEEL_BAZEL_FLAGS_H

#include "flywheel/bazel_argv.h"
#include "flywheel/bazel_version.h"
#include "flywheel/error.h"
#include "flywheel/plan.h"
#include "flywheel/util.h"

struct bazel_flags {
	struct bazel_opts startup;  /* before the command */
	struct bazel_opts cmd;      /* right after the command */
	struct strv notes;          /* version limits and choices, one line each, for explain */
};

void bazel_flags_init(struct bazel_flags *f);
void bazel_flags_release(struct bazel_flags *f);

/* Fill f (initialised, empty) for plan p, Bazel version v (unknown: oldest
 * spellings) and command (NULL: none, nothing is injected; the command table
 * in bazel_argv.h decides which option groups it gets).
 *
 *  local:    distdir, repository cache, injected repositories, downloader
 *            config, download disabling (where the version has it)
 *  cache:    + remote cache, instance name, upload policy, timeouts, TLS,
 *            credential helper (version's spelling, scoped to the host) or the
 *            rc file (startup --bazelrc), fallback flags agreeing with
 *            p->fallback_local where the version can
 *  executor: + remote executor, --remote_local_fallback=false,
 *            --spawn_strategy=remote, exec properties, --jobs,
 *            --remote_accept_cached=false when forced
 *  any mode: execution log (compact from 7.1, else JSON), build event file,
 *            --test_env for chromium (test and coverage only).
 *
 * Errors (class config, exit 78): a credential helper planned for a Bazel
 * without one; a mode whose URL is missing from the plan. */
int bazel_flags_build(const struct fw_plan *p, const struct bazel_version *v,
		      const char *command, struct bazel_flags *f, struct fw_error *err);

#endif
