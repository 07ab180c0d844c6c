/* audit.c - classify every download Bazel made (build event file `fetch`
 * events) against the inputs manifest and the approved mirrors. */
#include "flywheel/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flywheel/banned.h"

#define AUDIT_READ_CHUNK (256u * 1024u)

const char *audit_class_name(enum audit_class c)
{
	static const char *const names[] = { "pinned", "mirror", "upstream", "failed" };
	return c < AUDIT__MAX ? names[c] : "?";
}

/* ---- a small string -> index hash table (open addressing) ---------------------------- */

struct slot {
	const char *key; /* NULL: empty */
	size_t val;
};

struct table {
	struct slot *s;
	size_t cap, n; /* cap is a power of two */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int table_grow(struct table *t)
{
	size_t nc = t->cap ? t->cap * 2 : 64;
	struct slot *ns = calloc(nc, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->s[i].key)
			continue;
		size_t j = hash_str(t->s[i].key) & (nc - 1);
		while (ns[j].key)
			j = (j + 1) & (nc - 1);
		ns[j] = t->s[i];
	}
	free(t->s);
	t->s = ns;
	t->cap = nc;
	return 0;
}

/* Returns the slot for key (key NULL in it when absent). */
static struct slot *table_find(const struct table *t, const char *key)
{
	if (!t->cap)
		return NULL;
	size_t j = hash_str(key) & (t->cap - 1);
	while (t->s[j].key && strcmp(t->s[j].key, key) != 0)
		j = (j + 1) & (t->cap - 1);
	return &t->s[j];
}

/* Insert key (not copied: must outlive the table) unless present. */
static int table_put(struct table *t, const char *key, size_t val)
{
	if ((t->n + 1) * 2 > t->cap && table_grow(t) < 0)
		return -ENOMEM;
	struct slot *s = table_find(t, key);
	if (s->key)
		return 0;
	s->key = key;
	s->val = val;
	t->n++;
	return 0;
}

static const size_t *table_get(const struct table *t, const char *key)
{
	struct slot *s = table_find(t, key);
	return s && s->key ? &s->val : NULL;
}

struct audit_index {
	struct table fetch_by_url; /* URL -> fetches[] index */
	struct table input_by_url; /* manifest URL -> input index */
	struct table input_by_name;
	struct table rule_by_url;  /* WORKSPACE URL -> rules[] index */
	struct table rule_by_name; /* basename of a rule URL -> rules[] index */
	struct strv basenames;     /* owned keys for rule_by_name */
	struct strv mirrors;       /* approved mirror prefixes */
};

static void index_free(struct audit_index *x)
{
	if (!x)
		return;
	free(x->fetch_by_url.s);
	free(x->input_by_url.s);
	free(x->input_by_name.s);
	free(x->rule_by_url.s);
	free(x->rule_by_name.s);
	strv_release(&x->basenames);
	strv_release(&x->mirrors);
	free(x);
}

void audit_rules_free(struct audit_rule *rules, size_t n)
{
	for (size_t i = 0; rules && i < n; i++) {
		free(rules[i].name);
		free(rules[i].sha256);
		strv_release(&rules[i].urls);
	}
	free(rules);
}

void audit_result_release(struct audit_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_fetches; i++)
		free(r->fetches[i].url);
	free(r->fetches);
	audit_rules_free(r->rules, r->n_rules);
	index_free(r->index);
	memset(r, 0, sizeof(*r));
}

bool audit_outside_manifest(const struct audit_result *r)
{
	return r->n[AUDIT_MIRROR] + r->n[AUDIT_UPSTREAM] > 0;
}

/* "https://h:1/a/b.tar.gz?x" -> "b.tar.gz" (in buf); NULL when there is no file name. */
static const char *url_basename(const char *url, char *buf, size_t len)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return NULL;
	size_t n = strcspn(p, "?#");
	if (n < 2 || p[n - 1] == '/')
		return NULL;
	const char *slash = p;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/')
			slash = p + i;
	size_t bl = n - (size_t)(slash + 1 - p);
	if (bl == 0 || bl >= len)
		return NULL;
	memcpy(buf, slash + 1, bl);
	buf[bl] = '\0';
	return buf;
}

