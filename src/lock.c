/* lock.c - the inputs commands: keygen, sign, verify, stage, lock.
 *
 * Settings come from the layered configuration (inputs.manifest,
 * inputs.signature, inputs.allow_unsigned, bazel.distdir,
 * bazel.repository_cache, core.bazel_version, [trust]); command-line options
 * override them for one run.  These handlers are the only code here that prints. */
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
#include "flywheel/manifest.h"
#include "flywheel/report.h"
#include "flywheel/sign.h"
#include "flywheel/stage.h"
#include "flywheel/stagecheck.h"
#include "flywheel/banned.h"

#define LOCK_EXPIRES_DEFAULT (365 * 24 * 3600)


/* Everything the inputs commands read from configuration and options. */
struct inputs_settings {
	char *manifest;
	char *signature;
	struct strv distdirs;
	char *repo_cache;
	bool allow_unsigned;
	struct strv trust_args;    /* --trust (replaces [trust] when given) */
	struct sign_pubkey keys[SIGN_TRUST_MAX];
	size_t n_keys;
	char *bazel_version;
	struct config cfg;
	bool cfg_loaded;
};

static void settings_release(struct inputs_settings *s)
{
	free(s->manifest);
	free(s->signature);
	strv_release(&s->distdirs);
	free(s->repo_cache);
	strv_release(&s->trust_args);
	free(s->bazel_version);
	if (s->cfg_loaded)
		config_release(&s->cfg);
}

static int set_once(char **slot, const char *v)
{
	free(*slot);
	*slot = fw_strdup(v);
	return *slot ? 0 : -ENOMEM;
}

static int push_list(struct strv *s, const char *list)
{
	_cleanup_free_ char *copy = fw_strdup(list);
	if (!copy)
		return -ENOMEM;
	char *p = copy;
	while (p) {
		char *c = strchr(p, ':');
		if (c)
			*c = '\0';
		if (*p) {
			int r = strv_push(s, p);
			if (r < 0)
				return r;
		}
		p = c ? c + 1 : NULL;
	}
	return 0;
}

/* Fill whatever options did not set from the configuration, and load keys. */
static int settings_finish(struct inputs_settings *s, bool want_dests, struct fw_error *err)
{
	config_init(&s->cfg);
	s->cfg_loaded = true;
	if (config_load(&s->cfg, NULL, err) < 0)
		return -1;
	const char *v;
	if (!s->manifest && (v = config_get(&s->cfg, CFG_MANIFEST)) && *v && set_once(&s->manifest, v) < 0)
		return -ENOMEM;
	if (!s->signature && (v = config_get(&s->cfg, CFG_MANIFEST_SIG)) && *v &&
	    set_once(&s->signature, v) < 0)
		return -ENOMEM;
	if (!s->allow_unsigned)
		s->allow_unsigned = config_get_bool(&s->cfg, CFG_ALLOW_UNSIGNED);
	if (!s->bazel_version && (v = config_get(&s->cfg, CFG_BAZEL_VERSION)) && *v &&
	    set_once(&s->bazel_version, v) < 0)
		return -ENOMEM;
	if (want_dests) {
		if (s->distdirs.n == 0 && (v = config_get(&s->cfg, CFG_DISTDIR)) && *v &&
		    push_list(&s->distdirs, v) < 0)
			return -ENOMEM;
		if (!s->repo_cache && (v = config_get(&s->cfg, CFG_REPOSITORY_CACHE)) && *v &&
		    set_once(&s->repo_cache, v) < 0)
			return -ENOMEM;
	}
	if (s->trust_args.n) {
		for (size_t i = 0; i < s->trust_args.n; i++) {
			if (s->n_keys >= SIGN_TRUST_MAX)
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "--trust", NULL,
						    "more than %d trusted keys", SIGN_TRUST_MAX);
			if (sign_pubkey_load(s->trust_args.v[i], "--trust", &s->keys[s->n_keys++], err) < 0)
				return -1;
		}
	} else {
		for (size_t i = 0; i < s->cfg.n_trust; i++) {
			const struct cfg_pair *p = &s->cfg.trust[i];
			if (s->n_keys >= SIGN_TRUST_MAX)
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin, NULL,
						    "more than %d trusted keys", SIGN_TRUST_MAX);
			/* a relative key file is relative to the ini file that named it */
			_cleanup_free_ char *path = NULL;
			const char *val = p->value;
			bool literal = strchr(val, ':') && !strchr(val, '/') && !str_has_suffix(val, ".pub");
			if (!literal && val[0] != '/') {
				_cleanup_free_ char *dir = fw_strdup(p->origin);
				char *colon = dir ? strrchr(dir, ':') : NULL;
				if (colon)
					*colon = '\0';
				char *slash = dir ? strrchr(dir, '/') : NULL;
				if (slash)
					*slash = '\0';
				path = fw_asprintf("%s/%s", slash ? dir : ".", val);
				if (!path)
					return -ENOMEM;
				val = path;
			}
			struct sign_pubkey *k = &s->keys[s->n_keys];
			if (sign_pubkey_load(val, p->origin, k, err) < 0)
				return -1;
			if (strcmp(k->name, p->name))
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, p->origin,
						    "name the [trust] entry after the key (NAME = NAME:base64 or NAME.pub)",
						    "[trust] entry \"%s\" holds key \"%s\"", p->name, k->name);
			s->n_keys++;
		}
	}
	if (!s->manifest)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "inputs.manifest",
				    "set inputs.manifest in flywheel.ini or pass --manifest FILE",
				    "no inputs manifest configured");
	return 0;
}

