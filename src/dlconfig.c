/* dlconfig.c - write the Bazel downloader config for [mirrors], and check one
 * a user wrote before Bazel reads it (Bazel drops some mistakes silently and
 * exits 37 without a message on others). */
#include "flywheel/dlconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

#define DLCONFIG_MIRRORS_PER_ENTRY 16u
#define DLCONFIG_HOST_MAX 255u

static const char *const FIX_LOCK = "pin it with `flywheel lock URL` or add an approved mirror to flywheel.ini [mirrors]";

/* ---- helpers ---------------------------------------------------------------------- */

static bool host_matches(const char *host, const char *entry)
{
	size_t hl = strlen(host), el = strlen(entry);
	if (strcmp(host, entry) == 0)
		return true;
	return hl > el + 1 && host[hl - el - 1] == '.' && strcmp(host + hl - el, entry) == 0;
}

/* The host part of a URL without scheme ("h:1/x" -> "h"). */
static int host_of(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "/:?#");
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* Capturing groups in a Java-style pattern: '(' not escaped, outside a
 * character class, and not "(?" unless it is a named group "(?<name>". */
static size_t count_groups(const char *p)
{
	size_t n = 0;
	bool cls = false;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1]) {
			i++;
			continue;
		}
		if (cls) {
			if (p[i] == ']')
				cls = false;
			continue;
		}
		if (p[i] == '[') {
			cls = true;
			if (p[i + 1] == ']')
				i++;
			continue;
		}
		if (p[i] == '(') {
			if (p[i + 1] != '?')
				n++;
			else if (p[i + 2] == '<' && p[i + 3] != '=' && p[i + 3] != '!')
				n++;
		}
	}
	return n;
}

/* What is wrong with a Java Matcher replacement for a pattern with ngroups
 * groups, or NULL.  buf receives a message. */
static const char *replacement_problem(const char *r, size_t ngroups, char *buf, size_t len)
{
	for (size_t i = 0; r[i]; i++) {
		if (r[i] == '\\') {
			if (!r[i + 1])
				return "ends with a lone \\ (nothing to escape)";
			i++;
			continue;
		}
		if (r[i] != '$')
			continue;
		if (r[i + 1] == '{') {
			const char *close = strchr(r + i + 2, '}');
			if (!close)
				return "has an unterminated ${name} group reference";
			i = (size_t)(close - r);
			continue;
		}
		if (r[i + 1] < '0' || r[i + 1] > '9')
			return "has a $ that is not a group reference (write \\$ for a literal dollar)";
		unsigned g = (unsigned)(r[i + 1] - '0');
		if (g > ngroups) {
			snprintf(buf, len, "refers to group $%u but the pattern has %zu group%s", g, ngroups,
				 ngroups == 1 ? "" : "s");
			return buf;
		}
		i++;
	}
	return NULL;
}

/* Split a line on blanks into at most max words (pointers into line, which is modified). */
static size_t split_words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (!*p)
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p && !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v'))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* ---- check ------------------------------------------------------------------------ */

struct check_ctx {
	const char *origin;
	struct fw_error *problems;
	size_t max, n;
};

static void problem(struct check_ctx *x, unsigned line, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct check_ctx *x, unsigned line, const char *fix, const char *fmt, ...)
{
	if (x->n >= x->max) {
		x->n++;
		return;
	}
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "%s:%u", x->origin, line);
	struct fw_error *e = &x->problems[x->n++];
	fw_error_clear(e);
	va_list ap;
	va_start(ap, fmt);
	fw_error_setv(e, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, fix, fmt, ap);
	va_end(ap);
}

struct rewrite_line {
	unsigned line;
	char host[DLCONFIG_HOST_MAX + 1]; /* "" when it depends on a group */
};

static bool word_is_host_or_star(const char *w)
{
	if (strcmp(w, "*") == 0)
		return true;
	return strpbrk(w, "*+?()[]{}|^$\\/") == NULL;
}

