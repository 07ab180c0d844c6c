/* narinfo.h - is the developer's Nix substituter usable and trustworthy?
 * (net module: libcurl for the fetches, libsodium for Ed25519).
 *
 * 1. nix.conf: `substituters` and `trusted-public-keys` (and their `extra-`
 *    forms, and the old names binary-caches / binary-cache-public-keys) from
 *    the files Nix reads, in Nix's order: $NIX_CONF_DIR/nix.conf (default
 *    /etc/nix/nix.conf), the user files ($XDG_CONFIG_DIRS/nix/nix.conf, then
 *    $XDG_CONFIG_HOME/nix/nix.conf, default ~/.config/nix/nix.conf; or
 *    $NIX_USER_CONF_FILES), then the text of $NIX_CONFIG.  `include` and
 *    `!include` are followed (NARINFO_INCLUDE_DEPTH_MAX deep).
 * 2. `<substituter>/nix-cache-info` must be served and its StoreDir must be
 *    the local store directory ($NIX_STORE_DIR, default /nix/store).
 * 3. One narinfo, `<substituter>/<hash>.narinfo`, is fetched and its `Sig:`
 *    lines verified: Ed25519 over the fingerprint
 *      1;<StorePath>;sha256:<nix32 NarHash>;<NarSize>;<References as full store paths, sorted, comma-separated>
 *    with a key from trusted-public-keys of the same name.  A narinfo signed
 *    only by keys nobody trusts fails (closed), like a bad signature.
 *
 * Modules never print: the outcome is a list of check lines that
 * `flywheel-net nix-check` and dev-attach print.
 */
#ifndef FLYWHEEL_NARINFO_H
#define FLYWHEEL_NARINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"
#include "flywheel/util.h"

#define NARINFO_CONF_MAX (256u * 1024u)      /* bytes of one nix.conf */
#define NARINFO_INCLUDE_DEPTH_MAX 4
#define NARINFO_SUBSTITUTERS_MAX 16
#define NARINFO_KEYS_MAX 64
#define NARINFO_BODY_MAX (256u * 1024u)      /* bytes of a narinfo or nix-cache-info */
#define NARINFO_REFS_MAX 8192
#define NARINFO_SIGS_MAX 16
#define NARINFO_URL_MAX 2048
#define NARINFO_STORE_DIR_MAX 512
#define NARINFO_KEY_NAME_MAX 128                /* bytes of a key name, with its NUL */
#define NARINFO_HASH_LEN 32                  /* nix32 characters of a store path hash */
#define NARINFO_NARHASH_NIX32_LEN 52         /* nix32 characters of a SHA-256 */
#define NARINFO_DEFAULT_TIMEOUT_MS 3000
#define NARINFO_CHECKS_MAX (2 + 2 * NARINFO_SUBSTITUTERS_MAX)
#define NARINFO_DEFAULT_STORE_DIR "/nix/store"

/* ---- nix.conf --------------------------------------------------------------------- */

struct narinfo_conf {
	struct strv substituters;  /* URLs, trailing '/' removed, duplicates dropped */
	struct strv trusted_keys;  /* "name:base64-public-key" as written */
	struct strv files;         /* files that were read, in order ("NIX_CONFIG" for the variable) */
	bool substituters_set;     /* some file set substituters (else Nix's default applies) */
	bool keys_set;
	bool found;                /* narinfo_conf_load: some file or NIX_CONFIG was read (Nix is in use) */
};

void narinfo_conf_init(struct narinfo_conf *c);
void narinfo_conf_release(struct narinfo_conf *c);

/* Apply one nix.conf text to c (later settings replace earlier ones, the
 * extra- forms append).  origin names it in errors ("file:line"); dir is
 * where relative `include`s are resolved (NULL: includes are refused).
 * Returns 0, or -1 with err (class config) on a malformed line, an include
 * loop or a limit. */
int narinfo_conf_parse(struct narinfo_conf *c, const char *text, const char *origin, const char *dir,
		       struct fw_error *err);

/* Read the nix.conf files Nix reads (path non-NULL: only that file).  A
 * missing default file is not an error; a missing explicit path is.  When
 * nothing set substituters / trusted-public-keys, Nix's defaults
 * (cache.nixos.org and its key) are filled in and *_set stay false.
 * ret must be initialised.  Returns 0 or -1 with err. */
int narinfo_conf_load(const char *path, struct narinfo_conf *ret, struct fw_error *err);

/* ---- narinfo ------------------------------------------------------------------------ */

struct narinfo {
	char *store_path;          /* "/nix/store/<hash>-<name>" */
	char *url;                 /* the NAR's URL, relative to the cache */
	char *nar_hash;            /* as written ("sha256:<nix32>", "sha256:<hex>" or SRI) */
	uint64_t nar_size;
	struct strv references;    /* base names "<hash>-<name>" */
	struct strv sigs;          /* "keyname:base64" */
};

