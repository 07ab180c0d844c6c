/* sign.c - Ed25519 keys, detached signatures and manifest acceptance (libsodium). */
#include "flywheel/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/banned.h"

#define PK_BYTES crypto_sign_PUBLICKEYBYTES
#define SK_BYTES crypto_sign_SECRETKEYBYTES
#define SIG_BYTES crypto_sign_BYTES
#define B64_MAX 128 /* base64 of 64 bytes is 88 characters */

_Static_assert(PK_BYTES == 32, "Ed25519 public key size");
_Static_assert(SK_BYTES == 64 && SIG_BYTES == 64, "Ed25519 sizes");

static int sodium_ready(struct fw_error *err)
{
	if (sodium_init() < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libsodium", NULL,
				    "cannot initialise libsodium");
	return 0;
}

const char *sign_name_problem(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return "is empty";
	if (n > SIGN_NAME_MAX)
		return "is longer than 64 bytes";
	if (name[0] == '.' || name[0] == '-')
		return "starts with '.' or '-'";
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return "may only hold letters, digits, '.', '_' and '-'";
	}
	return NULL;
}

/* Split "name:base64" (in place; trailing whitespace removed) and decode
 * exactly want bytes into out.  Returns NULL or what is wrong. */
static const char *split_decode(char *text, char name[static SIGN_NAME_MAX + 1], unsigned char *out,
				size_t want)
{
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
		     text[n - 1] == '\t'))
		text[--n] = '\0';
	char *b64 = strchr(text, ':');
	if (!b64)
		return "is not in the form name:base64";
	*b64++ = '\0';
	if (strchr(b64, '\n'))
		return "holds more than one line";
	if (sign_name_problem(text))
		return "has an invalid key name";
	if (strlen(b64) > B64_MAX)
		return "has an over-long base64 part";
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, want, b64, strlen(b64), NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want || *end != '\0')
		return want == PK_BYTES  ? "does not decode to exactly 32 bytes"
		       : want == SK_BYTES ? "does not decode to exactly 64 bytes"
					  : "does not decode to the expected length";
	snprintf(name, SIGN_NAME_MAX + 1, "%s", text);
	return NULL;
}

static int write_new_file(const char *path, const char *text, size_t len, mode_t mode,
			  struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CANTCREAT, path,
				    errno == EEXIST ? "choose another name or remove the old key first"
						    : "check the directory",
				    "cannot create: %s", strerror(errno));
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno;
		unlink(path);
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_IOERR, path, "check free space",
				    "cannot write: %s", strerror(e));
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int sign_keygen(const char *prefix, const char *name, struct fw_error *err)
{
	if (sodium_ready(err) < 0)
		return -1;
	const char *prob = sign_name_problem(name);
	if (prob)
		return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, name,
				    "use letters, digits, '.', '_' and '-'", "key name %s", prob);
	_cleanup_free_ char *keypath = fw_asprintf("%s.key", prefix);
	_cleanup_free_ char *pubpath = fw_asprintf("%s.pub", prefix);
	if (!keypath || !pubpath)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, name, NULL, "out of memory");
	if (access(pubpath, F_OK) == 0 || errno != ENOENT)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CANTCREAT, pubpath,
				    "choose another name or remove the old key first",
				    "already exists");

	_cleanup_free_ char *publine = NULL; /* before the first goto: out frees it */
	unsigned char pk[PK_BYTES];
	unsigned char *sk = sodium_malloc(SK_BYTES);
	size_t line_max = SIGN_NAME_MAX + 2 + sodium_base64_ENCODED_LEN(SK_BYTES, sodium_base64_VARIANT_ORIGINAL) + 1;
	char *line = sodium_malloc(line_max);
	int r = -1;
	if (!sk || !line) {
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, name, NULL, "out of secure memory");
		goto out;
	}
	crypto_sign_keypair(pk, sk);

	size_t nl = strlen(name);
	memcpy(line, name, nl);
	line[nl] = ':';
	sodium_bin2base64(line + nl + 1, line_max - nl - 2, sk, SK_BYTES, sodium_base64_VARIANT_ORIGINAL);
	size_t len = strlen(line);
	line[len++] = '\n';
	line[len] = '\0';
	if (write_new_file(keypath, line, len, 0600, err) < 0)
		goto out;

	char pubb64[sodium_base64_ENCODED_LEN(PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(pubb64, sizeof(pubb64), pk, PK_BYTES, sodium_base64_VARIANT_ORIGINAL);
	publine = fw_asprintf("%s:%s\n", name, pubb64);
	if (!publine || write_new_file(pubpath, publine, strlen(publine), 0644, err) < 0) {
		unlink(keypath);
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, pubpath, NULL, "out of memory");
		goto out;
	}
	r = 0;
out:
	sodium_free(sk); /* wipes */
	sodium_free(line);
	return r;
}