/* "scheme://host[:port]/" of url into a new string, NULL when it has none. */
static char *url_origin(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return NULL;
	size_t n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	return fw_asprintf("%.*s/", (int)n, url);
}

/* ---- WORKSPACE scan ----------------------------------------------------------------- */

struct scan_call {
	size_t start, end; /* byte span of one top-level call's arguments */
};

/* Read a Starlark string literal at data[*i] (quote char there); returns a copy
 * of its raw text (escapes kept as written: URLs and hex have none). */
static char *read_string(const char *data, size_t len, size_t *i)
{
	char q = data[*i];
	bool triple = *i + 2 < len && data[*i + 1] == q && data[*i + 2] == q;
	size_t s = *i + (triple ? 3 : 1), j = s;
	while (j < len) {
		if (data[j] == '\\') {
			j += 2;
			continue;
		}
		if (data[j] == q && (!triple || (j + 2 < len && data[j + 1] == q && data[j + 2] == q)))
			break;
		if (!triple && data[j] == '\n')
			break;
		j++;
	}
	if (j > len)
		j = len;
	char *out = fw_strndup(data + s, j - s);
	*i = j + (j < len ? (triple ? 3 : 1) : 0);
	return out;
}

static bool ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Parse one call's arguments: keyword = "string" or keyword = [ "s", ... ]. */
static int scan_call_args(const char *data, size_t start, size_t end, struct audit_rule *rule)
{
	size_t i = start;
	char key[32] = "";
	int depth = 0;
	while (i < end) {
		char ch = data[i];
		if (ch == '#') {
			while (i < end && data[i] != '\n')
				i++;
			continue;
		}
		if (ch == '"' || ch == '\'') {
			_cleanup_free_ char *s = read_string(data, end, &i);
			if (!s)
				return -ENOMEM;
			if (!strcmp(key, "name") && depth == 0 && !rule->name)
				rule->name = steal_ptr(&s);
			else if (!strcmp(key, "sha256") && depth == 0 && !rule->sha256)
				rule->sha256 = steal_ptr(&s);
			else if (!strcmp(key, "integrity") && depth == 0)
				rule->integrity = s[0] != '\0';
			else if ((!strcmp(key, "url") || !strcmp(key, "urls")) &&
				 (str_has_prefix(s, "http://") || str_has_prefix(s, "https://")) &&
				 rule->urls.n < MANIFEST_URLS_MAX) {
				int r = strv_push(&rule->urls, s);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (ch == '[' || ch == '(' || ch == '{')
			depth++;
		else if (ch == ']' || ch == ')' || ch == '}')
			depth--;
		else if (ch == ',' && depth == 0)
			key[0] = '\0';
		else if (ident_char(ch) && depth == 0 && (i == start || !ident_char(data[i - 1]))) {
			size_t n = 0;
			while (i + n < end && ident_char(data[i + n]))
				n++;
			size_t k = i + n;
			while (k < end && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n'))
				k++;
			if (k < end && data[k] == '=' && (k + 1 >= end || data[k + 1] != '=')) {
				snprintf(key, sizeof(key), "%.*s", (int)(n < 31 ? n : 31), data + i);
				i = k + 1;
				continue;
			}
			i += n;
			continue;
		}
		i++;
	}
	return 0;
}

int audit_scan_workspace(const char *data, size_t len, struct audit_rule **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	struct audit_rule *rules = NULL;
	size_t n = 0, cap = 0;
	int depth = 0;
	size_t call_start = 0;
	for (size_t i = 0; i < len;) {
		char ch = data[i];
		if (ch == '#') {
			while (i < len && data[i] != '\n')
				i++;
			continue;
		}
		if (ch == '"' || ch == '\'') {
			free(read_string(data, len, &i));
			continue;
		}
		if (ch == '(' || ch == '[' || ch == '{') {
			if (depth == 0)
				call_start = i + 1;
			depth++;
		} else if (ch == ')' || ch == ']' || ch == '}') {
			if (depth > 0 && --depth == 0 && ch == ')') {
				struct audit_rule rule = { 0 };
				strv_init(&rule.urls);
				int r = scan_call_args(data, call_start, i, &rule);
				if (r == 0 && rule.name && rule.urls.n) {
					if (n == cap) {
						size_t nc = cap ? cap * 2 : 16;
						struct audit_rule *t = nc <= AUDIT_RULES_MAX ? realloc(rules, nc * sizeof(*t)) : NULL;
						if (!t)
							r = -ENOMEM;
						else {
							rules = t;
							cap = nc;
						}
					}
					if (r == 0) {
						rules[n++] = rule;
						rule = (struct audit_rule){ 0 };
					}
				}
				free(rule.name);
				free(rule.sha256);
				strv_release(&rule.urls);
				if (r < 0) {
					audit_rules_free(rules, n);
					return r;
				}
			}
		}
		i++;
	}
	*ret = rules;
	*ret_n = n;
	return 0;
}

/* ---- classification ------------------------------------------------------------------ */

static int build_index(struct audit_result *res, const struct audit_opts *o)
{
	struct audit_index *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	res->index = x;
	strv_init(&x->basenames);
	strv_init(&x->mirrors);
	x->basenames.max = x->mirrors.max = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < o->n_mirrors; i++)
		if (!strv_contains(&x->mirrors, o->mirrors[i]))
			r = strv_push(&x->mirrors, o->mirrors[i]);
	const struct manifest *m = o->manifest;
	for (size_t i = 0; r == 0 && m && i < m->n_inputs; i++) {
		const struct manifest_input *in = &m->inputs[i];
		r = table_put(&x->input_by_name, in->name, i);
		const struct strv *rule_urls = manifest_rule_urls(in);
		for (size_t k = 0; r == 0 && k < in->urls.n; k++) {
			r = table_put(&x->input_by_url, in->urls.v[k], i);
			/* a manifest URL that is not the rule's own is a mirror */
			if (r == 0 && !strv_contains(rule_urls, in->urls.v[k])) {
				_cleanup_free_ char *origin = url_origin(in->urls.v[k]);
				if (origin && !strv_contains(&x->mirrors, origin))
					r = strv_push(&x->mirrors, origin);
			}
		}
		for (size_t k = 0; r == 0 && k < in->canonical_urls.n; k++)
			r = table_put(&x->input_by_url, in->canonical_urls.v[k], i);
	}
	for (size_t i = 0; r == 0 && i < res->n_rules; i++) {
		const struct audit_rule *rule = &res->rules[i];
		for (size_t k = 0; r == 0 && k < rule->urls.n; k++) {
			r = table_put(&x->rule_by_url, rule->urls.v[k], i);
			char b[MANIFEST_NAME_MAX + 1];
			if (r == 0 && url_basename(rule->urls.v[k], b, sizeof(b)) && !table_get(&x->rule_by_name, b)) {
				r = strv_push(&x->basenames, b);
				if (r == 0)
					r = table_put(&x->rule_by_name, x->basenames.v[x->basenames.n - 1], i);
			}
		}
	}
	return r;
}

/* Record one fetch event for url. */
static int note_fetch(struct audit_result *res, const char *url, bool success)
{
	struct audit_index *x = res->index;
	const size_t *at = table_get(&x->fetch_by_url, url);
	if (at) {
		struct audit_fetch *f = &res->fetches[*at];
		f->attempts++;
		if (success)
			f->cls = AUDIT_PINNED; /* placeholder: classified at the end */
		return 0;
	}
	if (res->n_fetches >= AUDIT_FETCHES_MAX)
		return -E2BIG;
	if (res->n_fetches == res->cap) {
		size_t nc = res->cap ? res->cap * 2 : 64;
		struct audit_fetch *t = realloc(res->fetches, nc * sizeof(*t));
		if (!t)
			return -ENOMEM;
		/* the table's keys point at the URLs, not at the array: no rehash needed */
		res->fetches = t;
		res->cap = nc;
	}
	struct audit_fetch *f = &res->fetches[res->n_fetches];
	*f = (struct audit_fetch){ .url = fw_strdup(url), .cls = success ? AUDIT_PINNED : AUDIT_FAILED, .attempts = 1 };
	if (!f->url)
		return -ENOMEM;
	int r = table_put(&x->fetch_by_url, f->url, res->n_fetches);
	if (r < 0) {
		free(f->url);
		return r;
	}
	res->n_fetches++;
	return 0;
}

static void classify(struct audit_result *res, const struct audit_opts *o)
{
	struct audit_index *x = res->index;
	const struct manifest *m = o->manifest;
	_cleanup_free_ bool *used = m && m->n_inputs ? calloc(m->n_inputs, sizeof(bool)) : NULL;
	for (size_t i = 0; i < res->n_fetches; i++) {
		struct audit_fetch *f = &res->fetches[i];
		char b[MANIFEST_NAME_MAX + 1];
		const char *base = url_basename(f->url, b, sizeof(b));
		const size_t *ri = table_get(&x->rule_by_url, f->url);
		if (!ri && base)
			ri = table_get(&x->rule_by_name, base);
		f->rule = ri ? &res->rules[*ri] : NULL;
		const size_t *ii = table_get(&x->input_by_url, f->url);
		if (!ii && base)
			ii = table_get(&x->input_by_name, base);
		if (ii && m) {
			f->input = m->inputs[*ii].name;
			if (used)
				used[*ii] = true;
		}
		if (f->cls == AUDIT_FAILED) {
			res->n[AUDIT_FAILED]++;
			continue;
		}
		if (f->input)
			f->cls = AUDIT_PINNED;
		else {
			f->cls = AUDIT_UPSTREAM;
			for (size_t k = 0; k < x->mirrors.n; k++)
				if (str_has_prefix(f->url, x->mirrors.v[k]))
					f->cls = AUDIT_MIRROR;
		}
		res->n[f->cls]++;
	}
	for (size_t i = 0; m && i < m->n_inputs; i++)
		if (!(used && used[i]) && m->inputs[i].status != INPUT_CANDIDATE)
			res->served_without_fetch++;
}

/* One build event line. */
static int audit_line(struct audit_result *res, const char *line, size_t len, const char *bep_path, size_t lineno,
		      struct fw_error *err)
{
	res->lines++;
	/* Only a fetch event has "id":{"fetch":...} (progress events list fetches as
	 * children without that key): every other line skips the JSON parse.  A
	 * false hit (the text inside a log string) is ruled out by the parse. */
	static const char key[] = "\"id\":{\"fetch\":";
	if (!memmem(line, len, key, sizeof(key) - 1))
		return 0;
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, 0, &jerr);
	if (!ev) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s:%zu", bep_path, lineno);
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject,
				    "pass the file written by --build_event_json_file (one JSON object per line)",
				    "not a JSON build event: %s", jerr.text);
	}
	json_t *id = json_object_get(ev, "id");
	json_t *fid = json_object_get(id, "fetch");
	const char *url = json_string_value(json_object_get(fid, "url"));
	int r = 0;
	if (url && url[0]) {
		json_t *payload = json_object_get(ev, "fetch");
		bool success = json_is_true(json_object_get(payload, "success"));
		res->events++;
		r = note_fetch(res, url, success);
		if (r < 0) {
			json_decref(ev);
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, r == -E2BIG ? FW_EX_DATAERR : FW_EX_SOFTWARE,
					    bep_path, NULL, r == -E2BIG ? "more than %u distinct downloads" : "out of memory",
					    AUDIT_FETCHES_MAX);
		}
	}
	json_decref(ev);
	return 0;
}