/* Canonical-id markers: written unless the Bazel version is known to be < 7. */
static bool want_canonical_ids(const char *version)
{
	if (!version)
		return true;
	struct bazel_version v;
	if (bazel_version_parse(version, &v) < 0 || !v.known)
		return true;
	return bazel_has(&v, CAP_REPO_CANONICAL_ID);
}

enum {
	OPT_MANIFEST = 0x100, OPT_SIGNATURE, OPT_DISTDIR, OPT_REPO_CACHE, OPT_TRUST,
	OPT_ALLOW_UNSIGNED, OPT_OFFLINE, OPT_VERIFY, OPT_JSON, OPT_BAZEL_VERSION, OPT_JOBS,
	OPT_CACERT, OPT_LOW_SPEED_TIME, OPT_DEADLINE, OPT_KEY, OPT_OUTPUT, OPT_URL_BASE,
	OPT_EXPIRES, OPT_STATUS, OPT_CANONICAL_URL, OPT_DEFERRED, OPT_NO_PROGRESS, OPT_LOCK_TIMEOUT,
};

static int common_opt(struct inputs_settings *s, int c, const char *arg)
{
	switch (c) {
	case OPT_MANIFEST: return set_once(&s->manifest, arg);
	case OPT_SIGNATURE: return set_once(&s->signature, arg);
	case OPT_DISTDIR: return strv_push(&s->distdirs, arg);
	case OPT_REPO_CACHE: return set_once(&s->repo_cache, arg);
	case OPT_TRUST: return strv_push(&s->trust_args, arg);
	case OPT_ALLOW_UNSIGNED: s->allow_unsigned = true; return 0;
	case OPT_BAZEL_VERSION: return set_once(&s->bazel_version, arg);
	default: return 1;
	}
}

