/* narinfo.c - Nix substituter check: nix.conf, nix-cache-info, narinfo signatures. */
#include "flywheel/narinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "flywheel/banned.h"

#define NIX_DEFAULT_SUBSTITUTER "https://cache.nixos.org"
#define NIX_DEFAULT_KEY "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="
#define NIX_PUBKEY_B64_MAX 128
#define NIX_SIG_B64_MAX 256

static const char nix32_chars[] = "0123456789abcdfghijklmnpqrsvwxyz";

/* ---- nix.conf --------------------------------------------------------------------- */

void narinfo_conf_init(struct narinfo_conf *c)
{
	memset(c, 0, sizeof(*c));
	strv_init(&c->substituters);
	strv_init(&c->trusted_keys);
	strv_init(&c->files);
	c->substituters.max = NARINFO_SUBSTITUTERS_MAX;
	c->trusted_keys.max = NARINFO_KEYS_MAX;
}

void narinfo_conf_release(struct narinfo_conf *c)
{
	if (!c)
		return;
	strv_release(&c->substituters);
	strv_release(&c->trusted_keys);
	strv_release(&c->files);
}

static void strv_clear(struct strv *s)
{
	size_t max = s->max;
	strv_release(s);
	strv_init(s);
	s->max = max;
}

/* A substituter URL without query and trailing slashes. */
static char *substituter_base(const char *tok)
{
	size_t n = strcspn(tok, "?");
	while (n > 0 && tok[n - 1] == '/')
		n--;
	return fw_strndup(tok, n);
}

static int conf_add_values(struct strv *list, const char *values, bool is_substituter, const char *origin,
			   struct fw_error *err)
{
	const char *p = values;
	while (*p) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		_cleanup_free_ char *tok = fw_strndup(p, n);
		if (!tok)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");
		p += n;
		if (is_substituter) {
			char *base = substituter_base(tok);
			if (!base)
				return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");
			free(tok);
			tok = base;
		}
		if (!*tok || strv_contains(list, tok))
			continue;
		if (strlen(tok) >= NARINFO_URL_MAX)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, origin, "shorten the value",
					    "value longer than %u bytes", NARINFO_URL_MAX);
		int r = strv_push(list, tok);
		if (r == -E2BIG)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, origin, "remove entries you do not use",
					    "more than %zu %s", list->max,
					    is_substituter ? "substituters" : "trusted public keys");
		if (r < 0)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");
	}
	return 0;
}

static int conf_parse_depth(struct narinfo_conf *c, const char *text, const char *origin, const char *dir,
			    unsigned depth, struct fw_error *err);

