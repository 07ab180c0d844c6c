/* manifest.c - parse, validate and write flywheel-inputs/1 manifests (jansson). */
#include "flywheel/manifest.h"

#include "flywheel/endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/banned.h"

#define FIX_MANIFEST "fix the manifest (or regenerate it with 'flywheel lock') and sign it again"

static const char *const status_names[] = {
	[INPUT_REQUIRED] = "required",
	[INPUT_DEFERRED] = "deferred",
	[INPUT_CANDIDATE] = "candidate",
};

const char *input_status_name(enum input_status s)
{
	return (unsigned)s < FW_ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

void manifest_init(struct manifest *m)
{
	*m = (struct manifest){ 0 };
}

void manifest_input_release(struct manifest_input *in)
{
	if (!in)
		return;
	free(in->name);
	strv_release(&in->urls);
	strv_release(&in->canonical_urls);
	*in = (struct manifest_input){ 0 };
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_inputs; i++)
		manifest_input_release(&m->inputs[i]);
	free(m->inputs);
	*m = (struct manifest){ 0 };
}

const char *manifest_name_problem(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return "is empty";
	if (n > MANIFEST_NAME_MAX)
		return "is longer than 255 bytes";
	if (name[0] == '.')
		return "starts with '.'";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == '\\')
			return "contains a path separator";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		/* the name is the distdir file name, which Bazel takes from a URL's
		 * last path segment: nothing a URL would have to encode, nothing a
		 * shell would interpret */
		if (strchr(" \"'`$;|&<>*?[]{}()!#%=,:", c))
			return "contains a space or a character a URL or a shell would treat specially";
	}
	if (strstr(name, ".."))
		return "contains '..'";
	return NULL;
}

static bool hex64_ok(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Only http(s) URLs, no spaces or control characters (they would break the
 * space-joined canonical id), no user:password. */
static const char *url_problem(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > MANIFEST_URL_MAX)
		return "is empty or longer than 2048 bytes";
	if (!str_has_prefix(u, "https://") && !str_has_prefix(u, "http://"))
		return "is not an http or https URL";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= 0x20 || c == 0x7f)
			return "contains a space or control character";
	}
	if (has_placeholder(u))
		return "holds an unexpanded placeholder (${...} or $(...)): write the real URL";
	const char *host = strstr(u, "://") + 3;
	size_t hl = strcspn(host, "/?#");
	if (memchr(host, '@', hl))
		return "carries user information (user:password@)";
	if (hl == 0)
		return "has no host";
	return NULL;
}

int manifest_parse_time(const char *s, int64_t *ret)
{
	/* exactly YYYY-MM-DDTHH:MM:SSZ */
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -EINVAL;
	}
#define D2(p) ((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
	struct tm tm = {
		.tm_year = D2(0) * 100 + D2(2) - 1900,
		.tm_mon = D2(5) - 1,
		.tm_mday = D2(8),
		.tm_hour = D2(11),
		.tm_min = D2(14),
		.tm_sec = D2(17),
	};
#undef D2
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -EINVAL;
	struct tm check = tm;
	time_t t = timegm(&check);
	if (t == (time_t)-1 || check.tm_mday != tm.tm_mday) /* rejects 2027-02-30 */
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