#define COMMON_LONGOPTS                                                          \
	{ "manifest", required_argument, NULL, OPT_MANIFEST },                   \
	{ "signature", required_argument, NULL, OPT_SIGNATURE },                 \
	{ "trust", required_argument, NULL, OPT_TRUST },                         \
	{ "allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED },             \
	{ "bazel-version", required_argument, NULL, OPT_BAZEL_VERSION }

/* ---- keygen / sign / verify ------------------------------------------------- */

int cmd_keygen(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return report_usage("keygen", "run 'flywheel keygen NAME' (writes NAME.key and NAME.pub)",
				   "expected exactly one NAME");
	const char *prefix = argv[1];
	const char *slash = strrchr(prefix, '/');
	const char *name = slash ? slash + 1 : prefix;
	struct fw_error err = { 0 };
	if (sign_keygen(prefix, name, &err) < 0)
		return report_fail(&err);
	report_msg(REPORT_INFO, "wrote %s.key (secret, mode 0600: keep it private) and %s.pub (add it to flywheel.ini [trust] as %s = %s.pub)",
		   prefix, prefix, name, name);
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *output = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == OPT_KEY)
			key = optarg;
		else if (c == OPT_OUTPUT)
			output = optarg;
		else
			return report_usage("sign", "run 'flywheel sign --key NAME.key MANIFEST'", "unknown option");
	}
	if (!key || optind != argc - 1)
		return report_usage("sign", "run 'flywheel sign --key NAME.key MANIFEST'",
				   "expected --key and one MANIFEST");
	const char *manifest = argv[optind];
	struct fw_error err = { 0 };
	/* refuse to sign something that would not be accepted */
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct manifest m;
	if (manifest_read(manifest, &data, &len, &err) < 0 ||
	    manifest_parse(data, len, manifest, &m, &err) < 0)
		return report_fail(&err);
	manifest_release(&m);
	_cleanup_free_ char *def = fw_asprintf("%s.sig", manifest);
	if (!def)
		return FW_EX_SOFTWARE;
	if (sign_file(key, manifest, output ? output : def, &err) < 0)
		return report_fail(&err);
	report_msg(REPORT_INFO, "wrote %s", output ? output : def);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct inputs_settings s = { 0 };
	int c, ret = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (common_opt(&s, c, optarg) != 0) {
			settings_release(&s);
			return report_usage("verify", "run 'flywheel verify [--trust NAME.pub] MANIFEST'",
					   "unknown option");
		}
	}
	if (optind < argc - 1 || (optind == argc - 1 && set_once(&s.manifest, argv[optind]) < 0)) {
		settings_release(&s);
		return report_usage("verify", "run 'flywheel verify [--trust NAME.pub] MANIFEST'",
				   "expected one MANIFEST");
	}
	struct fw_error err = { 0 };
	struct manifest m;
	char signer[SIGN_NAME_MAX + 1];
	struct sign_policy p = { 0 };
	if (settings_finish(&s, false, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	p = (struct sign_policy){ .keys = s.keys, .n_keys = s.n_keys, .allow_unsigned = s.allow_unsigned,
				  .sig_path = s.signature, .record = false };
	if (sign_accept_manifest(s.manifest, &p, &m, signer, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	char when[32];
	manifest_format_time(m.expires, when);
	if (!signer[0])
		report_msg(REPORT_WARN, "%s: NOT SIGNED, accepted only because unsigned manifests are allowed (inputs.allow_unsigned / --allow-unsigned)",
			   s.manifest);
	else
		report_msg(REPORT_INFO, "%s: good signature by key \"%s\", version %llu, expires %s, %zu inputs",
			   s.manifest, signer, (unsigned long long)m.version, when, m.n_inputs);
	manifest_release(&m);
out:
	settings_release(&s);
	return ret;
}

/* ---- stage ---------------------------------------------------------------------- */

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
	else if (b >= 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)b / (1024.0 * 1024));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b / 1024));
}

