/* stage.h - parallel, verified staging of manifest inputs into distdirs and
 * Bazel's repository cache (libcurl multi, OpenSSL EVP SHA-256).
 *
 * Guarantees:
 *  - nothing unverified ever appears under a final name: downloads go to an
 *    O_EXCL|O_NOFOLLOW temp file in the destination directory, are hashed while
 *    streaming, fsync'd and renamed with RENAME_NOREPLACE;
 *  - a body longer than the pinned size is cut off at once; low-speed limit,
 *    per-input deadline, https->http redirects refused, mirrors tried in order;
 *  - a symlink or a foreign file at a destination is never followed or
 *    replaced (opened relative to directory fds with O_NOFOLLOW);
 *  - an advisory lock per destination directory (flock on .flywheel.lock,
 *    taken in a fixed order) makes concurrent stagers cooperate;
 *  - verification records (stagecheck.h) let a warm run only stat.
 * Layout: <distdir>/<name>, <repo_cache>/content_addressable/sha256/<hex>/file
 * and, for Bazel 7+, an empty id-<sha256(rule URLs joined by ' ')> beside it.
 */
#ifndef FLYWHEEL_STAGE_H
#define FLYWHEEL_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"
#include "flywheel/manifest.h"

#define STAGE_CONCURRENCY_DEFAULT 8u
#define STAGE_CONCURRENCY_MAX 64u

struct stage_progress {
	size_t done, total;           /* inputs finished / to fetch */
	uint64_t bytes, bytes_total;  /* bytes received / to fetch */
	uint64_t elapsed_ns;
	bool final;                   /* last call */
};

struct stage_opts {
	const char *const *distdirs;
	size_t n_distdirs;
	const char *repo_cache;        /* NULL: none */
	bool offline;                  /* use only what is on disk */
	bool verify;                   /* re-hash every existing file (ignore records) */
	bool canonical_ids;            /* write Bazel 7+ id-<hex> markers in the repository cache */
	bool stage_deferred;           /* also stage "deferred" inputs (failures are warnings) */
	unsigned concurrency;          /* 0: STAGE_CONCURRENCY_DEFAULT */
	uint32_t low_speed_bytes;      /* 0: 1024 bytes/s ... */
	unsigned low_speed_secs;       /* ... for 0: 30 s */
	unsigned input_deadline_secs;  /* 0: 900 s per input, all mirrors */
	unsigned lock_timeout_secs;    /* 0: 900 s */
	const char *ca_file;           /* NULL: system CAs */
	/* Verification records: both NULL means none are read or written. */
	const char *record_path;
	const char *record_identity;
	int64_t expires;               /* manifest expiry, copied into the record */
	bool signed_;                  /* the manifest was signature-verified */
	void (*progress)(const struct stage_progress *p, void *userdata);
	void *userdata;
};

enum stage_state {
	STAGE_PENDING,
	STAGE_PRESENT, /* already in place and verified (or recorded) */
	STAGE_PLACED,  /* verified copy on disk, linked/copied to the missing destinations */
	STAGE_FETCHED, /* downloaded and verified */
	STAGE_MISSING, /* --offline and not on disk */
	STAGE_FAILED,
	STAGE_SKIPPED, /* candidate (or deferred without stage_deferred) */
};

struct stage_item {
	const struct manifest_input *in;
	enum stage_state state;
	char *url;   /* the URL that verified (FETCHED) */
	char *error; /* FAILED: every reason, "; "-joined, per mirror */
	int local_errno; /* FAILED on the local filesystem (ENOSPC, EROFS, ...), else 0 */
	uint64_t bytes;
};

struct stage_result {
	struct stage_item *items; /* one per manifest input, manifest order */
	size_t n_items;
	size_t n[STAGE_SKIPPED + 1]; /* count per state */
	uint64_t bytes_fetched;
	uint64_t elapsed_ns;
};

const char *stage_state_name(enum stage_state s);
void stage_result_release(struct stage_result *r);

/* Stage every required (and optionally deferred) input of m.  Returns 0 when
 * every required input is in place in every destination; otherwise -1 with err
 * naming the first failure (and ret listing all).  ret is filled either way
 * (release it).  The manifest must already be accepted (sign_accept_manifest). */
int stage_run(const struct manifest *m, const struct stage_opts *o, struct stage_result *ret,
	      struct fw_error *err);

/* Download url into fd (truncated first; -1: only hash), hashing while streaming; at most
 * max_bytes (-EFBIG beyond).  For `lock`. */
int stage_fetch_url(const char *url, uint64_t max_bytes, int fd, const char *ca_file,
		    char ret_sha256[static 65], uint64_t *ret_size, struct fw_error *err);

/* SHA-256 of an open file from its start (streaming, OpenSSL EVP). */
int stage_hash_fd(int fd, char ret_sha256[static 65], uint64_t *ret_size);

/* Hex SHA-256 of urls joined by single spaces: the Bazel 7+ canonical id. */
int stage_canonical_id(const struct strv *urls, char ret_hex[static 65]);

/* Command handlers (lock.c). argv[0] is the command name. */
int cmd_stage(int argc, char **argv);
int cmd_lock(int argc, char **argv);

#endif
