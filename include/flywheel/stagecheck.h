/* stagecheck.h - verification records for staged inputs, and the launcher's
 * stat-only warm check (core: no JSON, no hashing, no network).
 *
 * `flywheel stage` (stage.c) writes one record file per (manifest, signature,
 * destinations) under $XDG_CACHE_HOME/flywheel/staged/ (else ~/.cache/...),
 * mode 0600.  It holds:
 *
 *   flywheel-staged/1
 *   id <identity: manifest and signature dev/ino/size/mtime/ctime, destinations, markers>
 *   expires <seconds since the epoch>
 *   signed <0|1>
 *   f <required 0|1> <sha256> <dev> <ino> <size> <mtime_ns> <ctime_ns> <absolute path>
 *   ...
 *   complete <0|1>
 *
 * A file line says: the file at path, with exactly this stat identity, was
 * verified to have this SHA-256.  `flywheel stage` trusts a line only while
 * mtime and ctime match too (ctime cannot be set by a user), else it
 * re-hashes.  The launcher's warm check trusts placement (device, inode,
 * size): Bazel touches the cache entries it uses and checks their SHA-256
 * itself on every hit.  "complete 1" means every required input
 * was in place in every destination (and its canonical-id marker, when asked).
 *
 * The warm path (stagecheck_warm) trusts a record only while the manifest and
 * its signature are the very files that were verified (same stat identity), the
 * manifest has not expired, and every recorded file still matches: about 2
 * stat() calls per input and destination.  Anything else answers "not staged"
 * and the launcher runs the real stager, which reports the reason.
 */
#ifndef FLYWHEEL_STAGECHECK_H
#define FLYWHEEL_STAGECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "flywheel/error.h"

#define STAGECHECK_RECORD_MAX (64u * 1024u * 1024u)
#define STAGECHECK_DISTDIRS_MAX 16u

struct stagecheck_opts {
	const char *signature;            /* NULL: <manifest>.sig */
	const char *const *distdirs;
	size_t n_distdirs;
	const char *repo_cache;           /* NULL: none */
	bool canonical_ids;               /* records include id-<hex> markers (Bazel 7+) */
	bool allow_unsigned;              /* an unsigned record counts */
	int64_t now;                      /* 0: time(NULL) */
	const char *record_dir;           /* NULL: $XDG_CACHE_HOME/flywheel/staged */
	const char *trust_id;             /* stagecheck_trust_id of the trusted keys, or NULL */
};

struct stagecheck_file {
	char *path;     /* absolute */
	char sha256[65];
	bool required;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct stagecheck_record {
	char *identity;  /* the "id" line's value */
	int64_t expires;
	bool signed_;
	bool complete;
	struct stagecheck_file *files;
	size_t n_files, cap;
};

void stagecheck_record_init(struct stagecheck_record *r);
void stagecheck_record_release(struct stagecheck_record *r);

/* An identity of the trusted keys (each entry "name=value" as configured, or a
 * --trust argument; a value naming a file counts with that file's stat
 * identity): a record made under other keys is not trusted.  ret: 16 hex. */
int stagecheck_trust_id(const char *const *entries, size_t n, char ret[17]);

/* The record file path and the identity text of manifest + o, computed from
 * stat() of the manifest and signature (a missing signature is "none").
 * Returns -ENOENT when the manifest or a destination directory does not exist. */
int stagecheck_identity(const char *manifest, const struct stagecheck_opts *o, char **ret_record_path,
			char **ret_identity);

/* Read a record file (any identity). -ENOENT when there is none; -EBADMSG when corrupt. */
int stagecheck_record_read(const char *record_path, struct stagecheck_record *ret);
/* Write atomically, mode 0600 (creates the directory 0700). */
int stagecheck_record_write(const char *record_path, const struct stagecheck_record *r);

/* Append a file line (path copied); st is the verified file's fstat. */
int stagecheck_record_add(struct stagecheck_record *r, const char *path, const char *sha256,
			  bool required, const struct stat *st);

/* Whether st (of the file at path) is the one recorded as verified with sha256. */
bool stagecheck_record_matches(const struct stagecheck_record *r, const char *path,
			       const char *sha256, const struct stat *st);

/* Whether the file at f->path is still the recorded file: same device, inode
 * and size, a regular file (lstat: a symlink never matches).  Times are not
 * compared: Bazel touches the entries it uses; it verifies their SHA-256
 * itself on every hit. */
bool stagecheck_file_fresh(const struct stagecheck_file *f);

/* The warm check.  *ret_all_staged is true only when a complete record for
 * exactly this manifest, signature and destination set exists, the manifest
 * has not expired, and every recorded file is unchanged.  Returns 0 (whatever
 * the answer) or -1 with err set on a usage problem (too many distdirs). */
int stagecheck_warm(const char *manifest, const struct stagecheck_opts *o, bool *ret_all_staged,
		    struct fw_error *err);

#endif
