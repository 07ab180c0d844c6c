/* eligibility.c - the target-class eligibility manifest and the executor-mode decision. */
#include "flywheel/eligibility.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "flywheel/config.h"
#include "flywheel/report.h"
#include "flywheel/banned.h"

const char *elig_status_name(enum elig_status s)
{
	switch (s) {
	case ELIG_PROVED:
		return "proved";
	case ELIG_CANDIDATE:
		return "candidate";
	case ELIG_BLOCKED:
		return "blocked";
	}
	return "?";
}

void eligibility_init(struct elig_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

static void class_release(struct elig_class *c)
{
	free(c->name);
	strv_release(&c->labels);
	strv_release(&c->requirements);
	free(c->proof);
	free(c->boundary);
	strv_release(&c->blockers);
	free(c->go_condition);
}

void eligibility_release(struct elig_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_classes; i++)
		class_release(&m->classes[i]);
	free(m->classes);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* ---- target patterns ------------------------------------------------------ */

enum pat_kind { PAT_TARGET, PAT_PACKAGE_ALL, PAT_RECURSIVE };

struct pattern {
	char repo[ELIG_NAME_MAX]; /* "" for the main repository */
	char pkg[ELIG_TARGET_MAX];
	char name[ELIG_TARGET_MAX];
	enum pat_kind kind;
};

static bool pat_char_ok(char c)
{
	return c > ' ' && c != 0x7f && c != '"' && c != '\'' && c != '\\';
}

/* Parse an absolute pattern: [@repo]//pkg[:name], //pkg/..., //pkg:all. */
static int pattern_parse(const char *s, struct pattern *p)
{
	memset(p, 0, sizeof(*p));
	size_t n = strlen(s);
	if (n == 0 || n >= ELIG_TARGET_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pat_char_ok(s[i]))
			return -EINVAL;
	const char *slashes = strstr(s, "//");
	if (!slashes)
		return -EINVAL;
	if (slashes != s) {
		if (s[0] != '@')
			return -EINVAL;
		const char *r = s[1] == '@' ? s + 2 : s + 1;
		size_t rl = (size_t)(slashes - r);
		if (rl >= sizeof(p->repo))
			return -EINVAL;
		memcpy(p->repo, r, rl); /* "@//x" and "@@//x" are the main repository */
	}
	const char *rest = slashes + 2;
	const char *colon = strchr(rest, ':');
	size_t pl = colon ? (size_t)(colon - rest) : strlen(rest);
	memcpy(p->pkg, rest, pl);
	p->pkg[pl] = '\0';
	const char *name = colon ? colon + 1 : NULL;
	if (strcmp(p->pkg, "...") == 0 || str_has_suffix(p->pkg, "/...")) {
		if (name && strcmp(name, "all") && strcmp(name, "*") && strcmp(name, "all-targets"))
			return -EINVAL;
		p->kind = PAT_RECURSIVE;
		p->pkg[pl >= 4 ? pl - 4 : 0] = '\0';
		return 0;
	}
	if (strstr(p->pkg, "...") || strstr(p->pkg, "//") || (pl > 0 && p->pkg[pl - 1] == '/'))
		return -EINVAL;
	if (name) {
		if (!*name || strchr(name, ':'))
			return -EINVAL;
		if (!strcmp(name, "all") || !strcmp(name, "*") || !strcmp(name, "all-targets")) {
			p->kind = PAT_PACKAGE_ALL;
			return 0;
		}
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->kind = PAT_TARGET;
		return 0;
	}
	/* //a/b is //a/b:b */
	if (pl == 0)
		return -EINVAL;
	const char *last = strrchr(p->pkg, '/');
	snprintf(p->name, sizeof(p->name), "%s", last ? last + 1 : p->pkg);
	p->kind = PAT_TARGET;
	return 0;
}

static bool pkg_under(const char *pkg, const char *root)
{
	size_t n = strlen(root);
	if (n == 0)
		return true;
	return strncmp(pkg, root, n) == 0 && (pkg[n] == '\0' || pkg[n] == '/');
}

static bool covers(const struct pattern *a, const struct pattern *b)
{
	if (strcmp(a->repo, b->repo) != 0)
		return false;
	switch (a->kind) {
	case PAT_RECURSIVE:
		return pkg_under(b->pkg, a->pkg);
	case PAT_PACKAGE_ALL:
		return b->kind != PAT_RECURSIVE && strcmp(a->pkg, b->pkg) == 0;
	case PAT_TARGET:
		return b->kind == PAT_TARGET && strcmp(a->pkg, b->pkg) == 0 && strcmp(a->name, b->name) == 0;
	}
	return false;
}

bool elig_pattern_covers(const char *a, const char *b)
{
	struct pattern pa, pb;
	if (pattern_parse(a, &pa) < 0 || pattern_parse(b, &pb) < 0)
		return false;
	return covers(&pa, &pb);
}

/* ---- loading --------------------------------------------------------------- */

struct ctx {
	const char *path;
	struct fw_error *err;
	char cls[ELIG_NAME_MAX + 32]; /* 'class "x"' or 'class #3' */
};

static int field_error(struct ctx *c, const char *field, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int field_error(struct ctx *c, const char *field, const char *fix, const char *fmt, ...)
{
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "%s: %s%sfield \"%s\"", c->path, c->cls, c->cls[0] ? " " : "",
		 field);
	char what[FW_ERROR_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fw_error_set(c->err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, fix, "%s", what);
}

static int get_string(struct ctx *c, json_t *obj, const char *field, bool required, char **ret)
{
	json_t *v = json_object_get(obj, field);
	if (!v || json_is_null(v)) {
		if (required)
			return field_error(c, field, "add it", "is missing");
		return 0;
	}
	if (!json_is_string(v))
		return field_error(c, field, "write it as a JSON string", "is not a string");
	size_t n = json_string_length(v);
	if (n == 0 && required)
		return field_error(c, field, "give it a value", "is empty");
	if (n > ELIG_TEXT_MAX || strlen(json_string_value(v)) != n)
		return field_error(c, field, "shorten it", "is longer than %u bytes or holds a NUL",
				   ELIG_TEXT_MAX);
	*ret = fw_strdup(json_string_value(v));
	return *ret ? 0 : field_error(c, field, NULL, "out of memory");
}

static int get_strings(struct ctx *c, json_t *obj, const char *field, size_t max, struct strv *ret)
{
	json_t *v = json_object_get(obj, field);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		/* a single string is accepted where a list is expected */
		if (json_string_length(v) > ELIG_TEXT_MAX)
			return field_error(c, field, "shorten it", "is longer than %u bytes", ELIG_TEXT_MAX);
		return strv_push(ret, json_string_value(v)) < 0 ? field_error(c, field, NULL, "out of memory") : 0;
	}
	if (!json_is_array(v))
		return field_error(c, field, "write it as a list of strings", "is not a list");
	if (json_array_size(v) > max)
		return field_error(c, field, "split the class", "has more than %zu entries", max);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return field_error(c, field, "write it as a list of strings", "entry %zu is not a string",
					   i + 1);
		if (json_string_length(e) > ELIG_TEXT_MAX)
			return field_error(c, field, "shorten it", "entry %zu is longer than %u bytes", i + 1,
					   ELIG_TEXT_MAX);
		if (strv_push(ret, json_string_value(e)) < 0)
			return field_error(c, field, NULL, "out of memory");
	}
	return 0;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) >= ELIG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int load_class(struct ctx *c, json_t *o, size_t index, struct elig_class *k)
{
	snprintf(c->cls, sizeof(c->cls), "class #%zu", index + 1);
	if (!json_is_object(o))
		return field_error(c, "classes", "each class is a JSON object", "entry %zu is not an object",
				   index + 1);
	int r = get_string(c, o, "name", true, &k->name);
	if (r < 0)
		return r;
	if (!name_ok(k->name))
		return field_error(c, "name", "use letters, digits, '.', '_' and '-'",
				   "\"%.64s\" is not a valid class name", k->name);
	snprintf(c->cls, sizeof(c->cls), "class \"%s\"", k->name);

	_cleanup_free_ char *status = NULL;
	if ((r = get_string(c, o, "status", true, &status)) < 0)
		return r;
	if (!strcmp(status, "proved"))
		k->status = ELIG_PROVED;
	else if (!strcmp(status, "candidate"))
		k->status = ELIG_CANDIDATE;
	else if (!strcmp(status, "blocked"))
		k->status = ELIG_BLOCKED;
	else
		return field_error(c, "status", "use proved, candidate or blocked", "\"%.64s\" is not a status",
				   status);

	if ((r = get_strings(c, o, "labels", ELIG_LABELS_MAX, &k->labels)) < 0)
		return r;
	if (k->labels.n == 0)
		return field_error(c, "labels", "list the target patterns of the class, e.g. \"//app/...\"",
				   "is missing or empty");
	for (size_t i = 0; i < k->labels.n; i++) {
		struct pattern p;
		if (pattern_parse(k->labels.v[i], &p) < 0)
			return field_error(c, "labels", "write absolute patterns: //pkg:name, //pkg/..., //pkg:all",
					   "\"%.200s\" is not an absolute target pattern", k->labels.v[i]);
	}

	struct strv modes;
	strv_init(&modes);
	r = get_strings(c, o, "allowed_modes", 8, &modes);
	for (size_t i = 0; r == 0 && i < modes.n; i++) {
		if (!strcmp(modes.v[i], "local"))
			k->modes |= ELIG_MODE_LOCAL;
		else if (!strcmp(modes.v[i], "cache"))
			k->modes |= ELIG_MODE_CACHE;
		else if (!strcmp(modes.v[i], "executor"))
			k->modes |= ELIG_MODE_EXECUTOR;
		else
			r = field_error(c, "allowed_modes", "use local, cache and executor",
					"\"%.64s\" is not a mode", modes.v[i]);
	}
	strv_release(&modes);
	if (r < 0)
		return r;
	if (k->modes == 0)
		return field_error(c, "allowed_modes", "list at least one of local, cache, executor",
				   "is missing or empty");
	if ((r = get_strings(c, o, "requirements", ELIG_LABELS_MAX, &k->requirements)) < 0)
		return r;

	k->proof_required = true;
	json_t *pr = json_object_get(o, "proof_required");
	if (pr && !json_is_null(pr)) {
		if (!json_is_boolean(pr))
			return field_error(c, "proof_required", "write true or false", "is not a boolean");
		k->proof_required = json_is_true(pr);
	}
	if ((r = get_string(c, o, "proof", false, &k->proof)) < 0 ||
	    (r = get_string(c, o, "boundary", false, &k->boundary)) < 0 ||
	    (r = get_strings(c, o, "blockers", ELIG_LABELS_MAX, &k->blockers)) < 0 ||
	    (r = get_string(c, o, "go_condition", false, &k->go_condition)) < 0)
		return r;
	if (k->status == ELIG_BLOCKED && k->blockers.n == 0 && !k->boundary)
		return field_error(c, "blockers", "say what blocks the class", "is missing for a blocked class");
	if (k->status == ELIG_CANDIDATE && !k->go_condition)
		return field_error(c, "go_condition", "say what would make the class proved",
				   "is missing for a candidate class");
	return 0;
}

