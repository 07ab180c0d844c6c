/* auth.h - credentials for the remote cache and executor (core: no libcurl).
 *
 * Sources: a token file (regular, owned by the caller, mode 0600 or 0400,
 * checked on the open fd, O_NOFOLLOW, at most AUTH_TOKEN_MAX bytes), a token
 * value, "Name=Value" header lines (Bazel's --remote_header form; "Name: Value"
 * is accepted too) and an external credential helper (Bazel's protocol).
 *
 * Every header value lives in sodium_malloc memory and is wiped on release;
 * nothing in this module formats a value into a message.
 * Lifecycle: auth_init(), auth_add*(), auth_release() (always).
 */
#ifndef FLYWHEEL_AUTH_H
#define FLYWHEEL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"

#define AUTH_TOKEN_MAX 8192        /* bytes in a token file or token value */
#define AUTH_HEADERS_MAX 32
#define AUTH_NAME_MAX 128          /* header name */
#define AUTH_VALUE_MAX 8192        /* header value */
#define AUTH_HELPER_OUTPUT_MAX (64u * 1024u)
#define AUTH_HELPER_TIMEOUT_MS 10000 /* Bazel's own default helper timeout */
#define AUTH_IDENTITY_HEX 32       /* hex chars of a credential identity */
#define AUTH_RCFILE_NAME "remote-headers.bazelrc"

/* Which remote a header is for (Bazel: --remote_header, _cache_header, _exec_header). */
enum auth_scope { AUTH_SCOPE_ALL, AUTH_SCOPE_CACHE, AUTH_SCOPE_EXEC };

struct auth_header {
	char *name;      /* plain malloc: names are not secret */
	char *value;     /* sodium_malloc, NUL-terminated */
	enum auth_scope scope;
};

struct auth {
	struct auth_header h[AUTH_HEADERS_MAX];
	size_t n;
};

void auth_init(struct auth *a);
/* Wipes and frees every value.  Safe on an initialised, empty struct. */
void auth_release(struct auth *a);

/* Add a header (copies both).  Names are HTTP tokens; values are printable
 * (no control characters).  err's subject is `subject`, never the value. */
int auth_add(struct auth *a, const char *name, const char *value, enum auth_scope scope,
	     const char *subject, struct fw_error *err);
/* "Name=Value" or "Name: Value". */
int auth_add_header_line(struct auth *a, const char *line, enum auth_scope scope,
			 const char *subject, struct fw_error *err);
/* Adds "Authorization: Bearer <token>" (scope all). */
int auth_add_bearer(struct auth *a, const char *token, const char *subject, struct fw_error *err);

/* Read a token file with the checks above; trailing whitespace is dropped.
 * *ret is sodium_malloc'ed: free it with auth_secret_free(). Errors: class auth,
 * exit 77 (permissions, owner, symlink), or config 78 (missing, empty, too big). */
int auth_read_token_file(const char *path, char **ret, struct fw_error *err);
/* auth_read_token_file + auth_add_bearer. */
int auth_add_token_file(struct auth *a, const char *path, struct fw_error *err);
void auth_secret_free(char *secret);

/* Run `helper get` with {"uri": uri} on stdin and add the headers it prints
 * ({"headers": {"Name": ["value", ...]}}; several values are joined with ", ").
 * Bounded by timeout_ms and AUTH_HELPER_OUTPUT_MAX; the helper is killed when late. */
int auth_add_from_helper(struct auth *a, const char *helper, const char *uri, uint64_t timeout_ms,
			 struct fw_error *err);

/* Whether header h is sent to a remote in role (AUTH_SCOPE_CACHE or _EXEC). */
bool auth_header_applies(const struct auth_header *h, enum auth_scope role);
/* Count of headers sent to role. */
size_t auth_count_for(const struct auth *a, enum auth_scope role);

/* A stable identity of the credentials sent to role: a keyed BLAKE2b hash of
 * the names and values, hex, AUTH_IDENTITY_HEX chars; "none" without headers.
 * It identifies, it does not reveal (the hash is one-way and truncated). */
void auth_identity(const struct auth *a, enum auth_scope role, char ret[AUTH_IDENTITY_HEX + 1]);

/* For Bazel without a credential-helper protocol: write every header as
 * `build "--remote_header=Name=Value"` (cache/exec scopes: --remote_cache_header,
 * --remote_exec_header) to dir/AUTH_RCFILE_NAME, mode 0600, atomically.  dir is
 * created 0700 when missing and must be owned by the caller; group/other bits on
 * it are removed.  Values holding '"', '\\' or control characters cannot be quoted
 * for Bazel's rc parser and are refused.  *ret_path is malloc'ed. */
int auth_write_rcfile(const char *dir, const struct auth *a, char **ret_path, struct fw_error *err);

#endif
