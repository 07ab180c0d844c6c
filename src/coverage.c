/* coverage.c - required inputs staged and verified or not; and the `inputs`
 * command handlers (audit, coverage, check-downloader-config,
 * downloader-config) with `lock --from-audit`. */
#include "flywheel/coverage.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/audit.h"
#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/dlconfig.h"
#include "flywheel/report.h"
#include "flywheel/stage.h"
#include "flywheel/banned.h"

const char *coverage_state_name(enum coverage_state s)
{
	switch (s) {
	case COVERAGE_STAGED: return "staged";
	case COVERAGE_PARTIAL: return "partial";
	case COVERAGE_MISSING: return "missing";
	}
	return "?";
}

void coverage_result_release(struct coverage_result *r)
{
	if (!r)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* Whether path holds a copy with sha256: the record says so for this exact
 * file, else it is hashed again.  Bazel touches a repository-cache entry on
 * every hit (RepositoryCache.get -> touchFile), and the distdir copy is a hard
 * link of it, so after a build the recorded mtime/ctime rarely still match. */
static bool verified(const struct stagecheck_record *rec, const char *path, const char *sha256)
{
	/* a coverage report vouches for content: the record counts only for the
	 * file with exactly the recorded stat identity, times included */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (rec && stagecheck_record_matches(rec, path, sha256, &st))
		return true;
	char hex[65];
	uint64_t size = 0;
	return stage_hash_fd(fd, hex, &size) == 0 && strcmp(hex, sha256) == 0;
}

int coverage_run(const struct manifest *m, const char *manifest_path, const struct stagecheck_opts *o,
		 struct coverage_result *ret, struct fw_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (o->n_distdirs == 0 && !o->repo_cache)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "coverage",
				    "set bazel.distdir or bazel.repository_cache (or --distdir / --repository-cache)",
				    "no staging destination to check");
	if (o->n_distdirs > STAGECHECK_DISTDIRS_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "bazel.distdir", "list at most 16",
				    "too many distdirs");
	ret->items = m->n_inputs ? calloc(m->n_inputs, sizeof(*ret->items)) : NULL;
	if (m->n_inputs && !ret->items)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "coverage", NULL, "out of memory");
	ret->n_items = m->n_inputs;

	struct stagecheck_record rec;
	stagecheck_record_init(&rec);
	_cleanup_free_ char *record_path = NULL, *identity = NULL;
	if (stagecheck_identity(manifest_path, o, &record_path, &identity) == 0 &&
	    stagecheck_record_read(record_path, &rec) == 0 && rec.identity && strcmp(rec.identity, identity) == 0)
		ret->record_found = true;

	/* destinations by real path, as the stager records them */
	char *dist_real[STAGECHECK_DISTDIRS_MAX] = { 0 };
	_cleanup_free_ char *cache_real = o->repo_cache ? realpath(o->repo_cache, NULL) : NULL;
	for (size_t d = 0; d < o->n_distdirs; d++)
		dist_real[d] = realpath(o->distdirs[d], NULL);
	for (size_t i = 0; i < m->n_inputs; i++) {
		const struct manifest_input *in = &m->inputs[i];
		struct coverage_item *it = &ret->items[i];
		it->in = in;
		it->dests = o->n_distdirs + (o->repo_cache ? 1 : 0);
		for (size_t d = 0; d < o->n_distdirs; d++) {
			if (!dist_real[d])
				continue;
			_cleanup_free_ char *p = fw_asprintf("%s/%s", dist_real[d], in->name);
			if (p && verified(ret->record_found ? &rec : NULL, p, in->sha256))
				it->dests_ok++;
		}
		if (cache_real) {
			_cleanup_free_ char *p =
				fw_asprintf("%s/content_addressable/sha256/%s/file", cache_real, in->sha256);
			if (p && verified(ret->record_found ? &rec : NULL, p, in->sha256))
				it->dests_ok++;
		}
		it->state = it->dests_ok == it->dests ? COVERAGE_STAGED
			    : it->dests_ok ? COVERAGE_PARTIAL
					   : COVERAGE_MISSING;
		if (in->status == INPUT_REQUIRED) {
			ret->required++;
			if (it->state == COVERAGE_STAGED)
				ret->required_staged++;
		}
	}
	for (size_t d = 0; d < o->n_distdirs; d++)
		free(dist_real[d]);
	stagecheck_record_release(&rec);
	ret->covered = ret->required == ret->required_staged;
	return 0;
}

