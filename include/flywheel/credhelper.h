/* credhelper.h - `flywheel credential-helper get`: Bazel's credential-helper protocol.
 *
 * Bazel (5.4+ experimental flag, 7+ --credential_helper) runs `HELPER get`,
 * writes {"uri": "<url>"} to its stdin and reads {"headers": {"Name": ["v"]}}
 * from its stdout.  flywheel answers with the headers its configuration holds
 * (token, token file, header lines, an external helper) — but only for URIs
 * whose host and port are a configured cache or executor: credentials never
 * go to any other host (Bazel 6.3+ also asks for repository downloads).
 * Core module: used by the launcher, no libcurl.
 */
#ifndef FLYWHEEL_CREDHELPER_H
#define FLYWHEEL_CREDHELPER_H

#include <stddef.h>

#include "flywheel/auth.h"
#include "flywheel/config.h"
#include "flywheel/error.h"
#include "flywheel/verdict.h"

#define CREDHELPER_REQUEST_MAX (64u * 1024u)
#define CREDHELPER_URI_MAX 4096

/* Gather the credentials configured in c into a (auth_init'ed by the caller):
 * remote.header (all), cache_header (cache), exec_header (exec), remote.token,
 * remote.token_file (else the default token file when present), and the external
 * helper remote.credential_helper, asked for uri (NULL: the first configured
 * endpoint).  Errors come from auth.h (class auth or config). */
int auth_load_config(const struct config *c, const char *uri, struct auth *a, struct fw_error *err);

/* The verdict key for url as the launcher and the probe compute it: the
 * credential identity covers the configured headers, token and token file;
 * an external helper counts by its path (it is not run: the warm path stays
 * cheap).  purpose: VERDICT_FOR_* bits; role: AUTH_SCOPE_CACHE or _EXEC. */
int auth_verdict_key(const struct config *c, const char *url, const char *instance, unsigned purpose,
		     enum auth_scope role, char ret[VERDICT_KEY_HEX + 1], struct fw_error *err);

/* Parse a request {"uri": "..."} (at most CREDHELPER_REQUEST_MAX bytes).
 * *ret_uri malloc'ed.  -EINVAL on anything else. */
int credhelper_parse_request(const char *json, size_t len, char **ret_uri);

/* Which remote roles (bit 1 cache, bit 2 executor) the uri's scheme://host:port
 * belongs to, among the endpoints configured in c; 0 for any other host. */
unsigned credhelper_uri_roles(const struct config *c, const char *uri);

/* The response JSON for the headers of a that apply to roles (0: none, "{}"
 * headers).  *ret is sodium_malloc'ed (it holds secrets): free it with
 * auth_secret_free(). */
int credhelper_response(const struct auth *a, unsigned roles, char **ret, size_t *ret_len);

/* The command: argv[0] "credential-helper", argv[1] "get".  Reads stdin,
 * writes the response on stdout; errors on stderr through the reporter.
 * Returns the exit code (0, 64 usage, 65 bad request, 77/78 credentials). */
int cmd_credential_helper(int argc, char **argv);

#endif