static int conf_include(struct narinfo_conf *c, const char *arg, bool optional, const char *where,
			const char *dir, unsigned depth, struct fw_error *err)
{
	if (!dir)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, where, "write the settings inline",
				    "include is not allowed here");
	if (depth >= NARINFO_INCLUDE_DEPTH_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, where, "flatten the includes",
				    "includes nested deeper than %d (a loop?)", NARINFO_INCLUDE_DEPTH_MAX);
	_cleanup_free_ char *path = arg[0] == '/' ? fw_strdup(arg) : fw_asprintf("%s/%s", dir, arg);
	if (!path)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, where, NULL, "out of memory");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_small_file(path, NARINFO_CONF_MAX, false, &text, &len);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, where, "fix or remove the include",
				    "cannot read included '%s': %s", path, strerror(-r));
	if (strlen(text) != len)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path, "remove the NUL bytes", "holds NUL bytes");
	_cleanup_free_ char *sub = fw_strdup(path);
	char *slash = sub ? strrchr(sub, '/') : NULL;
	if (!slash)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, where, NULL, "out of memory");
	*slash = '\0';
	if (strv_push(&c->files, path) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, where, NULL, "out of memory");
	return conf_parse_depth(c, text, path, sub[0] ? sub : "/", depth + 1, err);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int conf_parse_depth(struct narinfo_conf *c, const char *text, const char *origin, const char *dir,
			    unsigned depth, struct fw_error *err)
{
	_cleanup_free_ char *copy = fw_strdup(text);
	if (!copy)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");
	unsigned lineno = 0;
	char *line = copy;
	while (line) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char where[FW_ERROR_SUBJECT_MAX];
		snprintf(where, sizeof(where), "%s:%u", origin, lineno);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		line = next;
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			const char *arg;
			if ((arg = str_after(l, "!include")) && (*arg == ' ' || *arg == '\t')) {
				char *a = trim((char *)arg);
				if (conf_include(c, a, true, where, dir, depth, err) < 0)
					return -1;
				continue;
			}
			if ((arg = str_after(l, "include")) && (*arg == ' ' || *arg == '\t')) {
				char *a = trim((char *)arg);
				if (conf_include(c, a, false, where, dir, depth, err) < 0)
					return -1;
				continue;
			}
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, where,
					    "write settings as 'name = value'", "not a setting: '%s'", l);
		}
		*eq = '\0';
		char *name = trim(l);
		char *value = trim(eq + 1);
		bool extra = false;
		const char *base = str_after(name, "extra-");
		if (base)
			extra = true;
		else
			base = name;
		struct strv *list = NULL;
		bool subst = false;
		if (!strcmp(base, "substituters") || !strcmp(base, "binary-caches")) {
			list = &c->substituters;
			subst = true;
			c->substituters_set = true;
		} else if (!strcmp(base, "trusted-public-keys") || !strcmp(base, "binary-cache-public-keys")) {
			list = &c->trusted_keys;
			c->keys_set = true;
		}
		if (!list)
			continue; /* every other Nix setting is Nix's business */
		if (!extra)
			strv_clear(list);
		if (conf_add_values(list, value, subst, where, err) < 0)
			return -1;
	}
	return 0;
}

int narinfo_conf_parse(struct narinfo_conf *c, const char *text, const char *origin, const char *dir,
		       struct fw_error *err)
{
	return conf_parse_depth(c, text, origin ? origin : "nix.conf", dir, 0, err);
}

/* Apply one file; a missing file is skipped unless required.  Sets *found. */
static int conf_apply_file(struct narinfo_conf *c, const char *path, bool required, bool *found,
			   struct fw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_small_file(path, NARINFO_CONF_MAX, false, &text, &len);
	if (r == -ENOENT && !required)
		return 0;
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    required ? "pass an existing nix.conf" : "make it readable or remove it",
				    "cannot read: %s", strerror(-r));
	if (strlen(text) != len)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path, "remove the NUL bytes", "holds NUL bytes");
	*found = true;
	if (strv_push(&c->files, path) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "out of memory");
	_cleanup_free_ char *dir = fw_strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (!dir)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "out of memory");
	if (slash)
		*slash = '\0';
	return conf_parse_depth(c, text, path, slash ? (dir[0] ? dir : "/") : ".", 0, err);
}

static int user_conf_files(struct strv *ret)
{
	const char *env = getenv("NIX_USER_CONF_FILES");
	if (env && *env) {
		_cleanup_free_ char *copy = fw_strdup(env);
		if (!copy)
			return -ENOMEM;
		char *save = NULL;
		for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
			if (*p && strv_push(ret, p) < 0)
				return -ENOMEM;
		return 0;
	}
	/* Nix: the config home first, then XDG_CONFIG_DIRS; applied in reverse */
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg) {
		if (strv_pushf(ret, "%s/nix/nix.conf", xdg) < 0)
			return -ENOMEM;
	} else if (home && *home) {
		if (strv_pushf(ret, "%s/.config/nix/nix.conf", home) < 0)
			return -ENOMEM;
	}
	const char *dirs = getenv("XDG_CONFIG_DIRS");
	_cleanup_free_ char *copy = fw_strdup(dirs && *dirs ? dirs : "/etc/xdg");
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		if (*p && strv_pushf(ret, "%s/nix/nix.conf", p) < 0)
			return -ENOMEM;
	return 0;
}