void manifest_format_time(int64_t t, char buf[static 32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	/* %04d, not strftime's %Y: year 28 must read back as "0028" */
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		snprintf(buf, 32, "invalid");
	else
		snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int bad_entry(struct fw_error *err, const char *origin, size_t idx, const char *name,
		     const char *detail)
{
	char subject[FW_ERROR_SUBJECT_MAX];
	if (name)
		snprintf(subject, sizeof(subject), "%s: input \"%.100s\"", origin, name);
	else
		snprintf(subject, sizeof(subject), "%s: inputs[%zu]", origin, idx);
	return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject, FIX_MANIFEST, "%s",
			    detail);
}

static int parse_urls(json_t *arr, const char *field, struct strv *out, bool required,
		      const char *origin, size_t idx, const char *name, struct fw_error *err)
{
	char what[128];
	if (!arr) {
		if (!required)
			return 0;
		snprintf(what, sizeof(what), "has no \"%s\"", field);
		return bad_entry(err, origin, idx, name, what);
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > MANIFEST_URLS_MAX) {
		snprintf(what, sizeof(what), "\"%s\" must be a list of 1 to %u URLs", field,
			 MANIFEST_URLS_MAX);
		return bad_entry(err, origin, idx, name, what);
	}
	out->max = MANIFEST_URLS_MAX;
	size_t i;
	json_t *u;
	json_array_foreach(arr, i, u) {
		if (!json_is_string(u)) {
			snprintf(what, sizeof(what), "\"%s\"[%zu] is not a string", field, i);
			return bad_entry(err, origin, idx, name, what);
		}
		const char *s = json_string_value(u);
		const char *p = strlen(s) == json_string_length(u) ? url_problem(s)
								   : "contains a NUL byte";
		if (p) {
			snprintf(what, sizeof(what), "\"%s\"[%zu] %s", field, i, p);
			return bad_entry(err, origin, idx, name, what);
		}
		if (strv_contains(out, s)) {
			snprintf(what, sizeof(what), "\"%s\"[%zu] is listed twice", field, i);
			return bad_entry(err, origin, idx, name, what);
		}
		if (strv_push(out, s) < 0)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL,
					    "out of memory");
	}
	return 0;
}

static int parse_input(json_t *o, size_t idx, const char *origin, struct manifest_input *in,
		       struct fw_error *err)
{
	if (!json_is_object(o))
		return bad_entry(err, origin, idx, NULL, "is not an object");
	json_t *jn = json_object_get(o, "name");
	if (!json_is_string(jn))
		return bad_entry(err, origin, idx, NULL, "has no \"name\" string");
	const char *name = json_string_value(jn);
	const char *prob = strlen(name) == json_string_length(jn) ? manifest_name_problem(name)
								  : "contains a NUL byte";
	if (prob) {
		char what[160];
		snprintf(what, sizeof(what), "name %s (names are plain file names)", prob);
		return bad_entry(err, origin, idx, NULL, what);
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		static const char *const known[] = { "name", "sha256", "size", "urls", "status",
						     "canonical_urls" };
		bool ok = false;
		for (size_t k = 0; k < FW_ARRAY_SIZE(known); k++)
			ok = ok || !strcmp(key, known[k]);
		if (!ok) {
			char what[160];
			snprintf(what, sizeof(what), "unknown field \"%.60s\"", key);
			return bad_entry(err, origin, idx, name, what);
		}
	}
	in->name = fw_strdup(name);
	if (!in->name)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");

	json_t *js = json_object_get(o, "sha256");
	if (!json_is_string(js) || !hex64_ok(json_string_value(js)))
		return bad_entry(err, origin, idx, name, "\"sha256\" must be 64 lower-case hex digits");
	memcpy(in->sha256, json_string_value(js), 65);

	json_t *jz = json_object_get(o, "size");
	if (!json_is_integer(jz) || json_integer_value(jz) < 0 ||
	    (uint64_t)json_integer_value(jz) > MANIFEST_SIZE_MAX)
		return bad_entry(err, origin, idx, name, "\"size\" must be an integer from 0 to 64 GiB");
	in->size = (uint64_t)json_integer_value(jz);

	if (parse_urls(json_object_get(o, "urls"), "urls", &in->urls, true, origin, idx, name, err) < 0)
		return -1;
	if (parse_urls(json_object_get(o, "canonical_urls"), "canonical_urls", &in->canonical_urls,
		       false, origin, idx, name, err) < 0)
		return -1;