int dlconfig_check_buf(const char *data, size_t len, const char *origin, struct fw_error *ret_problems,
		       size_t max, size_t *ret_n)
{
	struct check_ctx x = { .origin = origin, .problems = ret_problems, .max = max };
	_cleanup_strv_ struct strv allow, block;
	strv_init(&allow);
	strv_init(&block);
	allow.max = block.max = 4096;
	_cleanup_free_ struct rewrite_line *rw = NULL;
	size_t n_rw = 0, cap_rw = 0;
	bool have_message = false;
	unsigned lineno = 0;
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(data + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (data + at)) : len - at;
		lineno++;
		if (ll >= DLCONFIG_LINE_MAX) {
			problem(&x, lineno, "keep lines under 4096 bytes", "line too long");
			at += ll + 1;
			continue;
		}
		char line[DLCONFIG_LINE_MAX];
		memcpy(line, data + at, ll);
		line[ll] = '\0';
		at += ll + 1;
		if (memchr(line, '\0', ll)) {
			problem(&x, lineno, "write the config as text", "holds a NUL byte");
			continue;
		}
		char *w[4];
		size_t nw = split_words(line, w, 3);
		if (nw == 0 || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "allow") == 0 || strcmp(w[0], "block") == 0) {
			bool is_allow = w[0][0] == 'a';
			if (nw != 2) {
				problem(&x, lineno, is_allow ? "write `allow HOST`" : "write `block HOST` (or `block *`)",
					"`%s` takes exactly one host name (Bazel refuses the file)", w[0]);
				continue;
			}
			if (!word_is_host_or_star(w[1]) || (is_allow && strcmp(w[1], "*") == 0)) {
				problem(&x, lineno,
					is_allow ? "name one host; it also allows its subdomains"
						 : "write `block *` to block every host, or one host name (it also blocks its subdomains)",
					"`%s %s` is not a host name: Bazel compares host names here, not regular expressions", w[0],
					w[1]);
				continue;
			}
			if (strv_push(is_allow ? &allow : &block, w[1]) < 0) {
				problem(&x, lineno, "keep at most 4096 allow and block lines", "too many host lines");
				continue;
			}
			continue;
		}
		if (strcmp(w[0], "all_blocked_message") == 0) {
			if (nw < 2)
				problem(&x, lineno, "add the message text", "all_blocked_message needs a message");
			else if (have_message)
				problem(&x, lineno, "keep one all_blocked_message line",
					"a second all_blocked_message (Bazel refuses the file)");
			have_message = true;
			continue;
		}
		if (strcmp(w[0], "rewrite") != 0) {
			problem(&x, lineno, "use rewrite, allow, block, all_blocked_message or a # comment",
				"unknown directive \"%.64s\" (Bazel refuses the file)", w[0]);
			continue;
		}
		if (nw != 3) {
			problem(&x, lineno, "write `rewrite REGEX REPLACEMENT` (no spaces inside either)",
				"`rewrite` takes a pattern and a replacement (Bazel refuses the file)");
			continue;
		}
		const char *pat = w[1], *rep = w[2];
		size_t ngroups = count_groups(pat);
		/* POSIX ERE as an approximation of Java's syntax: skip constructs POSIX lacks */
		if (!strstr(pat, "(?")) {
			regex_t re;
			int rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
			if (rc != 0) {
				char why[128];
				regerror(rc, &re, why, sizeof(why));
				problem(&x, lineno, "fix the regular expression (balanced parentheses and brackets)",
					"the pattern \"%.200s\" does not compile: %s (Bazel exits 37 without a message)", pat,
					why);
				continue;
			}
			regfree(&re);
		}
		char buf[160];
		const char *rp = replacement_problem(rep, ngroups, buf, sizeof(buf));
		if (rp) {
			problem(&x, lineno, "use $1..$N only for groups the pattern has; write \\$ for a literal dollar",
				"the replacement \"%.200s\" %s (Bazel exits 37 without a message)", rep, rp);
			continue;
		}
		if (str_has_prefix(rep, "http://")) {
			problem(&x, lineno,
				"use an https mirror, or write the replacement without a scheme so Bazel keeps the original one",
				"rewrites to plain http: every https URL the pattern matches is downgraded");
			continue;
		}
		const char *after = str_after(rep, "https://");
		if (!after)
			after = rep;
		if (cap_rw == n_rw) {
			size_t nc = cap_rw ? cap_rw * 2 : 16;
			if (nc > 65536) {
				problem(&x, lineno, "keep at most 65536 rewrite lines", "too many rewrite lines");
				continue;
			}
			struct rewrite_line *t = realloc(rw, nc * sizeof(*t));
			if (!t)
				return -ENOMEM;
			rw = t;
			cap_rw = nc;
		}
		rw[n_rw].line = lineno;
		if (strpbrk(after, "$\\") && strcspn(after, "$\\") < strcspn(after, "/:?#"))
			rw[n_rw].host[0] = '\0'; /* the host comes from a group: cannot tell */
		else if (host_of(after, rw[n_rw].host, sizeof(rw[n_rw].host)) < 0) {
			problem(&x, lineno, "start the replacement with a host name (optionally https://)",
				"the replacement \"%.200s\" has no host", rep);
			continue;
		}
		n_rw++;
	}
	/* A rewritten URL is dropped when its host is blocked and not allowed (the file's
	 * order does not matter to Bazel, so this is checked after reading every line). */
	for (size_t i = 0; i < n_rw; i++) {
		const char *h = rw[i].host;
		if (!h[0])
			continue;
		bool allowed = false, blocked = false;
		for (size_t k = 0; k < allow.n; k++)
			allowed = allowed || host_matches(h, allow.v[k]);
		for (size_t k = 0; k < block.n; k++)
			blocked = blocked || strcmp(block.v[k], "*") == 0 || host_matches(h, block.v[k]);
		if (blocked && !allowed) {
			char fix[FW_ERROR_TEXT_MAX];
			snprintf(fix, sizeof(fix), "add `allow %s`", h);
			problem(&x, rw[i].line, fix,
				"rewrites to host \"%s\", which is blocked and not allowed: Bazel drops the rewritten URL silently",
				h);
		}
	}
	*ret_n = x.n;
	return x.n ? -1 : 0;
}