int eligibility_parse(const char *text, size_t len, const char *path, struct elig_manifest *m,
		      struct fw_error *err)
{
	struct ctx c = { .path = path, .err = err };
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s:%d", path, jerr.line);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, subject, "fix the JSON syntax",
				    "%s", jerr.text);
	}
	struct elig_manifest out;
	eligibility_init(&out);
	int r = 0;
	json_t *classes = json_object_get(root, "classes");
	if (!json_is_object(root))
		r = field_error(&c, "(top level)", "the manifest is one JSON object", "is not an object");
	else if (!json_is_array(classes) || json_array_size(classes) == 0)
		r = field_error(&c, "classes", "list the target classes", "is missing, empty or not a list");
	else if (json_array_size(classes) > ELIG_CLASSES_MAX)
		r = field_error(&c, "classes", "merge classes", "has more than %u classes", ELIG_CLASSES_MAX);
	if (r == 0) {
		json_t *schema = json_object_get(root, "schema");
		if (schema && (!json_is_string(schema) ||
			       !str_has_prefix(json_string_value(schema), "rbe-target-eligibility/")))
			r = field_error(&c, "schema", "use \"rbe-target-eligibility/1\" or leave it out",
					"is not an rbe-target-eligibility schema");
	}
	if (r == 0) {
		out.classes = calloc(json_array_size(classes), sizeof(*out.classes));
		if (!out.classes)
			r = field_error(&c, "classes", NULL, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < json_array_size(classes); i++) {
		struct elig_class *k = &out.classes[out.n_classes++];
		r = load_class(&c, json_array_get(classes, i), i, k);
		for (size_t j = 0; r == 0 && j + 1 < out.n_classes; j++)
			if (!strcmp(out.classes[j].name, k->name))
				r = field_error(&c, "name", "give every class its own name",
						"is used by class #%zu too", j + 1);
	}
	json_decref(root);
	if (r == 0 && !(out.path = fw_strdup(path)))
		r = fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, path, NULL, "out of memory");
	if (r < 0) {
		eligibility_release(&out);
		return r;
	}
	*m = out;
	return 0;
}

