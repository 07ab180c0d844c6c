/* audit.h - which downloads did Bazel make outside the manifest?
 *
 * Reads a build event file written by --build_event_json_file (one JSON object
 * per line, streamed, each line at most AUDIT_LINE_MAX) and classifies every
 * `fetch` event:
 *   {"id":{"fetch":{"url":U}},"fetch":{"success":true}}   (a failure has "fetch":{})
 * Bazel 4.2.3's fetch events carry only the URL and success, no repository
 * name: the repository (and whether its rule pinned a checksum) is found by
 * scanning the workspace's WORKSPACE file for the rule that lists the URL.
 *
 * Classes:
 *   pinned    the URL belongs to a manifest input (Bazel downloaded it itself:
 *             staging did not cover it)
 *   mirror    from an approved mirror ([mirrors] replacement URLs, or the
 *             manifest's URLs that are not rule URLs) but not in the manifest
 *   upstream  from anywhere else, not in the manifest
 *   failed    the attempt failed (blocked, unreachable, bad checksum)
 * Manifest inputs with no fetch event at all were served from the distdir or
 * the repository cache (or not needed by this build): counted, not listed.
 *
 * The audit result (schema flywheel-audit/1, audit_result_json) lists the
 * uncovered inputs (mirror and upstream downloads) with their URL, repository,
 * the checksum the rule declared; `flywheel lock --from-audit FILE` adopts them.
 */
#ifndef FLYWHEEL_AUDIT_H
#define FLYWHEEL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"
#include "flywheel/manifest.h"
#include "flywheel/util.h"

#define AUDIT_SCHEMA "flywheel-audit/1"
#define AUDIT_LINE_MAX (64u * 1024u * 1024u) /* one build event */
#define AUDIT_FETCHES_MAX 1000000u           /* distinct fetch events kept */
#define AUDIT_WORKSPACE_MAX (16u * 1024u * 1024u)
#define AUDIT_RULES_MAX 100000u
#define AUDIT_RESULT_MAX (64u * 1024u * 1024u)

/* `inputs audit --strict` exit status when anything came from outside the
 * manifest: FW_EX_FAIL (1), "a check failed" in error.h. */
#define AUDIT_STRICT_EXIT 1

enum audit_class { AUDIT_PINNED, AUDIT_MIRROR, AUDIT_UPSTREAM, AUDIT_FAILED, AUDIT__MAX };

const char *audit_class_name(enum audit_class c);

/* A repository rule found in WORKSPACE: http_archive(name=..., sha256=..., urls=[...]). */
struct audit_rule {
	char *name;
	char *sha256;       /* NULL: the rule pins no sha256 */
	bool integrity;     /* the rule pins an integrity= checksum */
	struct strv urls;
};

struct audit_fetch {
	char *url;
	enum audit_class cls;
	const char *input;          /* pinned: the manifest input's name (points into the manifest) */
	const struct audit_rule *rule; /* the WORKSPACE rule listing url, or NULL */
	unsigned attempts;          /* events for this URL */
};

struct audit_opts {
	const struct manifest *manifest;  /* NULL: every download is outside it */
	const char *const *mirrors;       /* approved mirror URL prefixes */
	size_t n_mirrors;
	const char *workspace_file;       /* WORKSPACE to scan for rules; NULL: none */
};

struct audit_result {
	struct audit_fetch *fetches;  /* one per distinct URL, in first-seen order */
	size_t n_fetches, cap;
	size_t n[AUDIT__MAX];         /* distinct URLs per class */
	size_t events;                /* fetch events read */
	size_t lines;                 /* build events read */
	size_t served_without_fetch;  /* manifest inputs with no fetch event */
	struct audit_rule *rules;
	size_t n_rules;
	/* private */
	void *index;
};

void audit_result_release(struct audit_result *r);

/* Whether anything succeeded from outside the manifest (mirror or upstream). */
bool audit_outside_manifest(const struct audit_result *r);

/* Stream-read the build event file at bep_path and classify every fetch event.
 * Errors: unreadable file (class external-input, exit 65),
 * a line over AUDIT_LINE_MAX or not JSON (exit 65, subject "FILE:LINE"). */
int audit_run(const char *bep_path, const struct audit_opts *o, struct audit_result *ret,
	      struct fw_error *err);

/* Parse WORKSPACE text for repository rules (top-level calls with name= and
 * url=/urls=).  Macros loaded from .bzl files are not followed. */
int audit_scan_workspace(const char *data, size_t len, struct audit_rule **ret, size_t *ret_n);
void audit_rules_free(struct audit_rule *rules, size_t n);

/* The flywheel-audit/1 document (malloc'd text, trailing newline). */
int audit_result_json(const struct audit_result *r, const char *bep_path, const char *manifest_path,
		      char **ret);

/* One entry of an audit result that `lock --from-audit` adopts. */
struct audit_adopt {
	char *name;      /* file name (basename of the URL) */
	char *url;       /* the URL Bazel downloaded */
	char *sha256;    /* checksum the rule declared, or NULL */
	char *repository;
	struct strv rule_urls; /* the rule's URLs (canonical_urls), may be empty */
};

/* Read the uncovered entries of a flywheel-audit/1 file. */
int audit_adopt_read(const char *path, struct audit_adopt **ret, size_t *ret_n, struct fw_error *err);
void audit_adopt_free(struct audit_adopt *a, size_t n);

/* (implemented in coverage.c) `flywheel lock --from-audit FILE [--manifest F] [--cacert F]`: argv[0] is
 * "lock".  Downloads each uncovered input once (hashed while streaming),
 * refuses one whose bytes differ from the checksum its rule declared, and
 * writes the manifest deterministically (version bumped when it changed). */
int lock_from_audit(int argc, char **argv);

/* `flywheel inputs audit|coverage|check-downloader-config|downloader-config`. */
int cmd_inputs(int argc, char **argv);

#endif