int narinfo_conf_load(const char *path, struct narinfo_conf *ret, struct fw_error *err)
{
	bool *found = &ret->found;
	*found = false;
	if (strv_push(&ret->substituters, NIX_DEFAULT_SUBSTITUTER) < 0 ||
	    strv_push(&ret->trusted_keys, NIX_DEFAULT_KEY) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "nix.conf", NULL, "out of memory");
	if (path)
		return conf_apply_file(ret, path, true, found, err);

	const char *confdir = getenv("NIX_CONF_DIR");
	_cleanup_free_ char *sys = fw_asprintf("%s/nix.conf", confdir && *confdir ? confdir : "/etc/nix");
	if (!sys)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "nix.conf", NULL, "out of memory");
	if (conf_apply_file(ret, sys, false, found, err) < 0)
		return -1;
	_cleanup_strv_ struct strv user;
	strv_init(&user);
	if (user_conf_files(&user) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "nix.conf", NULL, "out of memory");
	for (size_t i = user.n; i-- > 0;)
		if (conf_apply_file(ret, user.v[i], false, found, err) < 0)
			return -1;
	const char *nc = getenv("NIX_CONFIG");
	if (nc && *nc) {
		*found = true;
		if (strv_push(&ret->files, "NIX_CONFIG") < 0)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "nix.conf", NULL, "out of memory");
		if (conf_parse_depth(ret, nc, "NIX_CONFIG", NULL, 0, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- narinfo ------------------------------------------------------------------------ */

void narinfo_init(struct narinfo *n)
{
	memset(n, 0, sizeof(*n));
	strv_init(&n->references);
	strv_init(&n->sigs);
	n->references.max = NARINFO_REFS_MAX;
	n->sigs.max = NARINFO_SIGS_MAX;
}

void narinfo_release(struct narinfo *n)
{
	if (!n)
		return;
	free(n->store_path);
	free(n->url);
	free(n->nar_hash);
	strv_release(&n->references);
	strv_release(&n->sigs);
	n->store_path = n->url = n->nar_hash = NULL;
}

static int set_once(char **field, const char *value, const char *key, struct fw_error *err)
{
	if (*field)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo", "fix the cache",
				    "'%s' appears twice", key);
	*field = fw_strdup(value);
	if (!*field)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "narinfo", NULL, "out of memory");
	return 0;
}

int narinfo_parse(const char *text, size_t len, struct narinfo *ret, struct fw_error *err)
{
	if (len > NARINFO_BODY_MAX)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo", "fix the cache",
				    "larger than %u bytes", NARINFO_BODY_MAX);
	if (memchr(text, '\0', len))
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo", "fix the cache",
				    "holds NUL bytes");
	_cleanup_free_ char *copy = fw_strndup(text, len);
	if (!copy)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "narinfo", NULL, "out of memory");
	bool have_size = false;
	unsigned lineno = 0;
	char *line = copy;
	while (line) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *l = line;
		line = next;
		if (!*l)
			continue;
		char *colon = strstr(l, ": ");
		if (!colon)
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo", "fix the cache",
					    "line %u is not 'Key: value'", lineno);
		*colon = '\0';
		const char *key = l;
		const char *value = colon + 2;
		int r = 0;
		if (!strcmp(key, "StorePath")) {
			r = set_once(&ret->store_path, value, key, err);
		} else if (!strcmp(key, "URL")) {
			r = set_once(&ret->url, value, key, err);
		} else if (!strcmp(key, "NarHash")) {
			r = set_once(&ret->nar_hash, value, key, err);
		} else if (!strcmp(key, "NarSize")) {
			if (have_size || parse_u64(value, UINT64_MAX, &ret->nar_size) < 0)
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo",
						    "fix the cache", "bad or repeated NarSize '%s'", value);
			have_size = true;
		} else if (!strcmp(key, "References")) {
			if (ret->references.n)
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo",
						    "fix the cache", "'References' appears twice");
			const char *p = value;
			while (*p) {
				p += strspn(p, " ");
				size_t n = strcspn(p, " ");
				if (!n)
					break;
				r = strv_push_take(&ret->references, fw_strndup(p, n));
				if (r < 0)
					return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo",
							    "fix the cache", "more than %u references",
							    NARINFO_REFS_MAX);
				p += n;
			}
		} else if (!strcmp(key, "Sig")) {
			if (strv_push(&ret->sigs, value) < 0)
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo",
						    "fix the cache", "more than %u signatures", NARINFO_SIGS_MAX);
		}
		if (r < 0)
			return -1;
	}
	if (!ret->store_path || !ret->nar_hash || !have_size)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, "narinfo", "fix the cache",
				    "missing %s", !ret->store_path ? "StorePath" : !ret->nar_hash ? "NarHash" : "NarSize");
	return 0;
}

