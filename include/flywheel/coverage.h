/* coverage.h - are the manifest's required inputs staged and verified?
 *
 * An input is staged when every destination (each distdir and the repository
 * cache) holds a copy with its sha256: a verification record `flywheel stage`
 * wrote (stagecheck.h) vouches for an unchanged file; any other file is hashed
 * again (Bazel touches repository-cache entries on every hit, so records go
 * stale after a build even though the bytes did not change).
 * Lifecycle: coverage_run() fills a result; coverage_result_release() always.
 */
#ifndef FLYWHEEL_COVERAGE_H
#define FLYWHEEL_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "flywheel/audit.h"
#include "flywheel/config.h"
#include "flywheel/error.h"
#include "flywheel/manifest.h"
#include "flywheel/stagecheck.h"

enum coverage_state {
	COVERAGE_STAGED,      /* verified in every destination */
	COVERAGE_PARTIAL,     /* verified in some destinations only */
	COVERAGE_MISSING,     /* in no destination (or never verified) */
};

struct coverage_item {
	const struct manifest_input *in;
	enum coverage_state state;
	size_t dests_ok, dests;
};

struct coverage_result {
	struct coverage_item *items;  /* manifest order */
	size_t n_items;
	size_t required, required_staged;
	bool record_found;            /* a verification record for this manifest and destinations */
	bool covered;                 /* every required input staged */
};

const char *coverage_state_name(enum coverage_state s);

/* Check m (read from manifest_path) against the record for manifest_path and
 * the destinations in o.  Returns 0 (covered or not) or -1 with err on a usage
 * problem (no destination, too many distdirs). */
int coverage_run(const struct manifest *m, const char *manifest_path, const struct stagecheck_opts *o,
		 struct coverage_result *ret, struct fw_error *err);
void coverage_result_release(struct coverage_result *r);

/* flywheel-coverage/1 JSON (malloc'd, trailing newline). */
int coverage_result_json(const struct coverage_result *r, const char *manifest_path, char **ret);

/* The audit as `flywheel inputs audit` runs it: the manifest at manifest_path
 * (NULL: none; parsed into m, which the caller initialised and releases), the
 * approved mirrors of [mirrors] plus extra_mirrors, and the WORKSPACE rules of
 * workspace (NULL: cfg's).  Used by the audit command and by the child modes
 * (the build report) on the build they just watched. */
int audit_for_config(const struct config *cfg, const char *bep, const char *manifest_path, const char *workspace,
		     const char *const *extra_mirrors, size_t n_extra, struct manifest *m, struct audit_result *ret,
		     struct fw_error *err);

#endif