int coverage_result_json(const struct coverage_result *r, const char *manifest_path, char **ret)
{
	json_t *root = json_object();
	json_t *items = json_array(), *missing = json_array();
	json_object_set_new(root, "schema", json_string("flywheel-coverage/1"));
	json_object_set_new(root, "manifest", json_string(manifest_path));
	json_object_set_new(root, "covered", json_boolean(r->covered));
	json_object_set_new(root, "record_found", json_boolean(r->record_found));
	json_object_set_new(root, "required", json_integer((json_int_t)r->required));
	json_object_set_new(root, "required_staged", json_integer((json_int_t)r->required_staged));
	for (size_t i = 0; i < r->n_items; i++) {
		const struct coverage_item *it = &r->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(it->in->name));
		json_object_set_new(o, "status", json_string(input_status_name(it->in->status)));
		json_object_set_new(o, "state", json_string(coverage_state_name(it->state)));
		json_object_set_new(o, "sha256", json_string(it->in->sha256));
		json_array_append_new(items, o);
		if (it->in->status == INPUT_REQUIRED && it->state != COVERAGE_STAGED)
			json_array_append_new(missing, json_string(it->in->name));
	}
	json_object_set_new(root, "inputs", items);
	json_object_set_new(root, "missing", missing);
	*ret = fw_json_text(root);
	return *ret ? 0 : -ENOMEM;
}

/* ---- command handlers ------------------------------------------------------------------ */


static int push_colon_list(struct strv *s, const char *list)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ":");
		if (n) {
			_cleanup_free_ char *w = fw_strndup(p, n);
			if (!w || strv_push(s, w) < 0)
				return -ENOMEM;
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* Approved mirror prefixes from [mirrors]: every http(s) URL among the values. */
static int mirrors_from_config(const struct config *c, struct strv *out)
{
	for (size_t i = 0; i < c->n_mirrors; i++) {
		const struct cfg_pair *p = &c->mirrors[i];
		if (!strcmp(p->name, "allow") || !strcmp(p->name, "downloader_config"))
			continue;
		const char *v = p->value;
		while (*v) {
			size_t skip = strspn(v, " \t,");
			v += skip;
			size_t n = strcspn(v, " \t,");
			if (n && (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8))) {
				_cleanup_free_ char *w = fw_asprintf("%.*s%s", (int)n, v, v[n - 1] == '/' ? "" : "/");
				if (!w || strv_push(out, w) < 0)
					return -ENOMEM;
			}
			v += n;
		}
	}
	return 0;
}

static int load_manifest(const char *path, struct manifest *m, struct fw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (manifest_read(path, &data, &len, err) < 0)
		return -1;
	return manifest_parse(data, len, path, m, err);
}

int audit_for_config(const struct config *cfg, const char *bep, const char *manifest_path, const char *workspace,
		     const char *const *extra_mirrors, size_t n_extra, struct manifest *m, struct audit_result *ret,
		     struct fw_error *err)
{
	if (manifest_path && load_manifest(manifest_path, m, err) < 0)
		return -1;
	_cleanup_strv_ struct strv mirrors;
	strv_init(&mirrors);
	for (size_t i = 0; i < n_extra; i++)
		if (strv_push(&mirrors, extra_mirrors[i]) < 0)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "audit", NULL, "out of memory");
	if (mirrors_from_config(cfg, &mirrors) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "audit", NULL, "out of memory");
	const char *wsdir = workspace ? workspace : cfg->workspace ? cfg->workspace : ".";
	_cleanup_free_ char *wsfile = fw_asprintf("%s/WORKSPACE", wsdir);
	if (wsfile && access(wsfile, R_OK) != 0) {
		free(wsfile);
		wsfile = fw_asprintf("%s/WORKSPACE.bazel", wsdir);
	}
	struct audit_opts o = { .manifest = manifest_path ? m : NULL, .mirrors = (const char *const *)mirrors.v,
				.n_mirrors = mirrors.n, .workspace_file = wsfile };
	return audit_run(bep, &o, ret, err);
}