int sign_pubkey_parse(const char *text, const char *origin, struct sign_pubkey *ret,
		      struct fw_error *err)
{
	if (sodium_ready(err) < 0)
		return -1;
	if (strlen(text) >= SIGN_FILE_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, origin, NULL,
				    "public key is too long");
	char buf[SIGN_FILE_MAX];
	snprintf(buf, sizeof(buf), "%s", text);
	const char *t = buf;
	while (*t == ' ' || *t == '\t')
		t++;
	struct sign_pubkey k = { 0 };
	const char *prob = split_decode((char *)t, k.name, k.pk, PK_BYTES);
	if (prob)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, origin,
				    "use the NAME.pub line written by 'flywheel keygen NAME'",
				    "public key %s", prob);
	*ret = k;
	return 0;
}

int sign_pubkey_load(const char *value, const char *origin, struct sign_pubkey *ret,
		     struct fw_error *err)
{
	/* A key literal has a ':' and no '/'; anything else is a file. */
	if (strchr(value, ':') && !strchr(value, '/') && !str_has_suffix(value, ".pub"))
		return sign_pubkey_parse(value, origin, ret, err);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_small_file(value, SIGN_FILE_MAX, true, &text, &len);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, value,
				    "give a NAME.pub file or a name:base64 key",
				    "cannot read public key (from %s): %s", origin, strerror(-r));
	if (strlen(text) != len)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, value, NULL,
				    "public key file holds a NUL byte");
	return sign_pubkey_parse(text, value, ret, err);
}

/* Read the secret key file into sodium memory: regular, ours, no group/other access. */
static int load_secret(const char *keyfile, char name[static SIGN_NAME_MAX + 1],
		       unsigned char **ret_sk, struct fw_error *err)
{
	_cleanup_close_ int fd = open(keyfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, keyfile,
				    errno == ELOOP ? "use the key file itself, not a symbolic link"
						   : "give the NAME.key file written by 'flywheel keygen'",
				    "cannot open secret key: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= SIGN_FILE_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, keyfile, NULL,
				    "secret key is not a small regular file");
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_NOPERM, keyfile,
				    "chmod 600 the key file (it must be yours)",
				    "secret key is readable by others (mode %03o) or not yours",
				    (unsigned)(st.st_mode & 0777));
	char *buf = sodium_malloc(SIGN_FILE_MAX);
	unsigned char *sk = sodium_malloc(SK_BYTES);
	if (!buf || !sk) {
		sodium_free(buf);
		sodium_free(sk);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, keyfile, NULL,
				    "out of secure memory");
	}
	ssize_t n = read(fd, buf, SIGN_FILE_MAX - 1);
	const char *prob = NULL;
	if (n < 0)
		prob = "cannot be read";
	else {
		buf[n] = '\0';
		prob = (size_t)n != strlen(buf) ? "holds a NUL byte" : split_decode(buf, name, sk, SK_BYTES);
	}
	sodium_free(buf);
	if (prob) {
		sodium_free(sk);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, keyfile,
				    "give the NAME.key file written by 'flywheel keygen'",
				    "secret key %s", prob);
	}
	*ret_sk = sk;
	return 0;
}

