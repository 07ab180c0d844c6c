/* buildreport.h - the report after a child-mode build (`flywheel bazel --report`).
 *
 * Runs in the launcher (core: no execution-log decoder there), so the action
 * counts come from Bazel's own closing summary on stderr, which every version
 * prints ("INFO: 6 processes: 4 internal, 2 remote."), read from the child's
 * stderr tail (child.h).  Output: one summary line and a flywheel-status/1
 * JSON object.  Pure functions; the caller prints and writes.
 */
#ifndef FLYWHEEL_BUILDREPORT_H
#define FLYWHEEL_BUILDREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/execlog.h"

#define BUILDREPORT_SLOW_MS_DEFAULT 30000u
#define BUILDREPORT_TEXT_MAX 512

struct buildreport_counts {
	bool found;          /* a "N processes: ..." line was seen */
	uint64_t total;      /* N */
	uint64_t internal;   /* "internal" (not spawns) */
	uint64_t by_class[EXECLOG_CLASS__MAX];
};

struct buildreport_input {
	const char *mode;              /* local, cache, executor */
	const char *endpoint;          /* cache or executor URL, or NULL */
	int exit_status;               /* Bazel's (128+n: signal) */
	unsigned attempts;             /* Bazel runs (quota retries) */
	uint64_t quota_wait_ms;
	uint64_t elapsed_ms;
	const char *stderr_tail;       /* the child's stderr tail */
	size_t stderr_tail_len;
	const char *fallback_reason;   /* remote unusable, built locally (NULL: none) */
	const char *ineligible_reason; /* executor refused for the targets (NULL: none) */
	uint64_t fetches;              /* downloads Bazel made itself (0: unknown or none) */
	uint64_t slow_ms;              /* 0: BUILDREPORT_SLOW_MS_DEFAULT */
};

struct buildreport {
	struct buildreport_counts counts;
	bool have_rate;
	double cache_hit_rate;         /* remote cache hits / spawns */
	bool slow;
	char likely_reason[BUILDREPORT_TEXT_MAX]; /* empty unless slow */
	char summary[BUILDREPORT_TEXT_MAX * 2];   /* the one line (no "flywheel: " prefix) */
};

/* Find the last "N processes: ..." summary in Bazel's stderr.  Returns 0
 * (ret->found says whether there was one). */
int buildreport_parse_summary(const char *text, size_t len, struct buildreport_counts *ret);

void buildreport_build(const struct buildreport_input *in, struct buildreport *ret);

/* flywheel-status/1 JSON text (malloc'd, ends in a newline); NULL on OOM. */
char *buildreport_json(const struct buildreport_input *in, const struct buildreport *r);

#endif