int eligibility_load(const char *path, struct elig_manifest *m, struct fw_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_small_file(path, ELIG_FILE_MAX, false, &text, &len);
	if (r == -EFBIG)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_DATAERR, path, "split the manifest",
				    "eligibility manifest is larger than %u bytes", ELIG_FILE_MAX);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_IOERR, path,
				    "set executor.eligibility (FLYWHEEL_ELIGIBILITY) to a readable file",
				    "cannot read eligibility manifest: %s", strerror(-r));
	return eligibility_parse(text, len, path, m, err);
}

const struct elig_class *eligibility_find_class(const struct elig_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_classes; i++)
		if (!strcmp(m->classes[i].name, name))
			return &m->classes[i];
	return NULL;
}

/* ---- the decision ------------------------------------------------------------ */

static bool class_ok(const struct elig_class *k)
{
	return k->status == ELIG_PROVED && (k->modes & ELIG_MODE_EXECUTOR);
}

static void why_not(const struct elig_class *k, char *buf, size_t len)
{
	if (k->status == ELIG_BLOCKED)
		snprintf(buf, len, "class \"%s\" is blocked%s%s", k->name, k->blockers.n ? ": " : "",
			 k->blockers.n ? k->blockers.v[0] : (k->boundary ? k->boundary : ""));
	else if (k->status == ELIG_CANDIDATE)
		snprintf(buf, len, "class \"%s\" is candidate, not proved (go condition: %s)", k->name,
			 k->go_condition ? k->go_condition : "none given");
	else
		snprintf(buf, len, "class \"%s\" does not allow executor mode", k->name);
}