void narinfo_nix32(const unsigned char *in, size_t len, char *out)
{
	size_t n = len ? (len * 8 - 1) / 5 + 1 : 0;
	for (size_t k = 0; k < n; k++) {
		size_t pos = n - 1 - k;
		size_t b = pos * 5;
		size_t i = b / 8, j = b % 8;
		unsigned c = in[i] >> j;
		if (i + 1 < len)
			c |= (unsigned)in[i + 1] << (8 - j);
		out[k] = nix32_chars[c & 0x1f];
	}
	out[n] = '\0';
}

static bool all_in(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return s[n] == '\0';
}

int narinfo_nar_hash_nix32(const char *nar_hash, char *ret, size_t len)
{
	unsigned char digest[32];
	const char *v;
	if (len < 7 + NARINFO_NARHASH_NIX32_LEN + 1)
		return -ENOBUFS;
	if ((v = str_after(nar_hash, "sha256:"))) {
		size_t n = strlen(v);
		if (n == NARINFO_NARHASH_NIX32_LEN && all_in(v, n, nix32_chars)) {
			snprintf(ret, len, "sha256:%s", v);
			return 0;
		}
		if (n == 64 && all_in(v, n, "0123456789abcdef")) {
			size_t got = 0;
			if (sodium_hex2bin(digest, sizeof(digest), v, n, NULL, &got, NULL) != 0 || got != 32)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	} else if ((v = str_after(nar_hash, "sha256-"))) {
		size_t got = 0;
		const char *end = NULL;
		if (sodium_base642bin(digest, sizeof(digest), v, strlen(v), NULL, &got, &end,
				      sodium_base64_VARIANT_ORIGINAL) != 0 || got != 32 || *end)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	char nix32[NARINFO_NARHASH_NIX32_LEN + 1];
	narinfo_nix32(digest, sizeof(digest), nix32);
	snprintf(ret, len, "sha256:%s", nix32);
	return 0;
}

bool narinfo_hash_valid(const char *s)
{
	return s && all_in(s, NARINFO_HASH_LEN, nix32_chars);
}

/* s starts with "<32 nix32 characters>-" (a store path base name). */
bool narinfo_base_name_valid(const char *s)
{
	for (size_t i = 0; i < NARINFO_HASH_LEN; i++)
		if (!s[i] || !strchr(nix32_chars, s[i]))
			return false;
	return s[NARINFO_HASH_LEN] == '-' && s[NARINFO_HASH_LEN + 1] != '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int narinfo_fingerprint(const struct narinfo *n, const char *store_dir, char **ret, struct fw_error *err)
{
	const char *base = str_after(n->store_path, store_dir);
	if (!base || base[0] != '/' || !narinfo_base_name_valid(base + 1) || strchr(base + 1, '/'))
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, n->store_path,
				    "use a cache built for this store directory", "not a store path under %s",
				    store_dir);
	char hash[8 + NARINFO_NARHASH_NIX32_LEN + 1];
	if (narinfo_nar_hash_nix32(n->nar_hash, hash, sizeof(hash)) < 0)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, n->store_path, "fix the cache",
				    "NarHash '%s' is not a SHA-256 in nix32, hex or SRI form", n->nar_hash);
	_cleanup_free_ char **refs = NULL;
	if (n->references.n) {
		refs = calloc(n->references.n, sizeof(*refs));
		if (!refs)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "narinfo", NULL, "out of memory");
		memcpy(refs, n->references.v, n->references.n * sizeof(*refs));
		qsort(refs, n->references.n, sizeof(*refs), cmp_str);
	}
	size_t total = strlen(n->store_path) + strlen(hash) + 64;
	for (size_t i = 0; i < n->references.n; i++) {
		if (strchr(refs[i], '/') || !narinfo_base_name_valid(refs[i]))
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, n->store_path,
					    "fix the cache", "reference '%s' is not a store path base name", refs[i]);
		total += strlen(store_dir) + 1 + strlen(refs[i]) + 1;
	}
	_cleanup_free_ char *out = malloc(total);
	if (!out)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "narinfo", NULL, "out of memory");
	int w = snprintf(out, total, "1;%s;%s;%llu;", n->store_path, hash, (unsigned long long)n->nar_size);
	size_t pos = (size_t)w;
	for (size_t i = 0; i < n->references.n; i++) {
		w = snprintf(out + pos, total - pos, "%s%s/%s", i ? "," : "", store_dir, refs[i]);
		pos += (size_t)w;
	}
	*ret = steal_ptr(&out);
	return 0;
}