void narinfo_init(struct narinfo *n);
void narinfo_release(struct narinfo *n);

/* Parse a narinfo text (len bytes, at most NARINFO_BODY_MAX).  StorePath,
 * NarHash and NarSize are required; unknown keys are ignored.  Returns 0 or
 * -1 with err (class external-input, exit 65). */
int narinfo_parse(const char *text, size_t len, struct narinfo *ret, struct fw_error *err);

/* Nix's base-32 of a byte string (bytes in, NUL-terminated text out; out
 * needs (len * 8 - 1) / 5 + 2 bytes). */
void narinfo_nix32(const unsigned char *in, size_t len, char *out);

/* The NAR hash in Nix's fingerprint form "sha256:<52 nix32 chars>", from the
 * nix32, hex (64) or SRI ("sha256-<base64>") spelling.  -EINVAL otherwise. */
int narinfo_nar_hash_nix32(const char *nar_hash, char *ret, size_t len);

/* The signed text (owned, NUL-terminated) for n, whose store path must be
 * under store_dir.  Returns 0 or -1 with err. */
int narinfo_fingerprint(const struct narinfo *n, const char *store_dir, char **ret, struct fw_error *err);

enum narinfo_sig {
	NARINFO_SIG_OK,          /* a trusted key's signature verifies */
	NARINFO_SIG_NONE,        /* no Sig line */
	NARINFO_SIG_UNTRUSTED,   /* signed, but by no trusted key: fail closed */
	NARINFO_SIG_BAD,         /* a trusted key's signature does not verify */
};

/* Verify n's signatures against trusted_keys ("name:base64").  ret_key gets
 * the name of the key that verified (OK) or that failed / is unknown.
 * Returns the outcome (>= 0), or -1 with err when a trusted key or the
 * fingerprint is malformed. */
int narinfo_verify(const struct narinfo *n, const char *store_dir, const struct strv *trusted_keys,
		   char *ret_key, size_t key_len, struct fw_error *err);

/* True when s is a store path hash part (exactly 32 nix32 characters). */
bool narinfo_hash_valid(const char *s);

/* True when s starts with a store path base name "<hash>-<name>". */
bool narinfo_base_name_valid(const char *s);

/* True when key is "name:base64" of a 32-byte Ed25519 public key. */
bool narinfo_key_valid(const char *key);

/* ---- the check ------------------------------------------------------------------------ */

enum narinfo_status { NARINFO_OK, NARINFO_WARN, NARINFO_FAIL, NARINFO_SKIP };

/* One line of the checklist (same fields as doctor's checks). */
struct narinfo_check {
	char name[FW_ERROR_SUBJECT_MAX];
	enum narinfo_status status;
	double latency_ms;            /* < 0: not measured */
	char detail[FW_ERROR_TEXT_MAX];
	enum fw_class cls;            /* FW_CLASS_NONE unless status is FAIL */
	char fix[FW_ERROR_TEXT_MAX];
};

struct narinfo_report {
	struct narinfo_check checks[NARINFO_CHECKS_MAX];
	size_t n;
	bool ok;                      /* no check failed */
	bool nix_configured;          /* a nix.conf or NIX_CONFIG was found */
};

struct narinfo_opts {
	const char *nix_conf;         /* NULL: the files Nix reads */
	const char *narinfo_hash;     /* NULL: the store path of this program when it is in the store, else none */
	const char *store_dir;        /* NULL: $NIX_STORE_DIR, else /nix/store */
	const char *tls_ca;           /* NULL: $NIX_SSL_CERT_FILE, $SSL_CERT_FILE, else system CAs */
	uint64_t timeout_ms;          /* per request; 0: NARINFO_DEFAULT_TIMEOUT_MS */
};

/* Run the checks and fill ret (every outcome is a check line; ret->ok says
 * whether all passed).  No nix.conf and no NIX_CONFIG means Nix is not in use:
 * one SKIP line, ok.  Returns 0, or -1 with err only when the checks could not
 * run at all (out of memory, libcurl unusable). */
int narinfo_check_substituters(const struct narinfo_opts *o, struct narinfo_report *ret, struct fw_error *err);

const char *narinfo_status_word(enum narinfo_status s);

/* `flywheel-net nix-check [--nix-conf FILE] [--narinfo HASH] [--timeout-ms N] [--json]`:
 * prints the check lines (or one flywheel-nix-check/1 JSON object); exit 0
 * when every check passed or Nix is not in use, 1 when one failed, 64 usage. */
int cmd_nix_check(int argc, char **argv);

#endif
