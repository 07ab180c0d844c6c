/* nixcheck.c - the Nix substituter check and `flywheel-net nix-check`: fetch
 * nix-cache-info and one narinfo per substituter (libcurl), verify (narinfo.c). */
#include "flywheel/narinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "fw_build_config.h"
#include "flywheel/report.h"
#include "flywheel/banned.h"


/* ---- fetching ------------------------------------------------------------------------- */

struct fetch {
	char *buf;
	size_t len;
	bool too_big;
	long status;
	CURLcode code;
	double ms;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct fetch *f = userdata;
	size_t n = size * nmemb;
	if (f->len + n > NARINFO_BODY_MAX) {
		f->too_big = true;
		return 0;
	}
	char *b = realloc(f->buf, f->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + f->len, data, n);
	f->buf = b;
	f->len += n;
	f->buf[f->len] = '\0';
	return n;
}

static void fetch_release(struct fetch *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

static int fetch_url(const char *url, const struct narinfo_opts *o, const char *ca, struct fetch *f)
{
	memset(f, 0, sizeof(*f));
	CURL *e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	uint64_t t = o->timeout_ms ? o->timeout_ms : NARINFO_DEFAULT_TIMEOUT_MS;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, str_has_prefix(url, "file:") ? "file" : "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "flywheel/" FLYWHEEL_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	uint64_t t0 = now_ns();
	f->code = curl_easy_perform(e);
	f->ms = (double)(now_ns() - t0) / 1e6;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &f->status);
	if (!f->errbuf[0])
		snprintf(f->errbuf, sizeof(f->errbuf), "%s", curl_easy_strerror(f->code));
	curl_easy_cleanup(e);
	return 0;
}

static enum fw_class curl_class(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return FW_CLASS_DNS;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return FW_CLASS_TLS;
	default:
		return FW_CLASS_CONNECT;
	}
}

/* ---- the check ------------------------------------------------------------------------- */

const char *narinfo_status_word(enum narinfo_status s)
{
	static const char *const w[] = { "ok", "warn", "fail", "skip" };
	return (unsigned)s < FW_ARRAY_SIZE(w) ? w[s] : "?";
}

static struct narinfo_check *add_check(struct narinfo_report *r, enum narinfo_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct narinfo_check *add_check(struct narinfo_report *r, enum narinfo_status st, const char *fmt, ...)
{
	struct narinfo_check *c = &r->checks[r->n < NARINFO_CHECKS_MAX ? r->n++ : NARINFO_CHECKS_MAX - 1];
	memset(c, 0, sizeof(*c));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->status = st;
	c->latency_ms = -1;
	return c;
}

static void check_fail(struct narinfo_report *r, struct narinfo_check *c, enum fw_class cls, const char *fix,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void check_fail(struct narinfo_report *r, struct narinfo_check *c, enum fw_class cls, const char *fix,
		       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	c->status = NARINFO_FAIL;
	c->cls = cls;
	snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
	r->ok = false;
}

static void check_from_error(struct narinfo_report *r, struct narinfo_check *c, const struct fw_error *e)
{
	check_fail(r, c, e->cls, e->fix, "%s%s%s", e->subject[0] ? e->subject : "", e->subject[0] ? ": " : "",
		   e->what);
}

/* A failed fetch as a check line; returns true when f is a usable 200. */
static bool fetch_ok(struct narinfo_report *r, struct narinfo_check *c, const struct fetch *f, const char *url,
		     const char *what)
{
	c->latency_ms = f->ms;
	if (f->too_big) {
		check_fail(r, c, FW_CLASS_EXTERNAL_INPUT, "check that the URL names a Nix binary cache",
			   "%s is larger than %u bytes", what, NARINFO_BODY_MAX);
		return false;
	}
	if (f->code != CURLE_OK) {
		check_fail(r, c, curl_class(f->code),
			   "check the substituter URL in nix.conf and that the cache is up (curl -sI URL/nix-cache-info)",
			   "%s: %s", url, f->errbuf);
		return false;
	}
	if (f->status == 401 || f->status == 403) {
		check_fail(r, c, FW_CLASS_AUTH,
			   "give Nix credentials for this cache (netrc-file in nix.conf) or ask for access",
			   "%s: HTTP %ld", url, f->status);
		return false;
	}
	if (f->status != 200 && !(f->status == 0 && str_has_prefix(url, "file:"))) {
		check_fail(r, c, FW_CLASS_CONNECT, "check the substituter URL in nix.conf",
			   "%s: HTTP %ld", url, f->status);
		return false;
	}
	return true;
}

/* Value of "Key: value" in a nix-cache-info text, copied into buf. */
static bool info_value(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			const char *v = p + kl + 1;
			v += strspn(v, " \t");
			size_t n = strcspn(v, "\r\n");
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= len)
				return false;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return true;
		}
	}
	return false;
}