/* TTY progress on stderr: one line rewritten in place. */
static void tty_progress(const struct stage_progress *p, void *userdata)
{
	(void)userdata;
	char got[32], total[32], rate[32];
	double secs = (double)p->elapsed_ns / 1e9;
	uint64_t bps = secs > 0 ? (uint64_t)((double)p->bytes / secs) : 0;
	human_bytes(p->bytes, got, sizeof(got));
	human_bytes(p->bytes_total, total, sizeof(total));
	human_bytes(bps, rate, sizeof(rate));
	long eta = bps ? (long)((p->bytes_total - (p->bytes < p->bytes_total ? p->bytes : p->bytes_total)) / bps) : -1;
	report_progress(p->final, "staging %zu/%zu inputs, %s of %s, %s/s, ETA %s%lds", p->done, p->total, got, total,
			rate, eta < 0 ? "?" : "", eta < 0 ? 0 : eta);
}

static void print_json(const struct stage_result *r, const char *manifest, bool ok, const char *signer,
		       const struct fw_error *err)
{
	json_t *root = json_object();
	json_t *items = json_array();
	json_t *missing = json_array();
	json_object_set_new(root, "schema", json_string("flywheel-stage/1"));
	json_object_set_new(root, "manifest", json_string(manifest));
	json_object_set_new(root, "ok", json_boolean(ok));
	json_object_set_new(root, "signed_by", signer && signer[0] ? json_string(signer) : json_null());
	for (size_t i = 0; i < r->n_items; i++) {
		const struct stage_item *it = &r->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(it->in->name));
		json_object_set_new(o, "sha256", json_string(it->in->sha256));
		json_object_set_new(o, "size", json_integer((json_int_t)it->in->size));
		json_object_set_new(o, "status", json_string(input_status_name(it->in->status)));
		json_object_set_new(o, "state", json_string(stage_state_name(it->state)));
		if (it->url)
			json_object_set_new(o, "url", json_string(it->url));
		if (it->error && it->state == STAGE_FAILED)
			json_object_set_new(o, "error", json_string(it->error));
		json_array_append_new(items, o);
		if (it->state == STAGE_MISSING)
			json_array_append_new(missing, json_string(it->in->name));
	}
	json_object_set_new(root, "inputs", items);
	json_object_set_new(root, "missing", missing);
	json_t *counts = json_object();
	for (int s = STAGE_PRESENT; s <= STAGE_SKIPPED; s++)
		json_object_set_new(counts, stage_state_name((enum stage_state)s), json_integer((json_int_t)r->n[s]));
	json_object_set_new(root, "counts", counts);
	json_object_set_new(root, "bytes_fetched", json_integer((json_int_t)r->bytes_fetched));
	json_object_set_new(root, "elapsed_ms", json_integer((json_int_t)(r->elapsed_ns / 1000000)));
	if (err && fw_error_isset(err)) {
		json_t *e = json_object();
		json_object_set_new(e, "class", json_string(fw_class_name(err->cls)));
		json_object_set_new(e, "subject", json_string(err->subject));
		json_object_set_new(e, "what", json_string(err->what));
		json_object_set_new(e, "fix", json_string(err->fix));
		json_object_set_new(root, "error", e);
	}
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text)
		puts(text);
	free(text);
	json_decref(root);
}