int sign_file(const char *keyfile, const char *path, const char *sig_path, struct fw_error *err)
{
	if (sodium_ready(err) < 0)
		return -1;
	char name[SIGN_NAME_MAX + 1];
	unsigned char *sk = NULL;
	if (load_secret(keyfile, name, &sk, err) < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(path, MANIFEST_MAX_BYTES, true, &data, &len);
	if (r < 0) {
		sodium_free(sk);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_IOERR, path, NULL,
				    "cannot read the file to sign: %s", strerror(-r));
	}
	unsigned char sig[SIG_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)data, len, sk);
	sodium_free(sk);

	char b64[sodium_base64_ENCODED_LEN(SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), sig, SIG_BYTES, sodium_base64_VARIANT_ORIGINAL);
	_cleanup_free_ char *line = fw_asprintf("%s:%s\n", name, b64);
	if (!line)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "out of memory");
	r = write_file_atomic(sig_path, line, strlen(line), 0644);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, sig_path, NULL,
				    "cannot write the signature: %s", strerror(-r));
	return 0;
}

int sign_verify(const void *data, size_t len, const char *sig_text, const char *sig_origin,
		const struct sign_pubkey *keys, size_t n_keys, const struct sign_pubkey **ret_key,
		struct fw_error *err)
{
	if (sodium_ready(err) < 0)
		return -1;
	char buf[SIGN_FILE_MAX];
	if (strlen(sig_text) >= sizeof(buf))
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_origin, NULL,
				    "signature file is too long");
	snprintf(buf, sizeof(buf), "%s", sig_text);
	char name[SIGN_NAME_MAX + 1];
	unsigned char sig[SIG_BYTES];
	const char *prob = split_decode(buf, name, sig, SIG_BYTES);
	if (prob)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_origin,
				    "sign the manifest again with 'flywheel sign --key NAME.key MANIFEST'",
				    "signature %s", prob);
	bool named = false;
	for (size_t i = 0; i < n_keys; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		named = true;
		if (crypto_sign_verify_detached(sig, data, len, keys[i].pk) == 0) {
			if (ret_key)
				*ret_key = &keys[i];
			return 0;
		}
	}
	if (!named)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_origin,
				    "add the signer's public key to flywheel.ini [trust] (or --trust NAME.pub) if you trust it",
				    "signed by key \"%s\", which is not trusted", name);
	return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_origin,
			    "do not use this manifest; get a correctly signed copy or re-sign it",
			    "signature does not match the manifest for trusted key \"%s\" (tampered, or signed by another key of that name)",
			    name);
}

int sign_state_dir(char **ret)
{
	const char *s = getenv("XDG_STATE_HOME");
	char *d = NULL;
	if (s && s[0] == '/')
		d = fw_asprintf("%s/flywheel", s);
	else if ((s = getenv("XDG_CACHE_HOME")) && s[0] == '/')
		d = fw_asprintf("%s/flywheel", s);
	else if ((s = getenv("HOME")) && s[0] == '/')
		d = fw_asprintf("%s/.local/state/flywheel", s);
	else
		return -ENOENT;
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* Rollback: the highest version accepted for this manifest, keyed by the
 * SHA-256 of its real path. */
static int rollback_path(const char *state_dir, const char *manifest_path, char **ret)
{
	char real[PATH_MAX];
	if (!realpath(manifest_path, real))
		return -errno;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)real, strlen(real));
	char hex[2 * sizeof(h) + 1];
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	_cleanup_free_ char *def = NULL;
	if (!state_dir) {
		int r = sign_state_dir(&def);
		if (r < 0)
			return r;
		state_dir = def;
	}
	*ret = fw_asprintf("%s/manifest-versions/%s", state_dir, hex);
	return *ret ? 0 : -ENOMEM;
}