static void check_narinfo(struct narinfo_report *r, const struct narinfo_opts *o, const char *ca,
			  const struct narinfo_conf *conf, const char *sub, const char *hash,
			  const char *store_dir)
{
	struct narinfo_check *c = add_check(r, NARINFO_OK, "nix narinfo %s from %s", hash, sub);
	_cleanup_free_ char *url = fw_asprintf("%s/%s.narinfo", sub, hash);
	if (!url) {
		check_fail(r, c, FW_CLASS_INTERNAL, NULL, "out of memory");
		return;
	}
	struct fetch f;
	if (fetch_url(url, o, ca, &f) < 0) {
		check_fail(r, c, FW_CLASS_INTERNAL, NULL, "cannot start a transfer");
		return;
	}
	if ((f.code == CURLE_OK && (f.status == 404 || f.status == 410)) ||
	    (f.code == CURLE_FILE_COULDNT_READ_FILE)) {
		c->latency_ms = f.ms;
		check_fail(r, c, FW_CLASS_EXTERNAL_INPUT,
			   "push that path to the cache, or name one the cache has (--narinfo HASH)",
			   "%s.narinfo is not on the cache", hash);
		fetch_release(&f);
		return;
	}
	if (!fetch_ok(r, c, &f, url, "the narinfo")) {
		fetch_release(&f);
		return;
	}
	struct narinfo ni;
	narinfo_init(&ni);
	struct fw_error err = { 0 };
	if (narinfo_parse(f.buf ? f.buf : "", f.len, &ni, &err) < 0) {
		check_from_error(r, c, &err);
		goto out;
	}
	const char *base = str_after(ni.store_path, store_dir);
	if (!base || base[0] != '/' || strncmp(base + 1, hash, NARINFO_HASH_LEN) != 0) {
		check_fail(r, c, FW_CLASS_AUTH, "do not use this cache until its operator fixes it",
			   "asked for %s but the narinfo describes %s", hash, ni.store_path);
		goto out;
	}
	char key[NARINFO_KEY_NAME_MAX] = "";
	int v = narinfo_verify(&ni, store_dir, &conf->trusted_keys, key, sizeof(key), &err);
	switch (v) {
	case NARINFO_SIG_OK:
		snprintf(c->detail, sizeof(c->detail), "%s signed by %s, NarSize %llu", ni.store_path, key,
			 (unsigned long long)ni.nar_size);
		break;
	case NARINFO_SIG_NONE:
		check_fail(r, c, FW_CLASS_AUTH, "ask the cache operator to sign the cache (nix store sign)",
			   "%s is not signed; Nix would refuse it", ni.store_path);
		break;
	case NARINFO_SIG_UNTRUSTED:
		check_fail(r, c, FW_CLASS_AUTH,
			   "if you trust this cache, add its public key (from its operator, not from the cache) to "
			   "trusted-public-keys in nix.conf",
			   "signed only by '%s', which is not in trusted-public-keys; refusing (fail closed)", key);
		break;
	case NARINFO_SIG_BAD:
		check_fail(r, c, FW_CLASS_AUTH,
			   "do not use this cache; ask its operator to re-sign it, and check the key in trusted-public-keys",
			   "the signature by '%s' does not verify: the narinfo was altered or the key is wrong", key);
		break;
	default:
		check_from_error(r, c, &err);
		break;
	}
out:
	narinfo_release(&ni);
	fetch_release(&f);
}