int audit_run(const char *bep_path, const struct audit_opts *o, struct audit_result *ret, struct fw_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (o->workspace_file) {
		_cleanup_free_ char *ws = NULL;
		size_t wl = 0;
		int r = read_small_file(o->workspace_file, AUDIT_WORKSPACE_MAX, false, &ws, &wl);
		if (r == 0)
			r = audit_scan_workspace(ws, wl, &ret->rules, &ret->n_rules);
		if (r < 0 && r != -ENOENT)
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, o->workspace_file,
					    "pass --workspace DIR of the build that wrote the event file",
					    "cannot read the WORKSPACE file: %s", strerror(-r));
	}
	if (build_index(ret, o) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "audit", NULL, "out of memory");

	_cleanup_close_ int fd = open(bep_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, bep_path,
				    "pass the file Bazel wrote with --build_event_json_file",
				    "cannot open the build event file: %s", strerror(errno));
	size_t cap = AUDIT_READ_CHUNK * 2, have = 0, lineno = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "audit", NULL, "out of memory");
	bool eof = false;
	while (!eof || have) {
		if (!eof) {
			if (cap - have < AUDIT_READ_CHUNK) {
				if (cap >= AUDIT_LINE_MAX + AUDIT_READ_CHUNK) {
					char subject[FW_ERROR_SUBJECT_MAX];
					snprintf(subject, sizeof(subject), "%s:%zu", bep_path, lineno + 1);
					return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject, NULL,
							    "build event longer than %u bytes", AUDIT_LINE_MAX);
				}
				char *t = realloc(buf, cap * 2);
				if (!t)
					return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "audit", NULL, "out of memory");
				buf = t;
				cap *= 2;
			}
			ssize_t n = read(fd, buf + have, cap - have);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_IOERR, bep_path, NULL,
						    "cannot read: %s", strerror(errno));
			}
			if (n == 0)
				eof = true;
			have += (size_t)n;
		}
		size_t at = 0;
		for (;;) {
			char *nl = memchr(buf + at, '\n', have - at);
			size_t ll;
			if (nl)
				ll = (size_t)(nl - (buf + at));
			else if (eof && have > at)
				ll = have - at;
			else
				break;
			lineno++;
			if (ll > AUDIT_LINE_MAX) {
				char subject[FW_ERROR_SUBJECT_MAX];
				snprintf(subject, sizeof(subject), "%s:%zu", bep_path, lineno);
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject, NULL,
						    "build event longer than %u bytes", AUDIT_LINE_MAX);
			}
			if (ll > 0 && audit_line(ret, buf + at, ll, bep_path, lineno, err) < 0)
				return -1;
			at += ll + (nl ? 1 : 0);
			if (!nl)
				break;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
		if (eof && have == 0)
			break;
	}
	classify(ret, o);
	return 0;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int audit_result_json(const struct audit_result *r, const char *bep_path, const char *manifest_path, char **ret)
{
	json_t *root = json_object();
	json_t *fetches = json_array();
	json_t *uncovered = json_array();
	json_object_set_new(root, "schema", json_string(AUDIT_SCHEMA));
	json_object_set_new(root, "bep", json_string(bep_path));
	json_object_set_new(root, "manifest", jstr_or_null(manifest_path));
	for (size_t i = 0; i < r->n_fetches; i++) {
		const struct audit_fetch *f = &r->fetches[i];
		json_t *o = json_object();
		json_object_set_new(o, "url", json_string(f->url));
		json_object_set_new(o, "class", json_string(audit_class_name(f->cls)));
		json_object_set_new(o, "input", jstr_or_null(f->input));
		json_object_set_new(o, "repository", jstr_or_null(f->rule ? f->rule->name : NULL));
		json_object_set_new(o, "rule_checksum",
				    f->rule ? json_boolean(f->rule->sha256 || f->rule->integrity) : json_null());
		json_object_set_new(o, "attempts", json_integer((json_int_t)f->attempts));
		if (f->cls != AUDIT_PINNED)
			json_object_set_new(o, "fix", json_string("flywheel lock --from-audit FILE (or flywheel lock URL)"));
		json_array_append_new(fetches, o);
		if (f->cls != AUDIT_MIRROR && f->cls != AUDIT_UPSTREAM)
			continue;
		char b[MANIFEST_NAME_MAX + 1];
		const char *name = url_basename(f->url, b, sizeof(b));
		json_t *u = json_object();
		json_object_set_new(u, "name", jstr_or_null(name));
		json_object_set_new(u, "url", json_string(f->url));
		json_object_set_new(u, "class", json_string(audit_class_name(f->cls)));
		json_object_set_new(u, "repository", jstr_or_null(f->rule ? f->rule->name : NULL));
		json_object_set_new(u, "sha256", jstr_or_null(f->rule ? f->rule->sha256 : NULL));
		json_t *ru = json_array();
		for (size_t k = 0; f->rule && k < f->rule->urls.n; k++)
			json_array_append_new(ru, json_string(f->rule->urls.v[k]));
		json_object_set_new(u, "rule_urls", ru);
		json_array_append_new(uncovered, u);
	}
	json_t *counts = json_object();
	for (int c = 0; c < AUDIT__MAX; c++)
		json_object_set_new(counts, audit_class_name((enum audit_class)c), json_integer((json_int_t)r->n[c]));
	json_object_set_new(root, "fetch_events", json_integer((json_int_t)r->events));
	json_object_set_new(root, "counts", counts);
	json_object_set_new(root, "served_without_fetch", json_integer((json_int_t)r->served_without_fetch));
	json_object_set_new(root, "outside_manifest", json_boolean(audit_outside_manifest(r)));
	json_object_set_new(root, "fetches", fetches);
	json_object_set_new(root, "uncovered", uncovered);
	*ret = fw_json_text(root);
	return *ret ? 0 : -ENOMEM;
}

