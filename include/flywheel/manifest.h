/* manifest.h - the pinned inputs manifest, schema "flywheel-inputs/1".
 *
 *   { "schema": "flywheel-inputs/1", "version": 12, "expires": "2027-06-01T00:00:00Z",
 *     "inputs": [ { "name": "rules_cc-0.0.1.tar.gz", "sha256": "<64 hex>", "size": 4096,
 *                   "urls": ["https://mirror/...", "https://upstream/..."],
 *                   "status": "required",              (optional: required|deferred|candidate)
 *                   "canonical_urls": ["https://upstream/..."] } ] }   (optional)
 *
 * `canonical_urls` are the URLs the WORKSPACE rule declares; Bazel 7+ keys a
 * repository-cache hit on sha256(those URLs joined by single spaces).
 *
 * Lifecycle: manifest_init(), manifest_parse() or manual filling, manifest_release().
 * Parsing is strict: unknown keys, duplicates, bad names or hex are errors that
 * name the entry.  manifest_write() is deterministic (sorted by name, fixed
 * key order and indentation) so `lock` output diffs cleanly.
 */
#ifndef FLYWHEEL_MANIFEST_H
#define FLYWHEEL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"
#include "flywheel/util.h"

#define MANIFEST_SCHEMA "flywheel-inputs/1"
#define MANIFEST_MAX_BYTES (8u * 1024u * 1024u)
#define MANIFEST_INPUTS_MAX 10000u
#define MANIFEST_URLS_MAX 32u
#define MANIFEST_NAME_MAX 255u
#define MANIFEST_URL_MAX 2048u
#define MANIFEST_SIZE_MAX (64ull * 1024 * 1024 * 1024) /* 64 GiB per input */
#define MANIFEST_VERSION_MAX 9007199254740991ull        /* 2^53-1: exact in every JSON reader */

enum input_status {
	INPUT_REQUIRED,  /* staged; a failure fails staging */
	INPUT_DEFERRED,  /* pinned, staged when possible; a failure is a warning */
	INPUT_CANDIDATE, /* proposed (e.g. adopted by `inputs audit`), never staged */
};

struct manifest_input {
	char *name;                 /* plain file name */
	char sha256[65];            /* lower-case hex */
	uint64_t size;
	struct strv urls;           /* tried in order: mirrors first */
	struct strv canonical_urls; /* empty: the rule's URLs are `urls` */
	enum input_status status;
};

struct manifest {
	uint64_t version;
	int64_t expires; /* seconds since the epoch (UTC) */
	struct manifest_input *inputs;
	size_t n_inputs;
};

void manifest_init(struct manifest *m);
void manifest_release(struct manifest *m);
void manifest_input_release(struct manifest_input *in);

/* Parse and validate data (len bytes, need not be NUL-terminated).  origin
 * names the file in messages.  On error ret is left empty and err says which
 * entry and what is wrong (class external-input, exit 65). */
int manifest_parse(const char *data, size_t len, const char *origin, struct manifest *ret,
		   struct fw_error *err);

/* Read path (regular file, no symlink, at most MANIFEST_MAX_BYTES) into a
 * NUL-terminated buffer owned by the caller. */
int manifest_read(const char *path, char **ret_data, size_t *ret_len, struct fw_error *err);

/* Deterministic JSON text (sorted by name, trailing newline) into *ret (caller frees). */
int manifest_write(const struct manifest *m, char **ret, struct fw_error *err);

/* manifest_write for a manifest that replaces old_text (old_len bytes; NULL
 * when there was no file): when the written text differs, the version goes
 * up by one first, so stagers accept the new manifest over the old one. */
int manifest_write_over(struct manifest *m, const char *old_text, size_t old_len, char **ret,
			struct fw_error *err);

/* Add in, or replace the entry with the same name.  Takes ownership of in's
 * contents on success (in is zeroed).  -E2BIG past MANIFEST_INPUTS_MAX. */
int manifest_upsert(struct manifest *m, struct manifest_input *in);

const struct manifest_input *manifest_find(const struct manifest *m, const char *name);

/* NULL when name is an acceptable input file name, else what is wrong. */
const char *manifest_name_problem(const char *name);

/* "2027-06-01T00:00:00Z" <-> seconds; only this exact UTC form is accepted. */
int manifest_parse_time(const char *s, int64_t *ret);
void manifest_format_time(int64_t t, char buf[static 32]);

const char *input_status_name(enum input_status s);

/* The URLs the Bazel rule declares for in: canonical_urls, else urls. */
const struct strv *manifest_rule_urls(const struct manifest_input *in);

#endif