int dlconfig_check_all(const char *path, struct fw_error *ret_problems, size_t max, size_t *ret_n,
		       struct fw_error *err)
{
	*ret_n = 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(path, DLCONFIG_MAX_BYTES, false, &data, &len);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    "check the path given for the downloader config",
				    r == -EFBIG ? "downloader config larger than 1 MiB" : "cannot read the downloader config: %s",
				    strerror(-r));
	r = dlconfig_check_buf(data, len, path, ret_problems, max, ret_n);
	if (r == -ENOMEM)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "out of memory");
	return r;
}

int dlconfig_check(const char *path, struct fw_error *err)
{
	struct fw_error first[1];
	size_t n = 0;
	int r = dlconfig_check_all(path, first, 1, &n, err);
	if (r == 0 || n == 0)
		return r;
	if (!err)
		return -1;
	if (n > 1) {
		char more[64];
		snprintf(more, sizeof(more), " (and %zu more problem%s)", n - 1, n > 2 ? "s" : "");
		size_t wl = strlen(first[0].what);
		if (wl + strlen(more) < sizeof(first[0].what))
			memcpy(first[0].what + wl, more, strlen(more) + 1);
	}
	if (!fw_error_isset(err))
		*err = first[0];
	return -1;
}

/* ---- render ----------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (b->len + (size_t)n + 1 > DLCONFIG_MAX_BYTES)
		return -EFBIG;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		while (nc < b->len + (size_t)n + 1)
			nc *= 2;
		char *t = realloc(b->p, nc);
		if (!t)
			return -ENOMEM;
		b->p = t;
		b->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

static bool upstream_ok(const char *u)
{
	if (!u[0] || strstr(u, "://") || strlen(u) > 1024)
		return false;
	for (const char *p = u; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(".-_/:~%+", *p)))
			return false;
	return true;
}

static bool is_list_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',';
}

/* Split a [mirrors] value into words (space or comma separated). */
static int split_list(const char *v, struct strv *out)
{
	const char *p = v;
	while (*p) {
		while (*p && is_list_sep(*p))
			p++;
		size_t n = 0;
		while (p[n] && !is_list_sep(p[n]))
			n++;
		if (n) {
			_cleanup_free_ char *w = fw_strndup(p, n);
			if (!w)
				return -ENOMEM;
			int r = strv_push(out, w);
			if (r < 0)
				return r;
		}
		p += n;
	}
	return 0;
}

static int add_host(struct strv *hosts, const char *h)
{
	return strv_contains(hosts, h) ? 0 : strv_push(hosts, h);
}