/* The hash part of this program's store path, when it lives in the store. */
static bool self_store_hash(const char *store_dir, char *ret, size_t len)
{
	char self[PATH_MAX];
	if (!realpath("/proc/self/exe", self))
		return false;
	const char *base = str_after(self, store_dir);
	if (!base || base[0] != '/' || !narinfo_base_name_valid(base + 1) || len <= NARINFO_HASH_LEN)
		return false;
	memcpy(ret, base + 1, NARINFO_HASH_LEN);
	ret[NARINFO_HASH_LEN] = '\0';
	return true;
}

int narinfo_check_substituters(const struct narinfo_opts *o, struct narinfo_report *ret, struct fw_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->ok = true;
	if (sodium_init() < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libsodium", NULL, "cannot initialise");

	const char *store_dir = o->store_dir;
	if (!store_dir) {
		store_dir = getenv("NIX_STORE_DIR");
		if (!store_dir || !*store_dir)
			store_dir = NARINFO_DEFAULT_STORE_DIR;
	}
	const char *ca = o->tls_ca;
	if (!ca) {
		ca = getenv("NIX_SSL_CERT_FILE");
		if (!ca || !*ca)
			ca = getenv("SSL_CERT_FILE");
		if (ca && !*ca)
			ca = NULL;
	}

	struct narinfo_check *c = add_check(ret, NARINFO_OK, "nix config");
	struct narinfo_conf conf;
	narinfo_conf_init(&conf);
	struct fw_error cerr = { 0 };
	if (narinfo_conf_load(o->nix_conf, &conf, &cerr) < 0) {
		check_from_error(ret, c, &cerr);
		if (!c->fix[0])
			snprintf(c->fix, sizeof(c->fix), "%s", "fix nix.conf (see nix.conf(5))");
		ret->nix_configured = true;
		narinfo_conf_release(&conf);
		return 0;
	}
	ret->nix_configured = conf.found;
	if (!conf.found) {
		c->status = NARINFO_SKIP;
		snprintf(c->detail, sizeof(c->detail), "%s",
			 "Nix is not configured here (no nix.conf, no NIX_CONFIG); substituters not checked");
		narinfo_conf_release(&conf);
		return 0;
	}
	for (size_t i = 0; i < conf.trusted_keys.n; i++) {
		if (!narinfo_key_valid(conf.trusted_keys.v[i])) {
			check_fail(ret, c, FW_CLASS_CONFIG,
				   "write trusted-public-keys entries as name:base64 of a 32-byte Ed25519 key",
				   "malformed trusted public key '%.80s'", conf.trusted_keys.v[i]);
			narinfo_conf_release(&conf);
			return 0;
		}
	}
	{
		char files[FW_ERROR_TEXT_MAX / 2] = "";
		size_t pos = 0;
		for (size_t i = 0; i < conf.files.n && pos < sizeof(files); i++)
			pos += (size_t)snprintf(files + pos, sizeof(files) - pos, "%s%s", i ? ", " : "", conf.files.v[i]);
		snprintf(c->detail, sizeof(c->detail), "%s: %zu substituter%s%s, %zu trusted key%s%s", files,
			 conf.substituters.n, conf.substituters.n == 1 ? "" : "s",
			 conf.substituters_set ? "" : " (Nix default)", conf.trusted_keys.n,
			 conf.trusted_keys.n == 1 ? "" : "s", conf.keys_set ? "" : " (Nix default)");
	}
	if (conf.substituters.n == 0) {
		c->status = NARINFO_WARN;
		snprintf(c->fix, sizeof(c->fix), "%s",
			 "add your team's cache to substituters in nix.conf, or Nix builds everything locally");
	}

	char hash[NARINFO_HASH_LEN + 1] = "";
	if (o->narinfo_hash) {
		if (!narinfo_hash_valid(o->narinfo_hash)) {
			narinfo_conf_release(&conf);
			return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, o->narinfo_hash,
					    "give the 32-character hash part of a store path",
					    "not a store path hash");
		}
		snprintf(hash, sizeof(hash), "%s", o->narinfo_hash);
	} else {
		self_store_hash(store_dir, hash, sizeof(hash));
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		narinfo_conf_release(&conf);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libcurl", NULL, "cannot initialise");
	}
	for (size_t i = 0; i < conf.substituters.n; i++) {
		const char *sub = conf.substituters.v[i];
		struct narinfo_check *s = add_check(ret, NARINFO_OK, "nix cache %s", sub);
		if (!str_has_prefix(sub, "http://") && !str_has_prefix(sub, "https://") &&
		    !str_has_prefix(sub, "file://")) {
			s->status = NARINFO_SKIP;
			snprintf(s->detail, sizeof(s->detail), "%s",
				 "not an HTTP binary cache (daemon, local and ssh stores are not checked)");
			continue;
		}
		_cleanup_free_ char *url = fw_asprintf("%s/nix-cache-info", sub);
		struct fetch f;
		if (!url || fetch_url(url, o, ca, &f) < 0) {
			check_fail(ret, s, FW_CLASS_INTERNAL, NULL, "out of memory");
			continue;
		}
		bool ok;
		if ((f.code == CURLE_OK && f.status == 404) || f.code == CURLE_FILE_COULDNT_READ_FILE) {
			s->latency_ms = f.ms;
			check_fail(ret, s, FW_CLASS_CONFIG, "fix the substituter URL in nix.conf",
				   "%s has no nix-cache-info: not a Nix binary cache", sub);
			ok = false;
		} else {
			ok = fetch_ok(ret, s, &f, url, "nix-cache-info");
		}
		if (ok) {
			char sd[NARINFO_STORE_DIR_MAX], prio[32] = "";
			if (!info_value(f.buf ? f.buf : "", "StoreDir", sd, sizeof(sd))) {
				check_fail(ret, s, FW_CLASS_CONFIG, "fix the substituter URL in nix.conf",
					   "nix-cache-info has no StoreDir: not a Nix binary cache");
				ok = false;
			} else if (strcmp(sd, store_dir) != 0) {
				check_fail(ret, s, FW_CLASS_CONFIG,
					   "use a cache built for this store directory, or remove it from substituters",
					   "the cache serves store %s, this machine uses %s", sd, store_dir);
				ok = false;
			} else {
				info_value(f.buf, "Priority", prio, sizeof(prio));
				snprintf(s->detail, sizeof(s->detail), "StoreDir %s%s%s", sd, prio[0] ? ", Priority " : "",
					 prio);
			}
		}
		fetch_release(&f);
		if (!ok)
			continue;
		if (!hash[0]) {
			struct narinfo_check *n = add_check(ret, NARINFO_SKIP, "nix narinfo from %s", sub);
			snprintf(n->detail, sizeof(n->detail), "%s", "no store path named to check a signature on");
			snprintf(n->fix, sizeof(n->fix), "%s",
				 "name one the cache must have: --narinfo HASH (the 32 characters after /nix/store/)");
			continue;
		}
		check_narinfo(ret, o, ca, &conf, sub, hash, store_dir);
	}
	curl_global_cleanup();
	narinfo_conf_release(&conf);
	return 0;
}

