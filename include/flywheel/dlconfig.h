/* dlconfig.h - Bazel downloader configs: the one flywheel writes from
 * flywheel.ini [mirrors], and the check of one a user wrote (core: the
 * launcher runs the check before Bazel starts; no network, no JSON).
 *
 * Bazel's format (UrlRewriterConfig, 4.2.3 and later), one directive a line:
 *   rewrite REGEX REPLACEMENT   REGEX (Java syntax) must match the whole URL
 *                               without its scheme; $N in REPLACEMENT are its
 *                               groups; a REPLACEMENT without http:// or https://
 *                               keeps the original URL's scheme
 *   allow HOST                  HOST and its subdomains are never blocked
 *   block HOST                  HOST and its subdomains are dropped; `*` blocks
 *                               every host (a wildcard, not a regex)
 *   all_blocked_message TEXT    appended to Bazel's "blocked all URLs" error
 *   # comment                   on its own line
 *
 * flywheel.ini [mirrors] (pairs in struct config.mirrors):
 *   UPSTREAM = MIRROR-URL...    UPSTREAM is a host or host/path prefix without a
 *                               scheme (upstream.example.com/dl); each MIRROR-URL
 *                               (http or https) replaces that prefix, in order
 *   allow = HOST...             more hosts Bazel may download from
 *   downloader_config = FILE    a hand-written config (checked, not generated)
 * Every other host is blocked.
 */
#ifndef FLYWHEEL_DLCONFIG_H
#define FLYWHEEL_DLCONFIG_H

#include <stddef.h>

#include "flywheel/config.h"
#include "flywheel/error.h"

#define DLCONFIG_MAX_BYTES (1024u * 1024u)
#define DLCONFIG_LINE_MAX 4096u
#define DLCONFIG_PROBLEMS_MAX 64u
#define DLCONFIG_FILE_NAME "downloader.cfg"

/* Check the downloader config at path before Bazel reads it.  Returns 0 when
 * it has no problem; otherwise -1 with err describing the first one (class
 * config, exit 78, subject "FILE:LINE").  Problems: a rewrite whose target host
 * is blocked and not allowed (Bazel drops it silently), a malformed
 * replacement ($N beyond the pattern's groups, a lone $ or \: Bazel exits 37
 * without a message), an unbalanced pattern, `block` with a regex instead of a
 * host (`block .*`), a rewrite to plain http (downgrades https URLs), an
 * unknown directive or wrong argument count.  Patterns are compiled with POSIX
 * regcomp(REG_EXTENDED), an approximation of Java's syntax: Java-only
 * constructs ((?i), \d, lazy quantifiers) are reported as unbalanced only when
 * POSIX refuses them. */
int dlconfig_check(const char *path, struct fw_error *err);

/* The same check collecting every problem: ret_problems[0..*ret_n) (at most
 * max) are filled, one per problem.  Returns 0 when there is none, -1 when
 * there are problems (ret_problems filled) or the file cannot be read (err).
 * dlconfig_check_buf checks text already read (origin names it). */
int dlconfig_check_all(const char *path, struct fw_error *ret_problems, size_t max, size_t *ret_n,
		       struct fw_error *err);
int dlconfig_check_buf(const char *data, size_t len, const char *origin, struct fw_error *ret_problems,
		       size_t max, size_t *ret_n);

/* Render the downloader config for c->mirrors into *ret (caller frees):
 * deterministic, a rewrite per (upstream, mirror) pair, `allow` for every
 * mirror host and listed host, then `block *` and a message naming the fix
 * (`flywheel lock URL`).  A mirror URL with https:// is written with its
 * scheme; an http:// mirror is written without one, so Bazel keeps the
 * original scheme and never downgrades an https download.  Returns 0 with
 * *ret NULL when [mirrors] has no routing entry.  Errors: class config, exit
 * 78, subject the [mirrors] entry's origin. */
int dlconfig_render(const struct config *c, char **ret, struct fw_error *err);

/* Render and write <dir>/downloader.cfg (dir created 0700, file 0600, written
 * atomically); *ret_path is the file (caller frees), NULL when [mirrors] has no
 * routing entry.  The lead passes it as plan->downloader_config. */
int dlconfig_write(const struct config *c, const char *dir, char **ret_path, struct fw_error *err);

#endif