int dlconfig_render(const struct config *c, char **ret, struct fw_error *err)
{
	*ret = NULL;
	struct buf b = { 0 };
	_cleanup_strv_ struct strv hosts;
	strv_init(&hosts);
	hosts.max = 4096;
	size_t routes = 0;
	int r = buf_addf(&b, "# written by flywheel from flywheel.ini [mirrors]; regenerated on every run, do not edit\n");
	for (size_t i = 0; r == 0 && i < c->n_mirrors; i++) {
		const struct cfg_pair *p = &c->mirrors[i];
		if (strcmp(p->name, "downloader_config") == 0)
			continue;
		_cleanup_strv_ struct strv words;
		strv_init(&words);
		words.max = DLCONFIG_MIRRORS_PER_ENTRY;
		if ((r = split_list(p->value, &words)) < 0) {
			free(b.p);
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
					    "list at most 16 mirror URLs or hosts per entry", "[mirrors] %s: too many values",
					    p->name);
		}
		if (strcmp(p->name, "allow") == 0) {
			for (size_t k = 0; r == 0 && k < words.n; k++) {
				if (!word_is_host_or_star(words.v[k]) || strcmp(words.v[k], "*") == 0) {
					free(b.p);
					return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
							    "list host names (each also allows its subdomains)",
							    "[mirrors] allow: \"%s\" is not a host name", words.v[k]);
				}
				r = add_host(&hosts, words.v[k]);
			}
			continue;
		}
		if (!upstream_ok(p->name)) {
			free(b.p);
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
					    "write the upstream as host or host/path without a scheme (upstream.example.com/dl = https://mirror/dl)",
					    "[mirrors] \"%s\" is not an upstream host or host/path prefix", p->name);
		}
		if (words.n == 0) {
			free(b.p);
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
					    "give one or more mirror URLs", "[mirrors] %s has no mirror URL", p->name);
		}
		/* the pattern: the upstream prefix, escaped, then the rest of the path as $1 */
		char pat[2200];
		size_t at = 0;
		for (const char *s = p->name; *s && at + 3 < sizeof(pat); s++) {
			if (strchr(".+", *s))
				pat[at++] = '\\';
			pat[at++] = *s;
		}
		pat[at] = '\0';
		bool slash = str_has_suffix(p->name, "/");
		for (size_t k = 0; r == 0 && k < words.n; k++) {
			const char *m = words.v[k];
			bool https = str_has_prefix(m, "https://");
			const char *rest = https ? m + 8 : str_after(m, "http://");
			char host[DLCONFIG_HOST_MAX + 1];
			if (!rest || host_of(rest, host, sizeof(host)) < 0 || strpbrk(rest, " \t$\\")) {
				free(b.p);
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
						    "give http:// or https:// mirror URLs with a host",
						    "[mirrors] %s: \"%s\" is not a mirror URL", p->name, m);
			}
			bool mslash = str_has_suffix(rest, "/");
			/* an http mirror is written without scheme: Bazel then keeps the original
			 * one, so an https download is never downgraded to http */
			r = buf_addf(&b, "rewrite %s%s(.*) %s%s%s$1\n", pat, slash ? "" : "/", https ? "https://" : "",
				     rest, mslash ? "" : "/");
			if (r == 0)
				r = add_host(&hosts, host);
		}
		routes++;
	}
	for (size_t i = 0; r == 0 && i < hosts.n; i++)
		r = buf_addf(&b, "allow %s\n", hosts.v[i]);
	if (r == 0)
		r = buf_addf(&b, "block *\nall_blocked_message flywheel: this download is neither in the inputs manifest nor served by an approved mirror; %s\n",
			     FIX_LOCK);
	if (r < 0) {
		free(b.p);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "[mirrors]", NULL,
				    "cannot render the downloader config: %s", strerror(-r));
	}
	if (routes == 0 && hosts.n == 0) {
		free(b.p);
		return 0;
	}
	*ret = b.p;
	return 0;
}

int dlconfig_write(const struct config *c, const char *dir, char **ret_path, struct fw_error *err)
{
	*ret_path = NULL;
	_cleanup_free_ char *text = NULL;
	if (dlconfig_render(c, &text, err) < 0)
		return -1;
	if (!text)
		return 0;
	int r = mkdir_p(dir, 0700);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, "check the directory and its permissions",
				    "cannot create the directory for the downloader config: %s", strerror(-r));
	_cleanup_free_ char *path = fw_asprintf("%s/%s", dir, DLCONFIG_FILE_NAME);
	if (!path)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, dir, NULL, "out of memory");
	r = write_file_atomic(path, text, strlen(text), 0600);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, path, "check the directory and its permissions",
				    "cannot write the downloader config: %s", strerror(-r));
	*ret_path = steal_ptr(&path);
	return 0;
}