/* ---- command ------------------------------------------------------------------------------ */

static int print_json(const struct narinfo_report *r)
{
	json_t *root = json_object();
	json_t *arr = json_array();
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return -ENOMEM;
	}
	json_object_set_new(root, "schema", json_string("flywheel-nix-check/1"));
	json_object_set_new(root, "ok", json_boolean(r->ok));
	json_object_set_new(root, "nix_configured", json_boolean(r->nix_configured));
	for (size_t i = 0; i < r->n; i++) {
		const struct narinfo_check *c = &r->checks[i];
		json_t *o = json_object();
		if (!o)
			break;
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "status", json_string(narinfo_status_word(c->status)));
		json_object_set_new(o, "latency_ms", c->latency_ms >= 0 ? json_real(c->latency_ms) : json_null());
		json_object_set_new(o, "detail", json_string(c->detail));
		json_object_set_new(o, "class", c->cls ? json_string(fw_class_name(c->cls)) : json_null());
		json_object_set_new(o, "fix", c->fix[0] ? json_string(c->fix) : json_null());
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "checks", arr);
	int rc = json_dumpf(root, stdout, JSON_INDENT(2)) == 0 ? 0 : -EIO;
	fputc('\n', stdout);
	json_decref(root);
	return rc;
}

static void print_lines(const struct narinfo_report *r)
{
	bool color = report_use_color(stdout);
	for (size_t i = 0; i < r->n; i++) {
		const struct narinfo_check *c = &r->checks[i];
		static const char *const mark[] = { "✓", "!", "✗", "-" };
		static const char *const col[] = { "\033[32m", "\033[33m", "\033[31m", "\033[2m" };
		char lat[32] = "";
		if (c->latency_ms >= 0)
			snprintf(lat, sizeof(lat), "%.0f ms  ", c->latency_ms);
		printf("%2zu %s%s%s %s  %s%s\n", i + 1, color ? col[c->status] : "", mark[c->status],
		       color ? "\033[0m" : "", c->name, lat, c->detail);
		if (c->status == NARINFO_FAIL)
			printf("     %s: %s\n", fw_class_name(c->cls), c->fix);
		else if (c->fix[0])
			printf("     hint: %s\n", c->fix);
	}
}