enum {
	OPT_MANIFEST = 0x100, OPT_BEP, OPT_JSON, OPT_STRICT, OPT_OUT, OPT_WORKSPACE, OPT_MIRROR,
	OPT_DISTDIR, OPT_REPO_CACHE, OPT_SIGNATURE, OPT_BAZEL_VERSION, OPT_DIR, OPT_FROM_AUDIT,
	OPT_CACERT, OPT_STATUS,
};

static void print_fetch_line(const struct audit_fetch *f)
{
	const char *repo = f->rule ? f->rule->name : NULL;
	switch (f->cls) {
	case AUDIT_PINNED:
		printf("pinned    %s  input %s (fetched by Bazel: not staged; run flywheel stage)\n", f->url, f->input);
		break;
	case AUDIT_MIRROR:
	case AUDIT_UPSTREAM:
		printf("%-9s %s  repository %s%s  checksum %s  fix: flywheel lock %s\n", audit_class_name(f->cls), f->url,
		       repo ? "@" : "", repo ? repo : "(not found in WORKSPACE)",
		       !f->rule ? "unknown" : (f->rule->sha256 || f->rule->integrity) ? "pinned by the rule" : "NOT pinned",
		       f->url);
		break;
	default:
		printf("failed    %s  repository %s%s  (blocked or unreachable; if it is needed: flywheel lock %s)\n",
		       f->url, repo ? "@" : "", repo ? repo : "(unknown)", f->url);
		break;
	}
}