static int parse_secs(const char *arg, unsigned *ret)
{
	uint64_t v;
	if (parse_u64(arg, 86400, &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int cmd_stage(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "distdir", required_argument, NULL, OPT_DISTDIR },
		{ "repository-cache", required_argument, NULL, OPT_REPO_CACHE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "low-speed-time", required_argument, NULL, OPT_LOW_SPEED_TIME },
		{ "deadline", required_argument, NULL, OPT_DEADLINE },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "deferred", no_argument, NULL, OPT_DEFERRED },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"run 'flywheel stage [--manifest F] [--distdir D]... [--repository-cache D] [--trust PUB]... [--allow-unsigned] [--offline] [--verify] [--json]'";
	struct inputs_settings s = { 0 };
	struct stage_opts o = { 0 };
	/* before the first goto: oom and out both free them */
	_cleanup_free_ char *record_path = NULL, *identity = NULL;
	_cleanup_strv_ struct strv trust;
	strv_init(&trust);
	bool json = false, no_progress = false;
	int c, ret = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = common_opt(&s, c, optarg);
		if (r < 0)
			goto oom;
		if (r == 0)
			continue;
		uint64_t v;
		switch (c) {
		case OPT_OFFLINE: o.offline = true; break;
		case OPT_VERIFY: o.verify = true; break;
		case OPT_JSON: json = true; break;
		case OPT_DEFERRED: o.stage_deferred = true; break;
		case OPT_NO_PROGRESS: no_progress = true; break;
		case OPT_CACERT: o.ca_file = optarg; break;
		case OPT_JOBS:
			if (parse_u64(optarg, STAGE_CONCURRENCY_MAX, &v) < 0 || v == 0) {
				settings_release(&s);
				return report_usage("--jobs", "give a number from 1 to 64", "not a valid count");
			}
			o.concurrency = (unsigned)v;
			break;
		case OPT_LOW_SPEED_TIME:
		case OPT_DEADLINE:
		case OPT_LOCK_TIMEOUT:
			if (parse_secs(optarg, c == OPT_LOW_SPEED_TIME ? &o.low_speed_secs
						 : c == OPT_DEADLINE ? &o.input_deadline_secs
								     : &o.lock_timeout_secs) < 0) {
				settings_release(&s);
				return report_usage(c == OPT_DEADLINE ? "--deadline" : "--low-speed-time",
						   "give seconds from 1 to 86400", "not a valid duration");
			}
			break;
		default:
			settings_release(&s);
			return report_usage("stage", usage, "unknown option or missing value");
		}
	}
	if (optind != argc) {
		settings_release(&s);
		return report_usage("stage", usage, "unexpected argument");
	}
	struct fw_error err = { 0 };
	struct manifest m = { 0 };
	struct stage_result res = { 0 };
	char signer[SIGN_NAME_MAX + 1] = "";
	bool have_m = false;
	if (settings_finish(&s, true, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	if (s.distdirs.n > STAGECHECK_DISTDIRS_MAX) {
		fw_error_set(&err, FW_CLASS_CONFIG, FW_EX_CONFIG, "bazel.distdir", "list at most 16",
			     "too many distdirs");
		ret = report_fail(&err);
		goto out;
	}
	o.distdirs = (const char *const *)s.distdirs.v;
	o.n_distdirs = s.distdirs.n;
	o.repo_cache = s.repo_cache;
	o.canonical_ids = want_canonical_ids(s.bazel_version);
	/* destinations must exist for the record identity, which is taken before
	 * the manifest is read (a manifest swapped meanwhile never matches it) */
	for (size_t i = 0; i < s.distdirs.n; i++)
		mkdir_p(s.distdirs.v[i], 0755);
	if (s.repo_cache)
		mkdir_p(s.repo_cache, 0755);
	/* the trusted keys as the launcher sees them: --trust replaces [trust] */
	char trust_id[17];
	if (s.trust_args.n ? strv_extend(&trust, &s.trust_args) : config_trust_entries(&s.cfg, &trust)) {
		ret = FW_EX_SOFTWARE;
		goto out;
	}
	stagecheck_trust_id((const char *const *)trust.v, trust.n, trust_id);
	struct stagecheck_opts so = { .signature = s.signature, .distdirs = o.distdirs,
				      .n_distdirs = o.n_distdirs, .repo_cache = o.repo_cache,
				      .canonical_ids = o.canonical_ids, .trust_id = trust_id };
	if (stagecheck_identity(s.manifest, &so, &record_path, &identity) < 0) {
		free(record_path);
		free(identity);
		record_path = identity = NULL;
	}
	/* Warm: a complete record for exactly this manifest, signature, keys and
	 * destinations, and every file still in place: nothing to fetch or parse. */
	if (!o.verify && !json && record_path) {
		so.allow_unsigned = s.allow_unsigned;
		bool all = false;
		struct fw_error werr = { 0 };
		if (stagecheck_warm(s.manifest, &so, &all, &werr) == 0 && all) {
			report_msg(REPORT_INFO, "%s: every required input is staged and was verified (stat check; --verify re-hashes)",
				   s.manifest);
			goto out;
		}
	}

	struct sign_policy p = { .keys = s.keys, .n_keys = s.n_keys, .allow_unsigned = s.allow_unsigned,
				 .sig_path = s.signature, .record = true };
	if (sign_accept_manifest(s.manifest, &p, &m, signer, &err) < 0) {
		if (json)
			print_json(&res, s.manifest, false, NULL, &err);
		ret = report_fail(&err);
		goto out;
	}
	have_m = true;
	if (!signer[0])
		report_msg(REPORT_WARN, "%s: NOT SIGNED; staging anyway because unsigned manifests are allowed (inputs.allow_unsigned / --allow-unsigned): local experiments only",
			   s.manifest);
	o.record_path = record_path;
	o.record_identity = identity;
	o.expires = m.expires;
	o.signed_ = signer[0] != '\0';
	if (!json && !no_progress && isatty(STDERR_FILENO) == 1)
		o.progress = tty_progress;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int r = stage_run(&m, &o, &res, &err);
	curl_global_cleanup();
	if (json)
		print_json(&res, s.manifest, r == 0, signer, r < 0 ? &err : NULL);
	if (r < 0) {
		/* one line per input that is not in place */
		for (size_t i = 0; !json && i < res.n_items; i++) {
			const struct stage_item *it = &res.items[i];
			if (it->state != STAGE_FAILED && it->state != STAGE_MISSING)
				continue;
			struct fw_error e = { 0 };
			char subject[FW_ERROR_SUBJECT_MAX];
			snprintf(subject, sizeof(subject), "input \"%.200s\"", it->in->name);
			if (strcmp(subject, err.subject) == 0)
				continue; /* the closing error line names this one */
			if (it->state == STAGE_MISSING)
				fw_error_set(&e, FW_CLASS_EXTERNAL_INPUT, FW_EX_UNAVAILABLE, subject,
					     "stage it with the network or a mirror reachable",
					     "missing (not on disk; --offline)");
			else
				fw_error_set(&e, FW_CLASS_EXTERNAL_INPUT, FW_EX_UNAVAILABLE, subject,
					     it->in->status == INPUT_REQUIRED ? "nothing unverified was placed; fix the mirror or the pin"
									      : "deferred input: not fatal",
					     "%s", it->error ? it->error : "failed");
			report_error(&e);
		}
		if (json)
			ret = err.exit_code;
		else
			ret = report_fail(&err);
		goto out;
	}
	for (size_t i = 0; !json && i < res.n_items; i++)
		if (res.items[i].state == STAGE_FAILED)
			report_msg(REPORT_WARN, "deferred input \"%s\" not staged: %s", res.items[i].in->name,
				   res.items[i].error ? res.items[i].error : "failed");
	if (!json) {
		char got[32];
		human_bytes(res.bytes_fetched, got, sizeof(got));
		report_msg(REPORT_INFO, "staged %zu inputs: %zu fetched (%s), %zu placed from disk, %zu already in place, %zu skipped, in %.2f s",
			   res.n[STAGE_FETCHED] + res.n[STAGE_PLACED] + res.n[STAGE_PRESENT],
			   res.n[STAGE_FETCHED], got, res.n[STAGE_PLACED], res.n[STAGE_PRESENT],
			   res.n[STAGE_SKIPPED], (double)res.elapsed_ns / 1e9);
	}
out:
	stage_result_release(&res);
	if (have_m)
		manifest_release(&m);
	settings_release(&s);
	return ret;
oom:
	settings_release(&s);
	return FW_EX_SOFTWARE;
}

/* ---- lock ------------------------------------------------------------------------ */

static const char *url_basename(const char *url, char *buf, size_t len)
{
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	if (!path)
		return NULL;
	size_t n = strcspn(path, "?#");
	while (n > 1 && path[n - 1] == '/')
		return NULL;
	const char *slash = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/')
			slash = path + i;
	size_t bl = n - (size_t)(slash + 1 - path);
	if (bl == 0 || bl >= len)
		return NULL;
	memcpy(buf, slash + 1, bl);
	buf[bl] = '\0';
	return buf;
}

int cmd_lock(int argc, char **argv)
{
	/* authority helper: `lock --from-audit FILE` lives in coverage.c */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--from-audit") || str_has_prefix(argv[i], "--from-audit="))
			return lock_from_audit(argc, argv);
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "url-base", required_argument, NULL, OPT_URL_BASE },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "canonical-url", required_argument, NULL, OPT_CANONICAL_URL },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"run 'flywheel lock [--manifest F] [--url-base URL]... [--canonical-url URL]... [--status S] [--expires T] URL|FILE...'";
	_cleanup_free_ char *manifest_opt = NULL;
	_cleanup_strv_ struct strv bases, canon;
	strv_init(&bases);
	strv_init(&canon);
	const char *expires_arg = NULL, *status_arg = NULL, *cacert = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_MANIFEST: r = set_once(&manifest_opt, optarg); break;
		case OPT_URL_BASE: r = strv_push(&bases, optarg); break;
		case OPT_CANONICAL_URL: r = strv_push(&canon, optarg); break;
		case OPT_EXPIRES: expires_arg = optarg; break;
		case OPT_STATUS: status_arg = optarg; break;
		case OPT_CACERT: cacert = optarg; break;
		default: return report_usage("lock", usage, "unknown option or missing value");
		}
		if (r < 0)
			return FW_EX_SOFTWARE;
	}
	if (optind >= argc)
		return report_usage("lock", usage, "give at least one URL or FILE");

	struct fw_error err = { 0 };
	struct inputs_settings s = { 0 };
	if (manifest_opt)
		set_once(&s.manifest, manifest_opt);
	int ret = 0;
	struct manifest m;
	manifest_init(&m);
	_cleanup_free_ char *old_text = NULL, *new_text = NULL;
	size_t old_len = 0;
	if (settings_finish(&s, false, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	int64_t expires = 0;
	if (expires_arg && manifest_parse_time(expires_arg, &expires) < 0) {
		ret = report_usage("--expires", "use a UTC time like 2027-06-01T00:00:00Z", "not a valid time");
		goto out;
	}
	enum input_status status = INPUT_REQUIRED;
	if (status_arg) {
		if (!strcmp(status_arg, "deferred"))
			status = INPUT_DEFERRED;
		else if (!strcmp(status_arg, "candidate"))
			status = INPUT_CANDIDATE;
		else if (strcmp(status_arg, "required")) {
			ret = report_usage("--status", "use required, deferred or candidate", "unknown status");
			goto out;
		}
	}
	struct stat st;
	bool existed = stat(s.manifest, &st) == 0;
	if (existed) {
		if (manifest_read(s.manifest, &old_text, &old_len, &err) < 0 ||
		    manifest_parse(old_text, old_len, s.manifest, &m, &err) < 0) {
			ret = report_fail(&err);
			goto out;
		}
	} else {
		m.version = 1;
		m.expires = (int64_t)time(NULL) + LOCK_EXPIRES_DEFAULT;
	}
	if (expires)
		m.expires = expires;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = optind; i < argc && ret == 0; i++) {
		const char *arg = argv[i];
		bool is_url = str_has_prefix(arg, "https://") || str_has_prefix(arg, "http://");
		char namebuf[MANIFEST_NAME_MAX + 1];
		const char *name = NULL;
		if (is_url)
			name = url_basename(arg, namebuf, sizeof(namebuf));
		else {
			const char *sl = strrchr(arg, '/');
			snprintf(namebuf, sizeof(namebuf), "%s", sl ? sl + 1 : arg);
			name = namebuf;
		}
		const char *prob = name ? manifest_name_problem(name) : "cannot be taken from the URL";
		if (prob) {
			fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, arg, "give a URL or file whose last path component is a plain file name",
				     "the input name %s", prob);
			ret = report_fail(&err);
			break;
		}
		char sha[65];
		uint64_t size = 0;
		if (is_url) {
			if (stage_fetch_url(arg, MANIFEST_SIZE_MAX, -1, cacert, sha, &size, &err) < 0) {
				ret = report_fail(&err);
				break;
			}
		} else {
			_cleanup_close_ int fd = open(arg, O_RDONLY | O_CLOEXEC);
			int r = fd < 0 ? -errno : stage_hash_fd(fd, sha, &size);
			if (r < 0) {
				fw_error_set(&err, FW_CLASS_USAGE, FW_EX_IOERR, arg, NULL,
					     "cannot read: %s", strerror(-r));
				ret = report_fail(&err);
				break;
			}
		}
		const struct manifest_input *old = manifest_find(&m, name);
		struct manifest_input in = { .size = size, .status = old ? old->status : status };
		if (status_arg)
			in.status = status;
		memcpy(in.sha256, sha, 65);
		in.name = fw_strdup(name);
		int r = in.name ? 0 : -ENOMEM;
		for (size_t b = 0; r == 0 && b < bases.n; b++) {
			const char *base = bases.v[b];
			bool slash = str_has_suffix(base, "/");
			_cleanup_free_ char *u = fw_asprintf("%s%s%s", base, slash ? "" : "/", name);
			if (!u)
				r = -ENOMEM;
			else if (!strv_contains(&in.urls, u))
				r = strv_push(&in.urls, u);
		}
		for (size_t k = 0; r == 0 && old && k < old->urls.n; k++)
			if (!strv_contains(&in.urls, old->urls.v[k]))
				r = strv_push(&in.urls, old->urls.v[k]);
		if (r == 0 && is_url && !strv_contains(&in.urls, arg))
			r = strv_push(&in.urls, arg);
		const struct strv *cu = canon.n ? &canon : old ? &old->canonical_urls : NULL;
		for (size_t k = 0; r == 0 && cu && k < cu->n; k++)
			r = strv_push(&in.canonical_urls, cu->v[k]);
		if (r == 0 && in.urls.n == 0) {
			manifest_input_release(&in);
			fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, arg,
				     "give --url-base URL (the mirror that serves it) or lock the URL itself",
				     "no URL known for this file");
			ret = report_fail(&err);
			break;
		}
		if (r == 0)
			r = manifest_upsert(&m, &in);
		if (r < 0) {
			manifest_input_release(&in);
			fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, arg, NULL, "%s", strerror(-r));
			ret = report_fail(&err);
			break;
		}
		report_msg(REPORT_INFO, "%s: %s, %llu bytes", name, sha, (unsigned long long)size);
	}
	curl_global_cleanup();
	if (ret)
		goto out;
	if (manifest_write_over(&m, existed ? old_text : NULL, old_len, &new_text, &err) < 0) {
		ret = report_fail(&err);
		goto out;
	}
	int r = write_file_atomic(s.manifest, new_text, strlen(new_text), 0644);
	if (r < 0) {
		fw_error_set(&err, FW_CLASS_DISK, FW_EX_CANTCREAT, s.manifest, NULL, "cannot write: %s",
			     strerror(-r));
		ret = report_fail(&err);
		goto out;
	}
	report_msg(REPORT_INFO, "wrote %s (version %llu, %zu inputs); sign it: flywheel sign --key NAME.key %s",
		   s.manifest, (unsigned long long)m.version, m.n_inputs, s.manifest);
out:
	manifest_release(&m);
	settings_release(&s);
	return ret;
}