static int usage(const char *arg, const char *what)
{
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, arg, "see 'flywheel nix-check --help'", "%s", what);
	report_error(&err);
	return FW_EX_USAGE;
}

static const char nix_check_help[] =
	"usage: flywheel nix-check [--nix-conf FILE] [--narinfo HASH] [--timeout-ms N] [--json]\n"
	"\n"
	"Check the Nix substituters in nix.conf: nix-cache-info reachable with the\n"
	"local StoreDir, and one narinfo signed by a key in trusted-public-keys\n"
	"(an unknown key fails closed).\n"
	"\n"
	"  --nix-conf FILE   read only FILE (default: the files Nix reads)\n"
	"  --narinfo HASH    store path hash whose narinfo must verify\n"
	"  --timeout-ms N    per request (default 3000)\n"
	"  --json            one flywheel-nix-check/1 object on stdout\n"
	"\n"
	"Exit: 0 all checks passed (or Nix is not in use), 1 a check failed, 64 usage.\n";

int cmd_nix_check(int argc, char **argv)
{
	struct narinfo_opts o = { 0 };
	const char *json_env = getenv("FLYWHEEL_JSON");
	bool json = json_env && !strcmp(json_env, "1");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(nix_check_help, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if ((v = str_after(a, "--nix-conf="))) {
			o.nix_conf = v;
		} else if (!strcmp(a, "--nix-conf")) {
			if (++i == argc)
				return usage(a, "needs a file");
			o.nix_conf = argv[i];
		} else if ((v = str_after(a, "--narinfo="))) {
			o.narinfo_hash = v;
		} else if (!strcmp(a, "--narinfo")) {
			if (++i == argc)
				return usage(a, "needs a store path hash");
			o.narinfo_hash = argv[i];
		} else if (!strcmp(a, "--timeout-ms") || (v = str_after(a, "--timeout-ms="))) {
			if (!v) {
				if (++i == argc)
					return usage(a, "needs a number of milliseconds");
				v = argv[i];
			}
			if (parse_u64(v, 600000, &o.timeout_ms) < 0 || o.timeout_ms == 0)
				return usage(v, "not a timeout between 1 and 600000 ms");
		} else {
			return usage(a, "unknown argument");
		}
	}
	struct narinfo_report *r = calloc(1, sizeof(*r));
	if (!r)
		return FW_EX_SOFTWARE;
	struct fw_error err = { 0 };
	if (narinfo_check_substituters(&o, r, &err) < 0) {
		report_error(&err);
		free(r);
		return err.exit_code ? err.exit_code : FW_EX_SOFTWARE;
	}
	if (json)
		print_json(r);
	else
		print_lines(r);
	int rc = r->ok ? 0 : FW_EX_FAIL;
	free(r);
	return rc;
}
