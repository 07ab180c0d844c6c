/* policy.h - validate the configuration and decide the plan for one run.
 *
 * Every rule of DESIGN.md "Strict validation" lives here: placeholders,
 * schemes per role, userinfo, loopback, denylist, instance names, mode and
 * endpoint agreement, upload policy, header and path syntax.  A failure is one
 * fw_error of class config with exit 78 naming the key and the layer.
 */
#ifndef FLYWHEEL_POLICY_H
#define FLYWHEEL_POLICY_H

#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/error.h"
#include "flywheel/plan.h"

#define POLICY_DEFAULT_TOKEN_FILE "/var/run/secrets/tokens/gf-reapi-cell-token"

struct policy_opts {
	const struct bazel_version *version; /* decides how credentials reach Bazel */
	const char *self_exe;                /* flywheel's own path: the default credential helper */
	const char *default_token_file;      /* NULL: POLICY_DEFAULT_TOKEN_FILE */
};

/* Validate c and fill p (initialised by the caller with plan_init).  notes
 * receives one line per decision worth showing in explain (may be NULL). */
int policy_build(const struct config *c, const struct policy_opts *o, struct fw_plan *p,
		 struct strv *notes, struct fw_error *err);

/* Parse a mode word: local cache executor shared-cache-backed executor-backed. */
int policy_parse_mode(const char *s, enum fw_mode *ret);

/* Validate one NAME=VALUE header line; returns NULL or the problem. */
const char *policy_header_problem(const char *line);

#endif
