/* credhelper.c - the credential-helper protocol, answered from flywheel's config. */
#include "flywheel/credhelper.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "flywheel/endpoint.h"
#include "flywheel/policy.h"
#include "flywheel/report.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

#define ROLE_CACHE 1u
#define ROLE_EXEC 2u

static int add_line(struct auth *a, const struct config *c, enum cfg_key k, enum auth_scope scope,
		    struct fw_error *err)
{
	const char *v = config_get(c, k);
	if (!v)
		return 0;
	char subject[FW_ERROR_SUBJECT_MAX];
	config_subject(c, k, subject, sizeof(subject));
	return auth_add_header_line(a, v, scope, subject, err);
}

static const char *first_endpoint(const struct config *c, char *buf, size_t len)
{
	static const enum cfg_key keys[] = { CFG_REMOTE_EXECUTOR, CFG_REMOTE_CACHE, CFG_REMOTE_EXECUTOR_CACHE };
	for (size_t i = 0; i < FW_ARRAY_SIZE(keys); i++) {
		const char *v = config_get(c, keys[i]);
		if (!v || !*v)
			continue;
		size_t n = strcspn(v, ",");
		if (n >= len)
			n = len - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

static int load_config(const struct config *c, const char *uri, bool run_helper, struct auth *a,
		       struct fw_error *err)
{
	if (add_line(a, c, CFG_HEADER, AUTH_SCOPE_ALL, err) < 0 ||
	    add_line(a, c, CFG_CACHE_HEADER, AUTH_SCOPE_CACHE, err) < 0 ||
	    add_line(a, c, CFG_EXEC_HEADER, AUTH_SCOPE_EXEC, err) < 0)
		return -1;
	const char *tok = config_get(c, CFG_TOKEN);
	if (tok) {
		char subject[FW_ERROR_SUBJECT_MAX];
		config_subject(c, CFG_TOKEN, subject, sizeof(subject));
		if (auth_add_bearer(a, tok, subject, err) < 0)
			return -1;
	} else {
		const char *tf = config_get(c, CFG_TOKEN_FILE);
		if (!tf && access(POLICY_DEFAULT_TOKEN_FILE, F_OK) == 0)
			tf = POLICY_DEFAULT_TOKEN_FILE;
		if (tf && auth_add_token_file(a, tf, err) < 0)
			return -1;
	}
	const char *helper = config_get(c, CFG_CREDENTIAL_HELPER);
	if (helper && !run_helper)
		/* the helper's answer varies; its identity is its path */
		return auth_add(a, "X-Flywheel-Credential-Helper", helper, AUTH_SCOPE_ALL, "credential helper", err);
	if (helper) {
		char buf[EP_URL_MAX];
		const char *u = uri ? uri : first_endpoint(c, buf, sizeof(buf));
		if (auth_add_from_helper(a, helper, u ? u : "", AUTH_HELPER_TIMEOUT_MS, err) < 0)
			return -1;
	}
	return 0;
}

int auth_load_config(const struct config *c, const char *uri, struct auth *a, struct fw_error *err)
{
	return load_config(c, uri, true, a, err);
}

int auth_verdict_key(const struct config *c, const char *url, const char *instance, unsigned purpose,
		     enum auth_scope role, char ret[VERDICT_KEY_HEX + 1], struct fw_error *err)
{
	struct auth a;
	auth_init(&a);
	int r = load_config(c, url, false, &a, err);
	if (r == 0) {
		char id[AUTH_IDENTITY_HEX + 1];
		auth_identity(&a, role, id);
		verdict_key(url, instance, purpose, id, ret);
	}
	auth_release(&a);
	return r;
}

int credhelper_parse_request(const char *json, size_t len, char **ret_uri)
{
	if (len > CREDHELPER_REQUEST_MAX)
		return -EINVAL;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *uri = root ? json_object_get(root, "uri") : NULL;
	if (!json_is_object(root) || !json_is_string(uri) || json_string_length(uri) == 0 ||
	    json_string_length(uri) > CREDHELPER_URI_MAX || strlen(json_string_value(uri)) != json_string_length(uri)) {
		json_decref(root);
		return -EINVAL;
	}
	char *u = fw_strdup(json_string_value(uri));
	json_decref(root);
	if (!u)
		return -ENOMEM;
	*ret_uri = u;
	return 0;
}

/* scheme, lower-case host and port of a URI; false when it has none. */
static bool uri_origin(const char *uri, char *scheme, size_t slen, char *host, size_t hlen, unsigned *port)
{
	const char *p = strstr(uri, "://");
	if (!p || (size_t)(p - uri) >= slen)
		return false;
	memcpy(scheme, uri, (size_t)(p - uri));
	scheme[p - uri] = '\0';
	for (char *s = scheme; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	const char *h = p + 3;
	const char *end = h + strcspn(h, "/?#");
	const char *at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	const char *hend, *colon;
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			return false;
		h++;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = colon ? colon : end;
	}
	if (hend == h || (size_t)(hend - h) >= hlen)
		return false;
	for (size_t i = 0; i < (size_t)(hend - h); i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[hend - h] = '\0';
	if (colon) {
		char pb[8];
		size_t n = (size_t)(end - colon - 1);
		uint64_t v;
		if (n == 0 || n >= sizeof(pb))
			return false;
		memcpy(pb, colon + 1, n);
		pb[n] = '\0';
		if (parse_u64(pb, 65535, &v) < 0)
			return false;
		*port = (unsigned)v;
	} else if (!strcmp(scheme, "https") || !strcmp(scheme, "grpcs")) {
		*port = 443;
	} else if (!strcmp(scheme, "http") || !strcmp(scheme, "grpc")) {
		*port = 80; /* as endpoint.c */
	} else {
		*port = 0;
	}
	return true;
}

static bool same_origin(const char *a, const char *b)
{
	char sa[16], sb[16], ha[EP_HOST_MAX + 1], hb[EP_HOST_MAX + 1];
	unsigned pa, pb;
	if (!uri_origin(a, sa, sizeof(sa), ha, sizeof(ha), &pa) || !uri_origin(b, sb, sizeof(sb), hb, sizeof(hb), &pb))
		return false;
	return strcmp(ha, hb) == 0 && pa == pb;
}

static bool list_matches(const char *list, const char *uri)
{
	if (!list)
		return false;
	char buf[EP_URL_MAX];
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 0 && n < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (same_origin(buf, uri))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

unsigned credhelper_uri_roles(const struct config *c, const char *uri)
{
	unsigned roles = 0;
	if (list_matches(config_get(c, CFG_REMOTE_CACHE), uri) ||
	    list_matches(config_get(c, CFG_REMOTE_EXECUTOR_CACHE), uri))
		roles |= ROLE_CACHE;
	if (list_matches(config_get(c, CFG_REMOTE_EXECUTOR), uri))
		roles |= ROLE_EXEC | ROLE_CACHE; /* an executor is its own cache */
	return roles;
}

/* Append s JSON-escaped; returns false when cap is exceeded. */
static bool put_json_str(char *buf, size_t cap, size_t *off, const char *s)
{
	if (*off + 1 >= cap)
		return false;
	buf[(*off)++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*off + 8 >= cap)
			return false;
		if (*p == '"' || *p == '\\') {
			buf[(*off)++] = '\\';
			buf[(*off)++] = (char)*p;
		} else if (*p < 0x20) {
			*off += (size_t)snprintf(buf + *off, cap - *off, "\\u%04x", *p);
		} else {
			buf[(*off)++] = (char)*p;
		}
	}
	buf[(*off)++] = '"';
	return true;
}

int credhelper_response(const struct auth *a, unsigned roles, char **ret, size_t *ret_len)
{
	size_t cap = 64;
	for (size_t i = 0; i < a->n; i++)
		cap += 6 * (strlen(a->h[i].name) + strlen(a->h[i].value)) + 16;
	if (sodium_init() < 0)
		return -ENOMEM;
	char *buf = sodium_malloc(cap);
	if (!buf)
		return -ENOMEM;
	size_t off = (size_t)snprintf(buf, cap, "{\"headers\":{");
	bool first = true;
	for (size_t i = 0; i < a->n; i++) {
		const struct auth_header *h = &a->h[i];
		bool applies = (roles & ROLE_CACHE && auth_header_applies(h, AUTH_SCOPE_CACHE)) ||
			       (roles & ROLE_EXEC && auth_header_applies(h, AUTH_SCOPE_EXEC));
		if (!applies)
			continue;
		if (!first)
			buf[off++] = ',';
		first = false;
		if (!put_json_str(buf, cap, &off, h->name) || off + 4 >= cap) {
			sodium_free(buf);
			return -E2BIG;
		}
		buf[off++] = ':';
		buf[off++] = '[';
		if (!put_json_str(buf, cap, &off, h->value) || off + 4 >= cap) {
			sodium_free(buf);
			return -E2BIG;
		}
		buf[off++] = ']';
	}
	off += (size_t)snprintf(buf + off, cap - off, "}}\n");
	*ret = buf;
	*ret_len = off;
	return 0;
}

static int read_stdin(char **ret, size_t *ret_len)
{
	size_t cap = CREDHELPER_REQUEST_MAX + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= cap) {
			free(buf);
			return -EFBIG;
		}
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int cmd_credential_helper(int argc, char **argv)
{
	struct fw_error err = { 0 };
	if (argc != 2 || strcmp(argv[1], "get") != 0) {
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, "credential-helper",
			     "Bazel runs it as `flywheel credential-helper get` with {\"uri\": …} on stdin",
			     "only the `get` command is supported");
		report_error(&err);
		return FW_EX_USAGE;
	}
	_cleanup_free_ char *req = NULL;
	size_t reqlen = 0;
	_cleanup_free_ char *uri = NULL;
	if (read_stdin(&req, &reqlen) < 0 || credhelper_parse_request(req, reqlen, &uri) < 0) {
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_DATAERR, "credential-helper get",
			     "send one JSON object {\"uri\": \"https://…\"} on stdin",
			     "request is not a credential-helper request");
		report_error(&err);
		return FW_EX_DATAERR;
	}

	struct config c;
	config_init(&c);
	struct config_opts o = { 0 };
	if (config_load(&c, &o, &err) < 0) {
		report_error(&err);
		config_release(&c);
		return err.exit_code ? err.exit_code : FW_EX_CONFIG;
	}
	unsigned roles = credhelper_uri_roles(&c, uri);
	struct auth a;
	auth_init(&a);
	int rc = 0;
	if (roles && auth_load_config(&c, uri, &a, &err) < 0) {
		report_error(&err);
		rc = err.exit_code ? err.exit_code : FW_EX_NOPERM;
	}
	config_release(&c);
	if (rc == 0) {
		char *out = NULL;
		size_t len = 0;
		if (credhelper_response(&a, roles, &out, &len) < 0) {
			fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "credential-helper", NULL,
				     "cannot build the response");
			report_error(&err);
			rc = FW_EX_SOFTWARE;
		} else {
			size_t w = fwrite(out, 1, len, stdout);
			auth_secret_free(out);
			if (w != len || fflush(stdout) != 0)
				rc = FW_EX_IOERR;
		}
	}
	auth_release(&a);
	return rc;
}