static int check_rollback(const char *manifest_path, uint64_t version, const struct sign_policy *p,
			  struct fw_error *err)
{
	_cleanup_free_ char *path = NULL;
	int r = rollback_path(p->state_dir, manifest_path, &path);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, manifest_path,
				    "set XDG_STATE_HOME or HOME",
				    "no place to remember accepted manifest versions: %s", strerror(-r));
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	uint64_t highest = 0;
	r = read_small_file(path, 64, true, &text, &len);
	if (r == 0) {
		while (len && (text[len - 1] == '\n'))
			text[--len] = '\0';
		if (parse_u64(text, MANIFEST_VERSION_MAX, &highest) < 0)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
					    "remove the file if you trust the manifest",
					    "the remembered manifest version is corrupt");
	} else if (r != -ENOENT) {
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_IOERR, path, NULL,
				    "cannot read the remembered manifest version: %s", strerror(-r));
	}
	if (version < highest)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, manifest_path,
				    "use the current manifest (a rollback to an older one is refused)",
				    "manifest version %llu is lower than version %llu accepted before",
				    (unsigned long long)version, (unsigned long long)highest);
	if (!p->record || version == highest)
		return 0;
	_cleanup_free_ char *dir = fw_strndup(path, (size_t)(strrchr(path, '/') - path));
	if (!dir || mkdir_p(dir, 0700) < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, path,
				    "make $XDG_STATE_HOME (or ~/.local/state) writable: it remembers the highest manifest version accepted",
				    "cannot create the state directory: %s", dir ? strerror(errno) : "out of memory");
	char line[32];
	int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)version);
	r = write_file_atomic(path, line, (size_t)n, 0600);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, path, NULL,
				    "cannot remember the manifest version: %s", strerror(-r));
	return 0;
}

int sign_accept_manifest(const char *manifest_path, const struct sign_policy *p,
			 struct manifest *ret, char ret_signer[static SIGN_NAME_MAX + 1],
			 struct fw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (manifest_read(manifest_path, &data, &len, err) < 0)
		return -1;

	_cleanup_free_ char *defsig = NULL;
	const char *sig_path = p->sig_path;
	if (!sig_path) {
		defsig = fw_asprintf("%s.sig", manifest_path);
		if (!defsig)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, manifest_path, NULL,
					    "out of memory");
		sig_path = defsig;
	}
	_cleanup_free_ char *sig = NULL;
	size_t sig_len = 0;
	int r = read_small_file(sig_path, SIGN_FILE_MAX, true, &sig, &sig_len);
	ret_signer[0] = '\0';
	if (r == -ENOENT || (r == 0 && p->n_keys == 0 && p->allow_unsigned)) {
		if (!p->allow_unsigned)
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, manifest_path,
					    "sign it with 'flywheel sign --key NAME.key MANIFEST' (or set inputs.allow_unsigned=true for a local experiment)",
					    "the manifest is not signed (no %s)", base_name(sig_path));
	} else if (r < 0) {
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_path, NULL,
				    "cannot read the signature: %s", strerror(-r));
	} else {
		if (p->n_keys == 0)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "[trust]",
					    "add the signer's public key to flywheel.ini [trust] or pass --trust NAME.pub",
					    "no trusted public keys to check %s against", base_name(sig_path));
		if (strlen(sig) != sig_len)
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, sig_path, NULL,
					    "signature file holds a NUL byte");
		const struct sign_pubkey *k = NULL;
		if (sign_verify(data, len, sig, sig_path, p->keys, p->n_keys, &k, err) < 0)
			return -1;
		snprintf(ret_signer, SIGN_NAME_MAX + 1, "%s", k->name);
	}

	struct manifest m;
	if (manifest_parse(data, len, manifest_path, &m, err) < 0)
		return -1;
	int64_t now = p->now ? p->now : (int64_t)time(NULL);
	if (m.expires <= now) {
		char when[32];
		manifest_format_time(m.expires, when);
		manifest_release(&m);
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, manifest_path,
				    "get a fresh manifest from its owner (an expired one is refused: freeze protection)",
				    "the manifest expired at %s", when);
	}
	if (check_rollback(manifest_path, m.version, p, err) < 0) {
		manifest_release(&m);
		return -1;
	}
	*ret = m;
	return 0;
}
