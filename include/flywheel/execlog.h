/* execlog.h - counting spawns in Bazel's execution logs and build event files.
 *
 * Two log formats, both read as streams with bounded memory:
 *   JSON     --execution_log_json_file: concatenated JSON objects, one per spawn,
 *            with "runner" and "remoteCacheHit" (Bazel < 7) or "cacheHit" (7+).
 *   compact  --execution_log_compact_file (7.1+): a zstd stream of varint
 *            length-delimited tools.protos.ExecLogEntry messages; entries refer
 *            to earlier entries by id, ids are not increasing.
 *
 * Counting rule: only a spawn present in the log counts, and only a spawn whose
 * runner is "remote" without a cache hit counts as remote execution.  A spawn
 * missing from the log (action-cache hits are never logged; a log cut short;
 * a reference to an id that never appeared) is inconclusive, never remote.
 */
#ifndef FLYWHEEL_EXECLOG_H
#define FLYWHEEL_EXECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"

enum execlog_format {
	EXECLOG_JSON,
	EXECLOG_COMPACT,
};

enum execlog_class {
	EXECLOG_REMOTE,           /* executed by the remote executor */
	EXECLOG_REMOTE_CACHE_HIT, /* answered by the remote cache */
	EXECLOG_DISK_CACHE_HIT,   /* answered by --disk_cache */
	EXECLOG_LOCAL,            /* linux-sandbox, processwrapper-sandbox, local, worker, ... */
	EXECLOG_OTHER,            /* empty or unknown runner */
	EXECLOG_CLASS__MAX,
};

/* Largest single compact-log entry accepted (Bazel's are far smaller). */
#define EXECLOG_ENTRY_MAX (16u * 1024u * 1024u)
/* Ids above this are not tracked for dangling references (bitmap bound, 8 MiB). */
#define EXECLOG_ID_TRACK_MAX (64u * 1024u * 1024u)
/* A runner name longer than this is kept cut and classified as other. */
#define EXECLOG_RUNNER_MAX 96

struct execlog_counts {
	uint64_t spawns;                       /* spawns in the log */
	uint64_t by_class[EXECLOG_CLASS__MAX]; /* spawns by runner class */
	uint64_t failed;                       /* spawns with a status or non-zero exit code */
	uint64_t entries;                      /* compact: every entry; JSON: = spawns */
	uint64_t dangling_refs;                /* compact: references to ids not seen before */
	uint64_t duplicate_ids;                /* compact: an id used twice */
	uint64_t bytes;                        /* decompressed bytes read */
};

const char *execlog_format_name(enum execlog_format f);
/* "remote", "remote cache hit", "disk cache hit", "local", "other". */
const char *execlog_class_name(enum execlog_class c);
/* Class of a spawn from its runner name (len bytes, need not be NUL-terminated)
 * and its cache-hit flag. */
enum execlog_class execlog_classify(const char *runner, size_t len, bool cache_hit);

/* Guess the format from the first bytes of a file (zstd magic: compact). */
int execlog_detect_format(const char *path, enum execlog_format *ret, struct fw_error *err);

/* Read a whole log file and count its spawns.  *ret is filled on success and
 * left untouched on failure.  Errors: unreadable file (class internal, exit
 * 74), malformed or truncated log (exit 65). */
int execlog_read_file(const char *path, enum execlog_format fmt, struct execlog_counts *ret,
		      struct fw_error *err);
/* The same on an open descriptor (not closed); name is used in messages. */
int execlog_read_fd(int fd, const char *name, enum execlog_format fmt, struct execlog_counts *ret,
		    struct fw_error *err);

/* Incremental JSON scanner, for callers that already hold the bytes (tests,
 * fuzzers).  Lifecycle: execlog_json_new, feed any number of chunks (split
 * anywhere), execlog_json_finish, execlog_json_free (accepts NULL).  feed and
 * finish return 0 or -EBADMSG on malformed input. */
struct execlog_json;
struct execlog_json *execlog_json_new(void);
int execlog_json_feed(struct execlog_json *s, const void *data, size_t len);
int execlog_json_finish(struct execlog_json *s, struct execlog_counts *ret);
void execlog_json_free(struct execlog_json *s);

/* Incremental compact decoder over already-decompressed bytes (the varint
 * length-delimited ExecLogEntry stream).  Same lifecycle and errors as above. */
struct execlog_compact;
struct execlog_compact *execlog_compact_new(void);
int execlog_compact_feed(struct execlog_compact *s, const void *data, size_t len);
int execlog_compact_finish(struct execlog_compact *s, struct execlog_counts *ret);
void execlog_compact_free(struct execlog_compact *s);

/* ---- build event JSON file (--build_event_json_file) ---------------------- */

#define BEP_RUNNERS_MAX 32
#define BEP_RUNNER_NAME_MAX 64
#define BEP_LINE_MAX (32u * 1024u * 1024u)

struct bep_runner {
	char name[BEP_RUNNER_NAME_MAX];
	uint64_t count;
};

struct bep_summary {
	bool has_runner_count;      /* BuildMetrics.ActionSummary.runner_count present (Bazel 5+) */
	uint64_t total;             /* runner "total" */
	uint64_t internal;          /* runner "internal" (not spawns) */
	struct bep_runner runners[BEP_RUNNERS_MAX];
	size_t n_runners;           /* every other runner, in file order */
	uint64_t by_class[EXECLOG_CLASS__MAX];
	bool has_finished;          /* a BuildFinished event was seen */
	bool success;               /* finished.overallSuccess */
	int exit_code;              /* finished.exitCode.code (0 when absent) */
	uint64_t fetches;           /* fetch events (downloads Bazel made itself) */
};

/* Read the build event JSON file: runner_count, the finished event, fetches.
 * *ret is filled on success. */
int bep_read_summary(const char *path, struct bep_summary *ret, struct fw_error *err);
/* Parse one build event (one line of the file) into s; unknown events are
 * ignored.  Returns 0, or -EBADMSG when the line is not a JSON object. */
int bep_summary_add_line(struct bep_summary *s, const char *line, size_t len);

/* Compare the log's counts with the build events' runner_count.  Writes one
 * "class: log N, build events M" item per disagreement, "; "-separated, into
 * buf and returns their number (0 when they agree or the file had no
 * runner_count). */
int execlog_crosscheck(const struct execlog_counts *log, const struct bep_summary *bep, char *buf,
		       size_t len);

#endif