	in->status = INPUT_REQUIRED;
	json_t *jst = json_object_get(o, "status");
	if (jst) {
		bool found = false;
		for (size_t k = 0; json_is_string(jst) && k < FW_ARRAY_SIZE(status_names); k++) {
			if (!strcmp(json_string_value(jst), status_names[k])) {
				in->status = (enum input_status)k;
				found = true;
			}
		}
		if (!found)
			return bad_entry(err, origin, idx, name, "\"status\" must be required, deferred or candidate");
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct manifest_input *x = a, *y = b;
	return strcmp(x->name, y->name);
}

int manifest_parse(const char *data, size_t len, const char *origin, struct manifest *ret,
		   struct fw_error *err)
{
	if (len > MANIFEST_MAX_BYTES)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
				    "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s:%d", origin, jerr.line);
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject, FIX_MANIFEST,
				    "not valid JSON: %s", jerr.text);
	}
	struct manifest m;
	manifest_init(&m);
	int r = -1;

	if (!json_is_object(root)) {
		fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
			     "the manifest is not a JSON object");
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "schema") && strcmp(key, "version") && strcmp(key, "expires") &&
		    strcmp(key, "inputs")) {
			fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
				     "unknown top-level field \"%.60s\"", key);
			goto out;
		}
	}
	json_t *js = json_object_get(root, "schema");
	if (!json_is_string(js) || strcmp(json_string_value(js), MANIFEST_SCHEMA)) {
		fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin,
			     "use \"schema\": \"" MANIFEST_SCHEMA "\" (or a flywheel that knows the newer schema)",
			     "unknown or missing schema \"%.60s\"",
			     json_is_string(js) ? json_string_value(js) : "");
		goto out;
	}
	json_t *jv = json_object_get(root, "version");
	if (!json_is_integer(jv) || json_integer_value(jv) < 1 ||
	    (uint64_t)json_integer_value(jv) > MANIFEST_VERSION_MAX) {
		fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
			     "\"version\" must be a positive integer");
		goto out;
	}
	m.version = (uint64_t)json_integer_value(jv);
	json_t *je = json_object_get(root, "expires");
	if (!json_is_string(je) || manifest_parse_time(json_string_value(je), &m.expires) < 0) {
		fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
			     "\"expires\" must be a UTC time like 2027-06-01T00:00:00Z");
		goto out;
	}
	json_t *ji = json_object_get(root, "inputs");
	if (!json_is_array(ji) || json_array_size(ji) > MANIFEST_INPUTS_MAX) {
		fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, origin, FIX_MANIFEST,
			     "\"inputs\" must be a list of at most %u entries", MANIFEST_INPUTS_MAX);
		goto out;
	}
	size_t n = json_array_size(ji);
	m.inputs = n ? calloc(n, sizeof(*m.inputs)) : NULL;
	if (n && !m.inputs) {
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, origin, NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		m.n_inputs = i + 1;
		if (parse_input(json_array_get(ji, i), i, origin, &m.inputs[i], err) < 0)
			goto out;
	}
	if (m.n_inputs > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(m.inputs, m.n_inputs, sizeof(*m.inputs), name_cmp);
	for (size_t i = 1; i < m.n_inputs; i++) {
		if (!strcmp(m.inputs[i - 1].name, m.inputs[i].name)) {
			bad_entry(err, origin, 0, m.inputs[i].name, "is listed twice");
			goto out;
		}
	}
	*ret = m;
	manifest_init(&m);
	r = 0;
out:
	manifest_release(&m);
	json_decref(root);
	return r;
}

int manifest_read(const char *path, char **ret_data, size_t *ret_len, struct fw_error *err)
{
	int r = read_small_file(path, MANIFEST_MAX_BYTES, true, ret_data, ret_len);
	if (r == -EFBIG)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, path, FIX_MANIFEST,
				    "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
	if (r == -ELOOP)
		return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, path,
				    "point inputs.manifest at the real file",
				    "the manifest is a symbolic link");
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, r == -ENOENT ? FW_EX_CONFIG : FW_EX_IOERR,
				    path, "check inputs.manifest / --manifest",
				    "cannot read the manifest: %s", strerror(-r));
	return 0;
}

