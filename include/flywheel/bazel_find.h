/* bazel_find.h - find the real Bazel and learn its version.
 *
 * Search order: BAZEL_REAL, then BAZEL_BIN (environment, else the configured
 * bazel_bin), then `bazelisk`, then `bazel` on PATH.  A candidate that is the
 * running flywheel (same st_dev and st_ino as /proc/self/exe) is skipped, so a
 * `bazel -> flywheel` symlink first on PATH cannot loop.
 */
#ifndef FLYWHEEL_BAZEL_FIND_H
#define FLYWHEEL_BAZEL_FIND_H

#include <stdbool.h>

#include "flywheel/bazel_version.h"
#include "flywheel/error.h"
#include "flywheel/util.h"

#define BAZEL_VERSION_TIMEOUT_MS 5000  /* `bazel --version` may take this long */
#define BAZEL_VERSION_OUTPUT_MAX 4096  /* bytes of its stdout kept */
#define BAZEL_VERSION_CACHE_MAX (64 * 1024)
#define BAZEL_VERSION_CACHE_ENTRIES 32
#define BAZEL_FIND_SEARCHED_MAX 256

struct bazel_found {
	char *path;            /* absolute path of the real Bazel (owned) */
	const char *via;       /* "BAZEL_REAL", "BAZEL_BIN", "bazel_bin (config)", "PATH" */
	bool is_bazelisk;      /* basename contains "bazelisk", or it is a Bazelisk binary */
	struct strv searched;  /* every candidate looked at and why it was not taken */
};

void bazel_found_init(struct bazel_found *b);
void bazel_found_release(struct bazel_found *b);

/* Find the real Bazel.  envp is the environment to read (BAZEL_REAL,
 * BAZEL_BIN, PATH); config_bazel_bin is the configured bazel_bin or NULL.
 * A name without '/' is looked up on PATH.  Errors: an explicitly named
 * Bazel (BAZEL_REAL, BAZEL_BIN, bazel_bin) that does not exist (class
 * bazel-not-found, exit 127) or cannot be executed (exit 126); nothing found
 * (exit 127).  ret->searched is filled in either case (ret must be
 * initialised); ret->path only on success. */
int bazel_find(char *const *envp, const char *config_bazel_bin, struct bazel_found *ret,
	       struct fw_error *err);

/* The version of b.  Bazelisk is never run: its version is resolved as
 * Bazelisk would (bazelisk_resolve, workspace may be NULL).  A real Bazel is
 * run once as `<path> --version` (no shell, BAZEL_VERSION_TIMEOUT_MS,
 * BAZEL_VERSION_OUTPUT_MAX) and the answer cached by path, device, inode,
 * size and mtime in cache_path (NULL: $XDG_CACHE_HOME/flywheel/bazel-version,
 * else ~/.cache/...; directory 0700, file written atomically), so the warm
 * path runs nothing.  A `--version` answer starting "Bazelisk" sets
 * b->is_bazelisk.  When the version stays unknown, config_version (the
 * configured bazel_version, may be NULL) is used with source BV_SRC_CONFIG,
 * else known=false with BV_SRC_NONE.  Returns 0; a failure to run or to
 * cache is not an error (the version is then unknown, origin says why). */
int bazel_detect_version(struct bazel_found *b, const char *workspace, char *const *envp,
			 const char *config_version, const char *cache_path,
			 struct bazel_version *ret);

/* Environment changes needed to exec b: for Bazelisk,
 * BAZELISK_SKIP_WRAPPER=true (so a workspace's tools/bazel, which may be
 * flywheel, is not run again).  Replaces an existing entry in env (a vector of
 * "K=V" strings the caller will pass to execve).  0 or -ENOMEM. */
int bazel_exec_env(const struct bazel_found *b, struct strv *env);

#endif
