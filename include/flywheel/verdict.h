/* verdict.h - remembered probe results, so the warm path makes no network call.
 *
 * A verdict is keyed by endpoint URL, instance name, purpose (what the run
 * needs of the remote: cache read, upload, execution) and credential identity
 * (auth_identity(): a one-way hash, never the secret).  Verdicts live in
 * $XDG_CACHE_HOME/flywheel/ (else ~/.cache/flywheel/), a 0700 directory, one
 * 0600 file per key in a tiny line format (no JSON on the warm path):
 *
 *   flywheel-verdict 1
 *   state healthy|failed
 *   stored <unix seconds>
 *   latency_us <n>
 *   class <fw_class name>
 *   url <endpoint>
 *   what <text>
 *   fix <text>
 *
 * Healthy verdicts are used for the configured TTL (core.verdict_ttl, default
 * 300 s), failures for VERDICT_FAILED_TTL.  Files not owned by the caller, or
 * writable by others, are ignored.  Core module: no network, no JSON.
 */
#ifndef FLYWHEEL_VERDICT_H
#define FLYWHEEL_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "flywheel/error.h"

#define VERDICT_HEALTHY_TTL 300
#define VERDICT_FAILED_TTL 30
#define VERDICT_KEY_HEX 32
#define VERDICT_TEXT_MAX 400
#define VERDICT_FILE_MAX 4096

/* What the run needs of a remote (part of the key: a cache good for reading
 * may not be good for uploading). */
enum verdict_purpose {
	VERDICT_FOR_READ = 0,
	VERDICT_FOR_UPLOAD = 1u << 0,
	VERDICT_FOR_EXEC = 1u << 1,
};

enum verdict_state { VERDICT_MISS, VERDICT_HEALTHY, VERDICT_FAILED };

struct verdict {
	enum verdict_state state;
	enum fw_class cls;          /* FW_CLASS_NONE when healthy */
	int64_t stored;             /* unix seconds */
	uint32_t latency_us;
	char url[VERDICT_TEXT_MAX];
	char what[VERDICT_TEXT_MAX];
	char fix[VERDICT_TEXT_MAX];
};

/* Key for (url, instance or NULL, purpose bits, identity from auth_identity). */
void verdict_key(const char *url, const char *instance, unsigned purpose, const char *identity,
		 char ret[VERDICT_KEY_HEX + 1]);

/* The verdict directory: $XDG_CACHE_HOME/flywheel or $HOME/.cache/flywheel
 * (absolute XDG only).  envp NULL: environ.  *ret malloc'ed; -ENOENT when
 * neither is usable. */
int verdict_dir(char *const *envp, char **ret);

/* Look key up in dir.  Returns 1 and fills *ret on a fresh verdict (healthy
 * within healthy_ttl_s, failed within VERDICT_FAILED_TTL), 0 on a miss (none,
 * stale, unreadable, foreign or malformed file; ret->state = VERDICT_MISS).
 * now_s 0: the current time. Never fails: a broken cache is a miss. */
int verdict_lookup(const char *dir, const char *key, uint64_t healthy_ttl_s, int64_t now_s,
		   struct verdict *ret);

/* Store v under key in dir (dir created 0700, file 0600, atomic).  v->stored 0:
 * now.  Newlines in the texts are replaced by spaces. Returns 0 or fills err
 * (class disk). */
int verdict_store(const char *dir, const char *key, const struct verdict *v, struct fw_error *err);

/* Remove every verdict (after a credential change, or `probe --fresh`). */
int verdict_clear(const char *dir);

#endif
