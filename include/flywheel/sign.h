/* sign.h - Ed25519 keys and detached manifest signatures (libsodium), and the
 * acceptance policy for a manifest: signature, freeze (expires) and rollback.
 *
 * Key and signature files are one line "name:base64":
 *   NAME.pub   name:base64(32-byte public key)
 *   NAME.key   name:base64(64-byte secret key)   mode 0600, read into sodium_malloc memory
 *   F.sig      name:base64(64-byte signature of the manifest's exact bytes)
 * Decoded lengths must be exact; names are [A-Za-z0-9._-], at most 64 bytes.
 */
#ifndef FLYWHEEL_SIGN_H
#define FLYWHEEL_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"
#include "flywheel/manifest.h"

#define SIGN_NAME_MAX 64
#define SIGN_TRUST_MAX 64 /* trusted public keys in one check */
#define SIGN_FILE_MAX 4096

struct sign_pubkey {
	char name[SIGN_NAME_MAX + 1];
	unsigned char pk[32];
};

/* NULL when name is an acceptable key name, else what is wrong. */
const char *sign_name_problem(const char *name);

/* Write <prefix>.key (0600, created exclusively) and <prefix>.pub for a new key
 * called name.  Refuses to overwrite either file. */
int sign_keygen(const char *prefix, const char *name, struct fw_error *err);

/* Parse "name:base64" (surrounding whitespace and one trailing newline allowed). */
int sign_pubkey_parse(const char *text, const char *origin, struct sign_pubkey *ret,
		      struct fw_error *err);

/* value is either "name:base64" or the path of a .pub file. */
int sign_pubkey_load(const char *value, const char *origin, struct sign_pubkey *ret,
		     struct fw_error *err);

/* Sign the file at path with the secret key file keyfile (must be 0600 or 0400,
 * owned by the caller, no symlink); writes sig_path atomically (0644). */
int sign_file(const char *keyfile, const char *path, const char *sig_path, struct fw_error *err);

/* Verify sig_text (contents of a .sig file) over data with any of keys.
 * *ret_key (optional) points at the key that matched. */
int sign_verify(const void *data, size_t len, const char *sig_text, const char *sig_origin,
		const struct sign_pubkey *keys, size_t n_keys, const struct sign_pubkey **ret_key,
		struct fw_error *err);

/* What accepting a manifest requires. */
struct sign_policy {
	const struct sign_pubkey *keys;
	size_t n_keys;
	bool allow_unsigned; /* accept a manifest without a .sig (warned by the caller) */
	const char *sig_path; /* NULL: <manifest>.sig */
	const char *state_dir; /* where accepted versions are remembered; NULL: default */
	int64_t now;           /* seconds since the epoch; 0: time(NULL) */
	bool record;           /* remember this version as accepted (stage: yes; verify: yes) */
};

/* The whole acceptance check, in order and before anything is fetched:
 * read the manifest bytes, verify the detached signature (or allow unsigned),
 * parse, refuse an expired manifest (freeze) and a version lower than the
 * highest accepted for this manifest (rollback), then remember the version.
 * On success *ret holds the parsed manifest and *ret_signer the key name
 * ("" when unsigned was allowed). */
int sign_accept_manifest(const char *manifest_path, const struct sign_policy *p,
			 struct manifest *ret, char ret_signer[static SIGN_NAME_MAX + 1],
			 struct fw_error *err);

/* The directory where accepted versions are remembered:
 * $XDG_STATE_HOME/flywheel, else $XDG_CACHE_HOME/flywheel, else ~/.local/state/flywheel. */
int sign_state_dir(char **ret);

/* Commands (in lock.c; print through report.h; return an exit code). argv[0] is the command. */
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