/* "name:base64" with a name of at most NARINFO_KEY_NAME_MAX - 1 bytes. */
static bool split_named(const char *s, char *name, size_t name_len, const char **ret_b64)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= name_len)
		return false;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	*ret_b64 = colon + 1;
	return true;
}

static int decode_exact(const char *b64, unsigned char *out, size_t want, size_t b64_max)
{
	size_t got = 0;
	const char *end = NULL;
	size_t n = strlen(b64);
	if (n == 0 || n > b64_max)
		return -EINVAL;
	if (sodium_base642bin(out, want, b64, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want || *end)
		return -EINVAL;
	return 0;
}

int narinfo_verify(const struct narinfo *n, const char *store_dir, const struct strv *trusted_keys,
		   char *ret_key, size_t key_len, struct fw_error *err)
{
	_cleanup_free_ char *fp = NULL;
	if (narinfo_fingerprint(n, store_dir, &fp, err) < 0)
		return -1;
	if (n->sigs.n == 0) {
		snprintf(ret_key, key_len, "%s", "");
		return NARINFO_SIG_NONE;
	}
	int outcome = NARINFO_SIG_UNTRUSTED;
	for (size_t i = 0; i < n->sigs.n; i++) {
		char sname[NARINFO_KEY_NAME_MAX];
		const char *sb64;
		unsigned char sig[crypto_sign_BYTES];
		if (!split_named(n->sigs.v[i], sname, sizeof(sname), &sb64))
			continue; /* a malformed Sig counts as no signature */
		bool decoded = decode_exact(sb64, sig, sizeof(sig), NIX_SIG_B64_MAX) == 0;
		for (size_t k = 0; k < trusted_keys->n; k++) {
			char kname[NARINFO_KEY_NAME_MAX];
			const char *kb64;
			unsigned char pk[crypto_sign_PUBLICKEYBYTES];
			if (!split_named(trusted_keys->v[k], kname, sizeof(kname), &kb64) ||
			    decode_exact(kb64, pk, sizeof(pk), NIX_PUBKEY_B64_MAX) < 0)
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, trusted_keys->v[k],
						    "write trusted keys as name:base64 of a 32-byte Ed25519 public key",
						    "malformed trusted public key");
			if (strcmp(kname, sname) != 0)
				continue;
			if (decoded && crypto_sign_verify_detached(sig, (const unsigned char *)fp, strlen(fp), pk) == 0) {
				snprintf(ret_key, key_len, "%s", sname);
				return NARINFO_SIG_OK;
			}
			outcome = NARINFO_SIG_BAD;
			snprintf(ret_key, key_len, "%s", sname);
		}
		if (outcome == NARINFO_SIG_UNTRUSTED)
			snprintf(ret_key, key_len, "%s", sname);
	}
	return outcome;
}

bool narinfo_key_valid(const char *key)
{
	char name[NARINFO_KEY_NAME_MAX];
	const char *b64;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	return split_named(key, name, sizeof(name), &b64) && decode_exact(b64, pk, sizeof(pk), NIX_PUBKEY_B64_MAX) == 0;
}