void audit_adopt_free(struct audit_adopt *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].name);
		free(a[i].url);
		free(a[i].sha256);
		free(a[i].repository);
		strv_release(&a[i].rule_urls);
	}
	free(a);
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int audit_adopt_read(const char *path, struct audit_adopt **ret, size_t *ret_n, struct fw_error *err)
{
	*ret = NULL;
	*ret_n = 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(path, AUDIT_RESULT_MAX, false, &data, &len);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, path,
				    "write one with 'flywheel inputs audit --json --out FILE'",
				    "cannot read the audit result: %s", strerror(-r));
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *schema = json_string_value(json_object_get(root, "schema"));
	json_t *unc = json_object_get(root, "uncovered");
	if (!root || !schema || strcmp(schema, AUDIT_SCHEMA) || !json_is_array(unc)) {
		json_decref(root);
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, path,
				    "write one with 'flywheel inputs audit --json --out FILE'",
				    "not a flywheel-audit/1 result%s%s", root ? "" : ": ", root ? "" : jerr.text);
	}
	size_t n = json_array_size(unc);
	struct audit_adopt *a = n ? calloc(n, sizeof(*a)) : NULL;
	if (n && !a) {
		json_decref(root);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		json_t *u = json_array_get(unc, i);
		const char *name = json_string_value(json_object_get(u, "name"));
		const char *url = json_string_value(json_object_get(u, "url"));
		const char *sha = json_string_value(json_object_get(u, "sha256"));
		const char *repo = json_string_value(json_object_get(u, "repository"));
		json_t *ru = json_object_get(u, "rule_urls");
		strv_init(&a[i].rule_urls);
		if (!name || !url || (sha && !hex64(sha)) || (ru && !json_is_array(ru)) ||
		    !(str_has_prefix(url, "http://") || str_has_prefix(url, "https://")) ||
		    strlen(url) > MANIFEST_URL_MAX || json_array_size(ru) > MANIFEST_URLS_MAX) {
			audit_adopt_free(a, n);
			json_decref(root);
			return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, path,
					    "write it again with 'flywheel inputs audit --json --out FILE'",
					    "uncovered entry %zu lacks a name or URL, or has a bad sha256", i + 1);
		}
		a[i].name = fw_strdup(name);
		a[i].url = fw_strdup(url);
		a[i].sha256 = sha ? fw_strdup(sha) : NULL;
		a[i].repository = repo ? fw_strdup(repo) : NULL;
		for (size_t k = 0; k < json_array_size(ru); k++) {
			const char *s = json_string_value(json_array_get(ru, k));
			if (s && strv_push(&a[i].rule_urls, s) < 0)
				break;
		}
	}
	json_decref(root);
	*ret = a;
	*ret_n = n;
	return 0;
}