static json_t *urls_json(const struct strv *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n; i++)
		if (json_array_append_new(a, json_string(s->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int manifest_write(const struct manifest *m, char **ret, struct fw_error *err)
{
	/* Sort a copy of the index so the writer is deterministic whatever the order. */
	_cleanup_free_ const struct manifest_input **order =
		m->n_inputs ? calloc(m->n_inputs, sizeof(*order)) : NULL;
	if (m->n_inputs && !order)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "manifest", NULL,
				    "out of memory");
	for (size_t i = 0; i < m->n_inputs; i++)
		order[i] = &m->inputs[i];
	for (size_t i = 1; i < m->n_inputs; i++) /* insertion sort: stable, n is small */
		for (size_t j = i; j > 0 && strcmp(order[j - 1]->name, order[j]->name) > 0; j--) {
			const struct manifest_input *t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}

	char expires[32];
	manifest_format_time(m->expires, expires);
	json_t *root = json_object();
	json_t *inputs = json_array();
	bool ok = root && inputs && !json_object_set_new(root, "schema", json_string(MANIFEST_SCHEMA)) &&
		  !json_object_set_new(root, "version", json_integer((json_int_t)m->version)) &&
		  !json_object_set_new(root, "expires", json_string(expires));
	for (size_t i = 0; ok && i < m->n_inputs; i++) {
		const struct manifest_input *in = order[i];
		json_t *o = json_object();
		ok = o && !json_object_set_new(o, "name", json_string(in->name)) &&
		     !json_object_set_new(o, "sha256", json_string(in->sha256)) &&
		     !json_object_set_new(o, "size", json_integer((json_int_t)in->size)) &&
		     !json_object_set_new(o, "urls", urls_json(&in->urls));
		if (ok && in->status != INPUT_REQUIRED)
			ok = !json_object_set_new(o, "status", json_string(input_status_name(in->status)));
		if (ok && in->canonical_urls.n)
			ok = !json_object_set_new(o, "canonical_urls", urls_json(&in->canonical_urls));
		/* the *_new calls consume their value even when they fail */
		if (ok)
			ok = !json_array_append_new(inputs, o);
		else
			json_decref(o);
	}
	bool inputs_given = ok;
	ok = ok && !json_object_set_new(root, "inputs", inputs);
	if (!ok) {
		if (!inputs_given)
			json_decref(inputs);
		json_decref(root);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "manifest", NULL,
				    "out of memory");
	}
	/* JSON_PRESERVE_ORDER keeps insertion order: schema, version, expires, inputs. */
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(root);
	if (!text)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "manifest", NULL,
				    "out of memory");
	char *withnl = fw_asprintf("%s\n", text);
	free(text);
	if (!withnl)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "manifest", NULL,
				    "out of memory");
	*ret = withnl;
	return 0;
}

const struct manifest_input *manifest_find(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_inputs; i++)
		if (!strcmp(m->inputs[i].name, name))
			return &m->inputs[i];
	return NULL;
}

int manifest_upsert(struct manifest *m, struct manifest_input *in)
{
	for (size_t i = 0; i < m->n_inputs; i++) {
		if (!strcmp(m->inputs[i].name, in->name)) {
			manifest_input_release(&m->inputs[i]);
			m->inputs[i] = *in;
			*in = (struct manifest_input){ 0 };
			return 0;
		}
	}
	if (m->n_inputs >= MANIFEST_INPUTS_MAX)
		return -E2BIG;
	struct manifest_input *n = realloc(m->inputs, (m->n_inputs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->inputs = n;
	m->inputs[m->n_inputs++] = *in;
	*in = (struct manifest_input){ 0 };
	return 0;
}

const struct strv *manifest_rule_urls(const struct manifest_input *in)
{
	return in->canonical_urls.n ? &in->canonical_urls : &in->urls;
}

int manifest_write_over(struct manifest *m, const char *old_text, size_t old_len, char **ret,
			struct fw_error *err)
{
	char *text = NULL;
	if (manifest_write(m, &text, err) < 0)
		return -1;
	if (old_text && (old_len != strlen(text) || memcmp(old_text, text, old_len) != 0)) {
		free(text);
		text = NULL;
		m->version++;
		if (manifest_write(m, &text, err) < 0)
			return -1;
	}
	*ret = text;
	return 0;
}