static int decide_one(const struct elig_manifest *m, const char *t, struct elig_decision *d)
{
	snprintf(d->target, sizeof(d->target), "%s", t);
	struct pattern p;
	if (pattern_parse(t, &p) < 0) {
		snprintf(d->reason, sizeof(d->reason),
			 "not an absolute target pattern (write it as //pkg:name or //pkg/...)");
		return 0;
	}
	const struct elig_class *proved = NULL;
	for (size_t i = 0; i < m->n_classes; i++) {
		const struct elig_class *k = &m->classes[i];
		for (size_t j = 0; j < k->labels.n; j++) {
			struct pattern lp;
			if (pattern_parse(k->labels.v[j], &lp) < 0)
				continue;
			bool cov = covers(&lp, &p);
			bool overlap = cov || covers(&p, &lp);
			if (!overlap)
				continue;
			if (!class_ok(k)) {
				/* any target of a class that may not use the executor
				 * inside the pattern makes the whole pattern ineligible */
				why_not(k, d->reason, sizeof(d->reason));
				d->cls = k;
				return 0;
			}
			if (cov && !proved)
				proved = k;
		}
	}
	if (!proved) {
		snprintf(d->reason, sizeof(d->reason), "not in any class of %s", m->path ? m->path : "the manifest");
		return 0;
	}
	return 1;
}

int eligibility_check_targets(const struct elig_manifest *m, const char *const *targets, size_t n,
			      struct elig_decision *ret)
{
	if (!m || !ret || (n > 0 && !targets))
		return -EINVAL;
	struct elig_decision d;
	memset(&d, 0, sizeof(d));
	size_t positive = 0;
	for (size_t i = 0; i < n; i++) {
		if (targets[i][0] == '-')
			continue; /* a negative pattern only removes targets */
		positive++;
		if (decide_one(m, targets[i], &d) == 0) {
			*ret = d;
			return 0;
		}
	}
	memset(&d, 0, sizeof(d));
	if (positive == 0) {
		snprintf(d.reason, sizeof(d.reason), "no target patterns given");
		*ret = d;
		return 0;
	}
	d.eligible = true;
	*ret = d;
	return 0;
}

/* ---- command ----------------------------------------------------------------- */

