/* eligibility.h - the target-class eligibility manifest (rbe-target-eligibility JSON).
 *
 * Executor mode is allowed only for targets whose class is "proved" and
 * allows "executor".  The manifest:
 *
 *   { "schema": "rbe-target-eligibility/1",            (optional)
 *     "classes": [ {
 *       "name": "cc-hermetic",                          [A-Za-z0-9._-]+, unique
 *       "status": "proved" | "candidate" | "blocked",
 *       "labels": ["//examples/bazel/...", "//tools:gen"], target patterns
 *       "allowed_modes": ["local", "cache", "executor"],
 *       "requirements": ["..."],                        (optional)
 *       "proof_required": true,                         (optional, default true)
 *       "proof": "proof-result.json",                   (optional)
 *       "boundary": "...", "blockers": ["..."],         (blocked: blockers required)
 *       "go_condition": "..."                           (candidate: required)
 *     } ] }
 *
 * Unknown keys are ignored so that files teams already keep stay valid.
 * Lifecycle: eligibility_load() fills a manifest; eligibility_release() always.
 */
#ifndef FLYWHEEL_ELIGIBILITY_H
#define FLYWHEEL_ELIGIBILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "flywheel/error.h"
#include "flywheel/util.h"

#define ELIG_FILE_MAX (4u * 1024u * 1024u)
#define ELIG_CLASSES_MAX 256
#define ELIG_LABELS_MAX 1024   /* per class */
#define ELIG_NAME_MAX 128
#define ELIG_TEXT_MAX 4096     /* requirements, blockers, boundary, go_condition items */
#define ELIG_TARGET_MAX 1024   /* one target pattern */

enum elig_status { ELIG_PROVED, ELIG_CANDIDATE, ELIG_BLOCKED };

#define ELIG_MODE_LOCAL 0x1u
#define ELIG_MODE_CACHE 0x2u
#define ELIG_MODE_EXECUTOR 0x4u

struct elig_class {
	char *name;
	enum elig_status status;
	struct strv labels;
	unsigned modes;          /* ELIG_MODE_* */
	struct strv requirements;
	bool proof_required;
	char *proof;             /* NULL when absent */
	char *boundary;          /* NULL when absent */
	struct strv blockers;
	char *go_condition;      /* NULL when absent */
};

struct elig_manifest {
	char *path;
	struct elig_class *classes;
	size_t n_classes;
};

const char *elig_status_name(enum elig_status s);

void eligibility_init(struct elig_manifest *m);
void eligibility_release(struct elig_manifest *m);

/* Load and validate a manifest file.  Errors: class config, exit 65 (bad
 * data) or 74 (unreadable); the subject names the file, the class (by name or
 * index) and the field.  On error m is left empty. */
int eligibility_load(const char *path, struct elig_manifest *m, struct fw_error *err);
/* The same from text in memory (path is used in messages). */
int eligibility_parse(const char *text, size_t len, const char *path, struct elig_manifest *m,
		      struct fw_error *err);

/* The class called name, or NULL. */
const struct elig_class *eligibility_find_class(const struct elig_manifest *m, const char *name);

struct elig_decision {
	bool eligible;                   /* every pattern is in a proved class allowing executor */
	char target[ELIG_TARGET_MAX];    /* the first pattern that is not (empty when eligible) */
	char reason[ELIG_TEXT_MAX];      /* why, e.g. class "net" is candidate, not proved */
	const struct elig_class *cls;    /* the class the reason is about, or NULL */
};

/* Decide whether every target pattern may run in executor mode.  Negative
 * patterns (-//x/...) only remove targets and are skipped; relative patterns
 * cannot be placed and are ineligible.  A pattern covered by a proved class
 * but overlapping a class that is not proved (or does not allow executor) is
 * ineligible.  Returns 0 (the answer is in *ret) or -EINVAL for bad input. */
int eligibility_check_targets(const struct elig_manifest *m, const char *const *targets, size_t n,
			      struct elig_decision *ret);

/* Whether pattern a covers every target pattern b names (both absolute,
 * e.g. "//a/..." covers "//a/b:c"); exposed for tests. */
bool elig_pattern_covers(const char *a, const char *b);

/* flywheel eligibility check [FILE] [-- TARGETS] | show [FILE]  (launcher command;
 * argv[0] is "eligibility"). */
int cmd_eligibility(int argc, char **argv);

#endif