static int inputs_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "bep", required_argument, NULL, OPT_BEP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "workspace", required_argument, NULL, OPT_WORKSPACE },
		{ "mirror", required_argument, NULL, OPT_MIRROR },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"run 'flywheel inputs audit --bep FILE [--manifest F] [--workspace DIR] [--mirror URL]... [--json] [--out FILE] [--strict]'";
	const char *manifest = NULL, *bep = NULL, *out = NULL, *workspace = NULL;
	bool json = false, strict = false;
	_cleanup_strv_ struct strv mirrors;
	strv_init(&mirrors);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST: manifest = optarg; break;
		case OPT_BEP: bep = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_STRICT: strict = true; break;
		case OPT_OUT: out = optarg; break;
		case OPT_WORKSPACE: workspace = optarg; break;
		case OPT_MIRROR:
			if (strv_pushf(&mirrors, "%s%s", optarg, str_has_suffix(optarg, "/") ? "" : "/") < 0)
				return FW_EX_SOFTWARE;
			break;
		default: return report_usage("inputs audit", usage, "unknown option or missing value");
		}
	}
	if (optind != argc || !bep)
		return report_usage("inputs audit", usage, !bep ? "--bep FILE is required" : "unexpected argument");
	struct fw_error err = { 0 };
	struct config cfg;
	config_init(&cfg);
	struct manifest m;
	manifest_init(&m);
	struct audit_result res = { 0 };
	int ret = 0;
	_cleanup_free_ char *text = NULL;
	if (config_load(&cfg, NULL, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if (!manifest && config_get(&cfg, CFG_MANIFEST) && *config_get(&cfg, CFG_MANIFEST))
		manifest = config_get(&cfg, CFG_MANIFEST);
	if (audit_for_config(&cfg, bep, manifest, workspace, (const char *const *)mirrors.v, mirrors.n, &m, &res,
			     &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if ((json || out) && audit_result_json(&res, bep, manifest, &text) < 0) {
		ret = FW_EX_SOFTWARE;
		goto out;
	}
	if (out) {
		int r = write_file_atomic(out, text, strlen(text), 0644);
		if (r < 0) {
			fw_error_set(&err, FW_CLASS_DISK, FW_EX_CANTCREAT, out, NULL, "cannot write: %s", strerror(-r));
			ret = report_fail(&err);
			goto out;
		}
	}
	if (json) {
		fputs(text, stdout);
	} else {
		for (size_t i = 0; i < res.n_fetches; i++)
			print_fetch_line(&res.fetches[i]);
		printf("%zu downloads (%zu fetch events): %zu pinned, %zu mirror, %zu upstream, %zu failed; %zu manifest inputs used without a download (distdir or repository cache)\n",
		       res.n_fetches, res.events, res.n[AUDIT_PINNED], res.n[AUDIT_MIRROR], res.n[AUDIT_UPSTREAM],
		       res.n[AUDIT_FAILED], res.served_without_fetch);
		if (!audit_outside_manifest(&res))
			printf("covered: nothing came from outside the manifest\n");
		else {
			printf("outside the manifest:");
			for (size_t i = 0; i < res.n_fetches; i++)
				if (res.fetches[i].cls == AUDIT_MIRROR || res.fetches[i].cls == AUDIT_UPSTREAM)
					printf(" %s", res.fetches[i].url);
			printf("\n");
		}
	}
	fflush(stdout);
	if (strict && audit_outside_manifest(&res)) {
		fw_error_set(&err, FW_CLASS_EXTERNAL_INPUT, AUDIT_STRICT_EXIT, bep,
			     out ? "adopt them: flywheel lock --from-audit FILE, then flywheel stage"
				 : "write the audit with --json --out FILE, then flywheel lock --from-audit FILE and flywheel stage",
			     "%zu download%s came from outside the manifest (--strict)",
			     res.n[AUDIT_MIRROR] + res.n[AUDIT_UPSTREAM],
			     res.n[AUDIT_MIRROR] + res.n[AUDIT_UPSTREAM] == 1 ? "" : "s");
		ret = report_fail(&err);
	}
out:
	audit_result_release(&res);
	manifest_release(&m);
	config_release(&cfg);
	return ret;
}

/* Bazel 7+ repository-cache markers: unless the version is known to be older. */
static bool want_canonical_ids(const char *version)
{
	struct bazel_version v;
	if (!version || bazel_version_parse(version, &v) < 0 || !v.known)
		return true;
	return bazel_has(&v, CAP_REPO_CANONICAL_ID);
}

static int inputs_coverage(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "signature", required_argument, NULL, OPT_SIGNATURE },
		{ "distdir", required_argument, NULL, OPT_DISTDIR },
		{ "repository-cache", required_argument, NULL, OPT_REPO_CACHE },
		{ "bazel-version", required_argument, NULL, OPT_BAZEL_VERSION },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"run 'flywheel inputs coverage [--manifest F] [--distdir D]... [--repository-cache D] [--json]'";
	const char *manifest = NULL, *signature = NULL, *repo_cache = NULL, *bazel_version = NULL;
	bool json = false;
	_cleanup_strv_ struct strv dists;
	strv_init(&dists);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST: manifest = optarg; break;
		case OPT_SIGNATURE: signature = optarg; break;
		case OPT_DISTDIR:
			if (strv_push(&dists, optarg) < 0)
				return FW_EX_SOFTWARE;
			break;
		case OPT_REPO_CACHE: repo_cache = optarg; break;
		case OPT_BAZEL_VERSION: bazel_version = optarg; break;
		case OPT_JSON: json = true; break;
		default: return report_usage("inputs coverage", usage, "unknown option or missing value");
		}
	}
	if (optind != argc)
		return report_usage("inputs coverage", usage, "unexpected argument");
	struct fw_error err = { 0 };
	struct config cfg;
	config_init(&cfg);
	struct manifest m;
	manifest_init(&m);
	struct coverage_result res = { 0 };
	_cleanup_free_ char *text = NULL;
	int ret = 0;
	const char *v;
	if (config_load(&cfg, NULL, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if (!manifest && (v = config_get(&cfg, CFG_MANIFEST)) && *v)
		manifest = v;
	if (!signature && (v = config_get(&cfg, CFG_MANIFEST_SIG)) && *v)
		signature = v;
	if (dists.n == 0 && (v = config_get(&cfg, CFG_DISTDIR)) && *v && push_colon_list(&dists, v) < 0) {
		ret = FW_EX_SOFTWARE;
		goto out;
	}
	if (!repo_cache && (v = config_get(&cfg, CFG_REPOSITORY_CACHE)) && *v)
		repo_cache = v;
	if (!bazel_version && (v = config_get(&cfg, CFG_BAZEL_VERSION)) && *v)
		bazel_version = v;
	if (!manifest) {
		fw_error_set(&err, FW_CLASS_CONFIG, FW_EX_CONFIG, "inputs.manifest",
			     "set inputs.manifest in flywheel.ini or pass --manifest FILE", "no inputs manifest configured");
		ret = report_fail(&err);
		goto out;
	}
	if (load_manifest(manifest, &m, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	struct stagecheck_opts so = { .signature = signature, .distdirs = (const char *const *)dists.v,
				      .n_distdirs = dists.n, .repo_cache = repo_cache,
				      .canonical_ids = want_canonical_ids(bazel_version) };
	if (coverage_run(&m, manifest, &so, &res, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if (json) {
		if (coverage_result_json(&res, manifest, &text) < 0) {
			ret = FW_EX_SOFTWARE;
			goto out;
		}
		fputs(text, stdout);
	} else {
		for (size_t i = 0; i < res.n_items; i++) {
			const struct coverage_item *it = &res.items[i];
			const char *state = it->state == COVERAGE_STAGED ? "staged and verified"
					    : it->state == COVERAGE_PARTIAL ? "partly staged"
									    : "not staged";
			if (it->in->status == INPUT_CANDIDATE && it->state != COVERAGE_STAGED)
				state = "not mirrored yet (candidate)";
			printf("%-9s %-40s %s\n", input_status_name(it->in->status), it->in->name, state);
		}
		if (!res.record_found)
			printf("no verification record for this manifest and these destinations: files were hashed again\n");
		if (res.covered)
			printf("covered: %zu of %zu required inputs staged and verified\n", res.required_staged, res.required);
		else {
			printf("missing:");
			for (size_t i = 0; i < res.n_items; i++)
				if (res.items[i].in->status == INPUT_REQUIRED && res.items[i].state != COVERAGE_STAGED)
					printf(" %s", res.items[i].in->name);
			printf("\n");
		}
	}
	fflush(stdout);
	if (!res.covered)
		ret = FW_EX_FAIL;
out:
	coverage_result_release(&res);
	manifest_release(&m);
	config_release(&cfg);
	return ret;
}

static int inputs_check_dlconfig(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return report_usage("inputs check-downloader-config", "run 'flywheel inputs check-downloader-config FILE'",
				   "expected one FILE");
	struct fw_error err = { 0 };
	struct fw_error problems[DLCONFIG_PROBLEMS_MAX];
	size_t n = 0;
	if (dlconfig_check_all(argv[1], problems, DLCONFIG_PROBLEMS_MAX, &n, &err) == 0) {
		report_msg(REPORT_INFO, "%s: downloader config looks right", argv[1]);
		return 0;
	}
	if (fw_error_isset(&err))
		return report_fail(&err);
	for (size_t i = 0; i < n && i < DLCONFIG_PROBLEMS_MAX; i++)
		report_error(&problems[i]);
	return FW_EX_CONFIG;
}

static int inputs_write_dlconfig(int argc, char **argv)
{
	static const struct option longopts[] = { { "dir", required_argument, NULL, OPT_DIR }, { NULL, 0, NULL, 0 } };
	const char *dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != OPT_DIR)
			return report_usage("inputs downloader-config", "run 'flywheel inputs downloader-config --dir DIR'",
					   "unknown option");
		dir = optarg;
	}
	if (!dir || optind != argc)
		return report_usage("inputs downloader-config", "run 'flywheel inputs downloader-config --dir DIR'",
				   "expected --dir DIR");
	struct fw_error err = { 0 };
	struct config cfg;
	config_init(&cfg);
	_cleanup_free_ char *path = NULL;
	int ret = 0;
	if (config_load(&cfg, NULL, &err) < 0 || dlconfig_write(&cfg, dir, &path, &err) < 0)
		ret = report_fail(&err);
	else if (!path) {
		fw_error_set(&err, FW_CLASS_CONFIG, FW_EX_CONFIG, "[mirrors]",
			     "add UPSTREAM = MIRROR-URL entries to flywheel.ini [mirrors]", "no mirror routing configured");
		ret = report_fail(&err);
	} else
		printf("%s\n", path);
	config_release(&cfg);
	return ret;
}

int cmd_inputs(int argc, char **argv)
{
	static const char usage[] =
		"run 'flywheel inputs audit|coverage|check-downloader-config FILE|downloader-config --dir DIR'";
	if (argc < 2)
		return report_usage("inputs", usage, "no subcommand given");
	const char *sub = argv[1];
	if (!strcmp(sub, "audit"))
		return inputs_audit(argc - 1, argv + 1);
	if (!strcmp(sub, "coverage"))
		return inputs_coverage(argc - 1, argv + 1);
	if (!strcmp(sub, "check-downloader-config"))
		return inputs_check_dlconfig(argc - 1, argv + 1);
	if (!strcmp(sub, "downloader-config"))
		return inputs_write_dlconfig(argc - 1, argv + 1);
	return report_usage("inputs", usage, "unknown subcommand");
}

/* ---- lock --from-audit ------------------------------------------------------------------- */

#define LOCK_EXPIRES_DEFAULT (365 * 24 * 3600)

int lock_from_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from-audit", required_argument, NULL, OPT_FROM_AUDIT },
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"run 'flywheel lock --from-audit FILE [--manifest F] [--status required|deferred|candidate] [--cacert F]'";
	const char *from = NULL, *manifest = NULL, *cacert = NULL, *status_arg = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FROM_AUDIT: from = optarg; break;
		case OPT_MANIFEST: manifest = optarg; break;
		case OPT_CACERT: cacert = optarg; break;
		case OPT_STATUS: status_arg = optarg; break;
		default: return report_usage("lock", usage, "unknown option or missing value");
		}
	}
	if (!from || optind != argc)
		return report_usage("lock", usage, "--from-audit FILE takes no other argument");
	enum input_status status = INPUT_REQUIRED;
	if (status_arg) {
		if (!strcmp(status_arg, "deferred"))
			status = INPUT_DEFERRED;
		else if (!strcmp(status_arg, "candidate"))
			status = INPUT_CANDIDATE;
		else if (strcmp(status_arg, "required"))
			return report_usage("--status", "use required, deferred or candidate", "unknown status");
	}
	struct fw_error err = { 0 };
	struct config cfg;
	config_init(&cfg);
	struct manifest m;
	manifest_init(&m);
	struct audit_adopt *a = NULL;
	size_t n = 0;
	int ret = 0;
	_cleanup_free_ char *old_text = NULL, *new_text = NULL;
	size_t old_len = 0;
	const char *v;
	if (config_load(&cfg, NULL, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if (!manifest && (v = config_get(&cfg, CFG_MANIFEST)) && *v)
		manifest = v;
	if (!manifest) {
		fw_error_set(&err, FW_CLASS_CONFIG, FW_EX_CONFIG, "inputs.manifest",
			     "set inputs.manifest in flywheel.ini or pass --manifest FILE", "no inputs manifest configured");
		ret = report_fail(&err);
		goto out;
	}
	if (audit_adopt_read(from, &a, &n, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	struct stat st;
	bool existed = stat(manifest, &st) == 0;
	if (existed) {
		if (manifest_read(manifest, &old_text, &old_len, &err) < 0 ||
		    manifest_parse(old_text, old_len, manifest, &m, &err) < 0) {
			ret = report_fail(&err);
			goto out;
		}
	} else {
		m.version = 1;
		m.expires = (int64_t)time(NULL) + LOCK_EXPIRES_DEFAULT;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	size_t adopted = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct audit_adopt *e = &a[i];
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "input \"%.200s\"", e->name);
		const char *prob = manifest_name_problem(e->name);
		if (prob) {
			fw_error_set(&err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject,
				     "pin it by hand with flywheel lock URL", "the input name %s", prob);
			ret = report_fail(&err);
			break;
		}
		char sha[65];
		uint64_t size = 0;
		if (stage_fetch_url(e->url, MANIFEST_SIZE_MAX, -1, cacert, sha, &size, &err) < 0) {
			ret = report_fail(&err);
			break;
		}
		if (e->sha256 && strcmp(e->sha256, sha) != 0) {
			fw_error_set(&err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject,
				     "not adopted: find out why the bytes changed before pinning anything",
				     "%s has sha256 %s but the rule%s%s declared %s", e->url, sha,
				     e->repository ? " @" : "", e->repository ? e->repository : "", e->sha256);
			ret = report_fail(&err);
			break;
		}
		const struct manifest_input *old = manifest_find(&m, e->name);
		if (old && strcmp(old->sha256, sha) != 0) {
			fw_error_set(&err, FW_CLASS_EXTERNAL_INPUT, FW_EX_DATAERR, subject,
				     "rename one of them or lock the new version on purpose with flywheel lock URL",
				     "the manifest already pins a different file under this name (%s)", old->sha256);
			ret = report_fail(&err);
			break;
		}
		struct manifest_input in = { .size = size, .status = old && !status_arg ? old->status : status };
		memcpy(in.sha256, sha, 65);
		in.name = fw_strdup(e->name);
		int r = in.name ? strv_push(&in.urls, e->url) : -ENOMEM;
		for (size_t k = 0; r == 0 && old && k < old->urls.n; k++)
			if (!strv_contains(&in.urls, old->urls.v[k]))
				r = strv_push(&in.urls, old->urls.v[k]);
		/* the rule's own URLs become the canonical ones (Bazel 7+ cache id) */
		bool same = e->rule_urls.n == in.urls.n;
		for (size_t k = 0; same && k < e->rule_urls.n; k++)
			same = strcmp(e->rule_urls.v[k], in.urls.v[k]) == 0;
		for (size_t k = 0; r == 0 && !same && k < e->rule_urls.n; k++)
			r = strv_push(&in.canonical_urls, e->rule_urls.v[k]);
		if (r == 0)
			r = manifest_upsert(&m, &in);
		if (r < 0) {
			manifest_input_release(&in);
			fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, subject, NULL, "%s", strerror(-r));
			ret = report_fail(&err);
			break;
		}
		adopted++;
		report_msg(REPORT_INFO, "adopted %s: %s, %llu bytes, from %s", e->name, sha, (unsigned long long)size,
			   e->url);
	}
	curl_global_cleanup();
	if (ret)
		goto out;
	if (manifest_write_over(&m, existed ? old_text : NULL, old_len, &new_text, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	int r = write_file_atomic(manifest, new_text, strlen(new_text), 0644);
	if (r < 0) {
		fw_error_set(&err, FW_CLASS_DISK, FW_EX_CANTCREAT, manifest, NULL, "cannot write: %s", strerror(-r));
		ret = report_fail(&err);
		goto out;
	}
	report_msg(REPORT_INFO, "adopted %zu input%s into %s (version %llu); sign it (flywheel sign --key NAME.key %s), then flywheel stage",
		   adopted, adopted == 1 ? "" : "s", manifest, (unsigned long long)m.version, manifest);
out:
	audit_adopt_free(a, n);
	manifest_release(&m);
	config_release(&cfg);
	return ret;
}