static char *default_manifest_path(struct fw_error *err)
{
	struct config c;
	config_init(&c);
	struct config_opts o = { 0 };
	char *path = NULL;
	if (config_load(&c, &o, err) == 0) {
		const char *v = config_get(&c, CFG_ELIGIBILITY);
		if (v)
			path = fw_strdup(v);
		else if (c.workspace)
			path = fw_asprintf("%s/config/rbe-target-eligibility.json", c.workspace);
		if (!path)
			fw_error_set(err, FW_CLASS_CONFIG, FW_EX_USAGE, "eligibility",
				     "give the file, or set executor.eligibility (FLYWHEEL_ELIGIBILITY)",
				     "no eligibility manifest configured");
	}
	config_release(&c);
	return path;
}

static void print_show(const struct elig_manifest *m)
{
	printf("%-24s %-10s %-24s %s\n", "CLASS", "STATUS", "MODES", "LABELS");
	for (size_t i = 0; i < m->n_classes; i++) {
		const struct elig_class *k = &m->classes[i];
		char modes[32];
		snprintf(modes, sizeof(modes), "%s%s%s", k->modes & ELIG_MODE_LOCAL ? "local," : "",
			 k->modes & ELIG_MODE_CACHE ? "cache," : "", k->modes & ELIG_MODE_EXECUTOR ? "executor," : "");
		modes[strlen(modes) - 1] = '\0';
		printf("%-24s %-10s %-24s", k->name, elig_status_name(k->status), modes);
		for (size_t j = 0; j < k->labels.n; j++)
			printf("%s%s", j ? " " : "", k->labels.v[j]);
		printf("\n");
		if (k->status == ELIG_BLOCKED)
			for (size_t j = 0; j < k->blockers.n; j++)
				printf("%-24s   blocker: %s\n", "", k->blockers.v[j]);
		if (k->status == ELIG_CANDIDATE && k->go_condition)
			printf("%-24s   go condition: %s\n", "", k->go_condition);
	}
}

int cmd_eligibility(int argc, char **argv)
{
	struct fw_error err = { 0 };
	if (argc < 2 || (strcmp(argv[1], "check") && strcmp(argv[1], "show"))) {
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, "eligibility",
			     "use 'flywheel eligibility check [FILE] [-- TARGETS]' or 'show [FILE]'",
			     "expected check or show");
		report_error(&err);
		return FW_EX_USAGE;
	}
	bool show = !strcmp(argv[1], "show");
	int i = 2;
	_cleanup_free_ char *path = NULL;
	if (i < argc && strcmp(argv[i], "--") != 0)
		path = fw_strdup(argv[i++]);
	else
		path = default_manifest_path(&err);
	if (!path) {
		report_error(&err);
		return err.exit_code ? err.exit_code : FW_EX_SOFTWARE;
	}
	bool have_targets = i < argc && !strcmp(argv[i], "--");
	if (i < argc && !have_targets) {
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, argv[i], "put target patterns after '--'",
			     "unexpected argument");
		report_error(&err);
		return FW_EX_USAGE;
	}
	struct elig_manifest m;
	eligibility_init(&m);
	if (eligibility_load(path, &m, &err) < 0) {
		report_error(&err);
		return err.exit_code;
	}
	int rc = 0;
	if (show) {
		print_show(&m);
	} else {
		size_t np = 0, nc = 0, nb = 0;
		for (size_t k = 0; k < m.n_classes; k++) {
			np += m.classes[k].status == ELIG_PROVED;
			nc += m.classes[k].status == ELIG_CANDIDATE;
			nb += m.classes[k].status == ELIG_BLOCKED;
		}
		printf("%s: valid, %zu classes (%zu proved, %zu candidate, %zu blocked)\n", path, m.n_classes,
		       np, nc, nb);
		if (have_targets) {
			struct elig_decision d;
			eligibility_check_targets(&m, (const char *const *)argv + i + 1, (size_t)(argc - i - 1), &d);
			if (d.eligible) {
				printf("executor mode: eligible\n");
			} else {
				char subject[FW_ERROR_SUBJECT_MAX];
				snprintf(subject, sizeof(subject), "%s", d.target[0] ? d.target : "targets");
				fw_error_set(&err, FW_CLASS_ELIGIBILITY, FW_EX_FAIL, subject,
					     "run it in cache mode, or prove its class with 'flywheel proof'",
					     "not eligible for executor mode: %s", d.reason);
				report_error(&err);
				rc = FW_EX_FAIL;
			}
		}
	}
	eligibility_release(&m);
	return rc;
}
