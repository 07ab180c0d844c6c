/* bazel_version.h - Bazel versions and the one version table.
 *
 * Every version-dependent decision in flywheel asks this table; no other
 * module compares version numbers.
 */
#ifndef FLYWHEEL_BAZEL_VERSION_H
#define FLYWHEEL_BAZEL_VERSION_H

#include <stdbool.h>
#include <stddef.h>

#include "flywheel/error.h"

/* Where the version flywheel uses came from (shown by explain and doctor). */
enum bv_source {
	BV_SRC_NONE,       /* nothing known: oldest spellings */
	BV_SRC_BINARY,     /* `bazel --version` of the real binary */
	BV_SRC_BAZELISK,   /* resolved the way Bazelisk does (USE_BAZEL_VERSION, .bazeliskrc, .bazelversion) */
	BV_SRC_CONFIG,     /* bazel_version / FLYWHEEL_BAZEL_VERSION, binary reported none */
};

struct bazel_version {
	bool known;        /* false: treat as the oldest version in the table */
	unsigned major, minor, patch;
	char pre[32];      /* "rc2", "pre.20240101.1", "" for a release */
	char raw[128];     /* the text it was parsed from, for messages */
	enum bv_source source;
	char origin[256];  /* e.g. "/usr/bin/bazel --version", "/w/.bazelversion" */
};

/* Capabilities whose presence or spelling depends on the version. */
enum bazel_cap {
	CAP_CREDENTIAL_HELPER,           /* --experimental_credential_helper / --credential_helper */
	CAP_CREDENTIAL_HELPER_DOWNLOADS, /* helper also used for repository downloads */
	CAP_CREDENTIAL_HELPER_EXPIRES,   /* helper's "expires" honoured */
	CAP_INJECT_REPOSITORY,           /* --inject_repository (else --override_repository) */
	CAP_OVERRIDE_REPOSITORY,         /* --override_repository */
	CAP_DOWNLOADER_CONFIG,           /* --experimental_downloader_config / --downloader_config */
	CAP_EXECLOG_JSON,                /* --execution_log_json_file */
	CAP_EXECLOG_COMPACT,             /* --experimental_execution_log_compact_file / --execution_log_compact_file */
	CAP_EXECLOG_ONE_FORMAT,          /* only one execution log format per invocation */
	CAP_REMOTE_CACHE_FALLBACK,       /* --incompatible_remote_local_fallback_for_remote_cache */
	CAP_CIRCUIT_BREAKER,             /* --experimental_circuit_breaker_strategy */
	CAP_REPO_CANONICAL_ID,           /* repository cache hits need the id-<sha256(urls)> marker */
	CAP_EXECLOG_CACHEHIT_KEY,        /* JSON execution log names the hit "cacheHit" (else "remoteCacheHit") */
	CAP_REMOTE_CACHE_CHECK_BACKGROUND, /* unreachable cache at start: error line, then silent local build */
	CAP_REPOSITORY_DISABLE_DOWNLOAD, /* --experimental_repository_disable_download / --repository_disable_download (added by argv helper) */
	CAP_REMOTE_CACHE_FAIL_AT_ACTION, /* unreachable cache: the build fails at the first action (added by argv helper) */
	CAP__MAX,
};

/* Parse the output of `bazel --version` (or a bare version string):
 * "bazel 7.4.1", "bazel 8.0.0rc2", "bazel 9.1.0", "7.4.1", "bazel no_version",
 * "development version".  Unknown forms give known=false and return 0;
 * only an over-long or non-text input is an error (-EINVAL). */
int bazel_version_parse(const char *text, struct bazel_version *ret);

/* Compare a against b by major.minor.patch; a pre-release sorts before its release. */
int bazel_version_cmp(const struct bazel_version *a, const struct bazel_version *b);

/* Whether version v has capability cap (unknown versions: the oldest row). */
bool bazel_has(const struct bazel_version *v, enum bazel_cap cap);

/* The flag spelling for cap at version v without leading "--" and without a
 * value (e.g. "credential_helper"), or NULL when v does not have it. */
const char *bazel_flag(const struct bazel_version *v, enum bazel_cap cap);

/* Human-readable name of a capability (for explain, doctor, COMPATIBILITY.md). */
const char *bazel_cap_name(enum bazel_cap cap);

/* "7.4.1 (from /usr/bin/bazel --version)" and the like. */
void bazel_version_describe(const struct bazel_version *v, char *buf, size_t len);

/* Added by the argv helper. */

/* The spelling of the row that applies to v even when that row says "absent"
 * (e.g. "remoteCacheHit" for CAP_EXECLOG_CACHEHIT_KEY before 7.0); NULL when
 * no row has one. */
const char *bazel_spelling(const struct bazel_version *v, enum bazel_cap cap);

/* One row of the version table: cap applies from min (inclusive) up to max
 * (exclusive; max_major < 0 means no upper bound).  present=false rows record
 * what older versions do instead (e.g. the old cache-hit key). */
struct bazel_cap_row {
	enum bazel_cap cap;
	int min_major, min_minor, min_patch;
	int max_major, max_minor, max_patch;
	bool present;
	const char *spelling;
	const char *source;
};

/* The table itself, for explain, doctor and docs/COMPATIBILITY.md. */
const struct bazel_cap_row *bazel_cap_table(size_t *ret_n);

/* docs/COMPATIBILITY.md as generated from the table; *ret is malloc'd. */
int bazel_compat_markdown(char **ret);

/* Resolve the version the way Bazelisk would, without a download and
 * without running it: USE_BAZEL_VERSION in envp, then USE_BAZEL_VERSION= in
 * <workspace>/.bazeliskrc, then $HOME/.bazeliskrc, then .bazelversion searched
 * upward from cwd (NULL: the process's cwd), stopping at the workspace root.
 * A fork prefix ("org/7.4.1") is stripped.  Forms that need a download
 * ("latest", "latest-1", "7.x", "last_green", "rolling", ...) give
 * known=false with origin saying so.  workspace may be NULL.  Returns 0
 * (known or not), or -errno on an unreadable file (ret untouched). */
int bazelisk_resolve(const char *workspace, const char *cwd, char *const *envp,
		     struct bazel_version *ret);

#endif
