/* doctor.c - the probe and doctor commands: checklist, --json, --for-launch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#include <jansson.h>

#include "flywheel/auth.h"
#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/credhelper.h"
#include "flywheel/doctor.h"
#include "flywheel/bazel_find.h"
#include "flywheel/endpoint.h"
#include "flywheel/plan.h"
#include "flywheel/policy.h"
#include "flywheel/probe.h"
#include "flywheel/report.h"
#include "flywheel/util.h"
#include "flywheel/verdict.h"
#include "flywheel/banned.h"

struct check *check_add(struct checklist *r, const char *name, enum check_status st)
{
	if (r->n >= CHECKS_MAX)
		return &r->checks[CHECKS_MAX - 1];
	struct check *c = &r->checks[r->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = st;
	c->latency_ms = -1;
	return c;
}

void check_from_error(struct check *c, const struct fw_error *e)
{
	c->status = CHECK_FAIL;
	c->cls = e->cls;
	snprintf(c->detail, sizeof(c->detail), "%s", e->what);
	snprintf(c->fix, sizeof(c->fix), "%s", e->fix);
}

const char *check_status_word(enum check_status s)
{
	static const char *const w[] = { "ok", "warn", "fail", "skip" };
	return w[s];
}

int checklist_print_json(const struct checklist *r, bool ok, json_t *extra)
{
	json_t *root = extra ? json_incref(extra) : json_object();
	json_t *checks = json_array();
	if (!root || !checks)
		return -ENOMEM;
	json_object_set_new(root, "schema", json_string("flywheel-status/1"));
	json_object_set_new(root, "command", json_string(r->command));
	json_object_set_new(root, "ok", json_boolean(ok));
	json_object_set_new(root, "deadline_ms", json_integer((json_int_t)r->timeout_ms));
	json_object_set_new(root, "elapsed_ms", json_real((double)r->elapsed_ns / 1e6));
	for (size_t i = 0; i < r->n; i++) {
		const struct check *c = &r->checks[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "status", json_string(check_status_word(c->status)));
		json_object_set_new(o, "latency_ms", c->latency_ms >= 0 ? json_real(c->latency_ms) : json_null());
		json_object_set_new(o, "detail", json_string(c->detail));
		json_object_set_new(o, "class", c->status == CHECK_OK || c->status == CHECK_SKIP ? json_null()
										: json_string(fw_class_name(c->cls)));
		json_object_set_new(o, "fix", c->fix[0] ? json_string(c->fix) : json_null());
		json_array_append_new(checks, o);
	}
	json_object_set_new(root, "checks", checks);
	json_t *chosen = json_object();
	json_object_set_new(chosen, "cache", r->chosen_cache[0] ? json_string(r->chosen_cache) : json_null());
	json_object_set_new(chosen, "executor", r->chosen_exec[0] ? json_string(r->chosen_exec) : json_null());
	json_object_set_new(chosen, "why", r->chosen_why[0] ? json_string(r->chosen_why) : json_null());
	json_object_set_new(root, "chosen", chosen);
	int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	json_decref(root);
	return rc;
}

/* One line a check: number, mark, name, latency, detail; a failed or warned
 * check adds its class and fix.  Colour only on a terminal without NO_COLOR. */
void checklist_print_checks(const struct checklist *r, FILE *f)
{
	bool color = report_use_color(f);
	static const char *const mark[] = { "\xe2\x9c\x93", "!", "\xe2\x9c\x97", "-" }; /* ✓ ! ✗ - */
	static const char *const tint[] = { "\033[32m", "\033[33m", "\033[31m", "\033[2m" };
	for (size_t i = 0; i < r->n; i++) {
		const struct check *c = &r->checks[i];
		char lat[32] = "";
		if (c->latency_ms >= 0)
			snprintf(lat, sizeof(lat), " (%.1f ms)", c->latency_ms);
		fprintf(f, "%3zu %s%s%s %s%s: %s\n", i + 1, color ? tint[c->status] : "", mark[c->status],
			color ? "\033[0m" : "", c->name, lat, c->detail);
		if (c->status == CHECK_FAIL || c->status == CHECK_WARN) {
			if (c->status == CHECK_FAIL)
				fprintf(f, "      cause: %s\n", fw_class_name(c->cls));
			if (c->fix[0])
				fprintf(f, "      fix: %s\n", c->fix);
		}
	}
}

static void print_human(const struct checklist *r, bool ok)
{
	printf("flywheel %s (deadline %llu ms, took %.0f ms)\n", r->command, (unsigned long long)r->timeout_ms,
	       (double)r->elapsed_ns / 1e6);
	checklist_print_checks(r, stdout);
	if (r->chosen_cache[0])
		printf("cache: %s (%s)\n", r->chosen_cache, r->chosen_why);
	if (r->chosen_exec[0])
		printf("executor: %s\n", r->chosen_exec);
	printf("%s\n", ok ? "result: all checks passed" : "result: some checks failed (see fix lines)");
}

static void targets_release(struct targets *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		endpoint_release(&ts->eps[i]);
	ts->n = 0;
}

static int target_add(struct checklist *r, struct targets *ts, const char *url, enum probe_role role, bool upload,
		      const struct fw_plan *p, const struct auth *a, bool needed)
{
	if (ts->n >= PROBE_TARGETS_MAX)
		return -E2BIG;
	unsigned allowed = role == PROBE_ROLE_EXECUTOR ? EP_EXEC_SCHEMES : EP_CACHE_SCHEMES;
	enum ep_error e = endpoint_parse(url, allowed, &ts->eps[ts->n]);
	if (e != EP_OK) {
		char name[FW_ERROR_SUBJECT_MAX];
		snprintf(name, sizeof(name), "%s %s", role == PROBE_ROLE_EXECUTOR ? "executor" : "cache", url);
		struct check *c = check_add(r, name, CHECK_FAIL);
		c->cls = FW_CLASS_CONFIG;
		snprintf(c->detail, sizeof(c->detail), "%s", ep_error_text(e));
		snprintf(c->fix, sizeof(c->fix), "%s", ep_error_fix(e));
		return -EINVAL;
	}
	struct probe_target *t = &ts->t[ts->n];
	*t = (struct probe_target){
		.ep = &ts->eps[ts->n],
		.instance = p ? p->instance_name : NULL,
		.role = role,
		.want_upload = upload,
		.tls_ca = p ? p->tls_ca : NULL,
		.tls_cert = p ? p->tls_client_cert : NULL,
		.tls_key = p ? p->tls_client_key : NULL,
		.auth = a,
		.subject = ts->eps[ts->n].url,
	};
	ts->needed[ts->n] = needed;
	ts->n++;
	return 0;
}

static unsigned purpose_of(const struct probe_target *t)
{
	return (t->want_upload ? VERDICT_FOR_UPLOAD : 0) | (t->role == PROBE_ROLE_EXECUTOR ? VERDICT_FOR_EXEC : 0);
}

static void store_verdicts(const struct config *c, const struct targets *ts, const struct probe_result *res)
{
	_cleanup_free_ char *dir = NULL;
	if (verdict_dir(NULL, &dir) < 0)
		return;
	for (size_t i = 0; i < ts->n; i++) {
		const struct probe_target *t = &ts->t[i];
		char key[VERDICT_KEY_HEX + 1];
		struct fw_error e = { 0 };
		if (auth_verdict_key(c, t->ep->url, t->instance, purpose_of(t),
				     t->role == PROBE_ROLE_EXECUTOR ? AUTH_SCOPE_EXEC : AUTH_SCOPE_CACHE, key, &e) < 0)
			continue;
		struct verdict v = { 0 };
		v.state = res[i].healthy ? VERDICT_HEALTHY : VERDICT_FAILED;
		v.cls = res[i].healthy ? FW_CLASS_NONE : res[i].err.cls;
		v.latency_us = (uint32_t)(res[i].latency_ns / 1000u);
		snprintf(v.url, sizeof(v.url), "%s", t->ep->url);
		snprintf(v.what, sizeof(v.what), "%s", res[i].healthy ? res[i].detail : res[i].err.what);
		snprintf(v.fix, sizeof(v.fix), "%s", res[i].healthy ? "" : res[i].err.fix);
		/* a verdict that cannot be stored only costs a probe next time */
		(void)verdict_store(dir, key, &v, &e);
	}
}

static int parse_args(struct checklist *r, int argc, char **argv, struct strv *urls, struct fw_error *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		uint64_t n;
		if (strcmp(a, "--json") == 0)
			r->json = true;
		else if (!r->doctor && strcmp(a, "--for-launch") == 0)
			r->for_launch = true;
		else if ((v = str_after(a, "--timeout-ms="))) {
			if (parse_u64(v, 600000, &n) < 0 || n == 0)
				return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, a, "give milliseconds, 1 to 600000",
						    "bad timeout");
			r->timeout_ms = n;
		} else if (a[0] == '-')
			return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, a,
					    r->doctor ? "usage: flywheel doctor [--json] [--timeout-ms=N]"
						      : "usage: flywheel probe [--json] [--timeout-ms=N] [URL...]",
					    "unknown option");
		else if (r->doctor)
			return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, a, "usage: flywheel doctor [--json]",
					    "doctor takes no arguments");
		else if (strv_push(urls, a) < 0)
			return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, a, "probe fewer URLs", "too many URLs");
	}
	return 0;
}

static void describe_credentials(const struct auth *a, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < a->n && off + 1 < len; i++) {
		const char *scope = a->h[i].scope == AUTH_SCOPE_CACHE ? " (cache)" : a->h[i].scope == AUTH_SCOPE_EXEC ? " (executor)" : "";
		int w = snprintf(buf + off, len - off, "%s%s header%s", i ? ", " : "", a->h[i].name, scope);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (!a->n)
		snprintf(buf, len, "none configured");
}

void doctor_state_init(struct doctor_state *st)
{
	memset(st, 0, sizeof(*st));
	config_init(&st->cfg);
	plan_init(&st->plan);
	auth_init(&st->auth);
}

void doctor_state_release(struct doctor_state *st)
{
	targets_release(&st->ts);
	auth_release(&st->auth);
	plan_release(&st->plan);
	config_release(&st->cfg);
}

int doctor_checks(struct checklist *r, const struct strv *urls, struct doctor_state *st)
{
	struct fw_error err = { 0 };
	struct config *cp = &st->cfg;
	struct fw_plan *pp = &st->plan;
	struct auth *ap = &st->auth;
	struct targets *tsp = &st->ts;
	struct probe_result *res = st->res;
	int rc = 0;
	bool config_ok = false;

	struct config_opts o = { 0 };
	struct bazel_version *bvp = &st->version;
	if (config_load(cp, &o, &err) == 0) {
		/* the real Bazel's version decides the credential route (found, not run when cached) */
		struct bazel_found found;
		bazel_found_init(&found);
		const char *cfg_bin = cp->v[CFG_BAZEL_REAL].layer == LAYER_ENV ? NULL : config_get(cp, CFG_BAZEL_REAL);
		struct fw_error ferr = { 0 };
		bool have_bazel = bazel_find(environ, cfg_bin, &found, &ferr) == 0;
		if (have_bazel)
			bazel_detect_version(&found, cp->workspace, environ, config_get(cp, CFG_BAZEL_VERSION), NULL, bvp);
		else if (config_get(cp, CFG_BAZEL_VERSION))
			bazel_version_parse(config_get(cp, CFG_BAZEL_VERSION), bvp);
		if (r->doctor) {
			/* which Bazel, which version, and where the version came from */
			struct check *ck = check_add(r, "bazel", !have_bazel ? CHECK_FAIL : bvp->known ? CHECK_OK : CHECK_WARN);
			if (!have_bazel) {
				check_from_error(ck, &ferr);
			} else {
				char desc[512];
				bazel_version_describe(bvp, desc, sizeof(desc));
				snprintf(ck->detail, sizeof(ck->detail), "%s, version %s", found.path, desc);
				if (!bvp->known)
					snprintf(ck->fix, sizeof(ck->fix),
						 "set core.bazel_version (FLYWHEEL_BAZEL_VERSION) so flags are spelled for your Bazel");
			}
		}
		bazel_found_release(&found);
		struct policy_opts po = { .version = bvp };
		if (policy_build(cp, &po, pp, NULL, &err) == 0)
			config_ok = true;
	}
	st->config_ok = config_ok;
	if (!r->timeout_ms)
		r->timeout_ms = config_ok || fw_error_isset(&err) ? config_get_u64(cp, CFG_PROBE_TIMEOUT_MS, PROBE_DEFAULT_TIMEOUT_MS)
								 : PROBE_DEFAULT_TIMEOUT_MS;
	if (!config_ok) {
		if (r->for_launch) {
			report_error(&err);
			rc = err.exit_code ? err.exit_code : FW_EX_CONFIG;
			return rc;
		}
		struct check *ck = check_add(r, "config", CHECK_FAIL);
		check_from_error(ck, &err);
		char subj[FW_ERROR_SUBJECT_MAX + 4];
		snprintf(subj, sizeof(subj), "%s: ", err.subject);
		size_t dl = strlen(ck->detail);
		if (err.subject[0] && strlen(subj) + dl < sizeof(ck->detail)) {
			memmove(ck->detail + strlen(subj), ck->detail, dl + 1);
			memcpy(ck->detail, subj, strlen(subj));
		}
	} else if (!r->for_launch) {
		struct check *ck = check_add(r, "config", CHECK_OK);
		snprintf(ck->detail, sizeof(ck->detail), "mode %s%s%s", fw_mode_name(pp->mode),
			 pp->instance_name ? ", instance " : "", pp->instance_name ? pp->instance_name : "");
	}
	if (r->for_launch && pp->mode == FW_MODE_LOCAL)
		return rc;

	/* credentials: loaded once, shown by name only */
	fw_error_clear(&err);
	if (config_ok && pp->has_credentials) {
		if (auth_load_config(cp, NULL, ap, &err) < 0) {
			if (r->for_launch) {
				report_error(&err);
				rc = err.exit_code ? err.exit_code : FW_EX_NOPERM;
				return rc;
			}
			check_from_error(check_add(r, "credentials", CHECK_FAIL), &err);
		} else if (!r->for_launch) {
			struct check *ck = check_add(r, "credentials", CHECK_OK);
			describe_credentials(ap, ck->detail, sizeof(ck->detail));
			if (pp->cred == FW_CRED_RCFILE) {
				ck->status = CHECK_WARN;
				size_t dl = strlen(ck->detail);
				snprintf(ck->detail + dl, sizeof(ck->detail) - dl,
					 "; this Bazel version (%s) has no credential-helper protocol and copies header values into its own output-base logs",
					 bvp->known ? bvp->raw : "unknown");
				snprintf(ck->fix, sizeof(ck->fix),
					 "use Bazel 5.4 or newer; meanwhile flywheel passes headers in a private 0600 rc file and keeps the output user root 0700");
			}
		}
	}

	/* endpoints */
	if (urls->n) {
		for (size_t i = 0; i < urls->n; i++)
			target_add(r, tsp, urls->v[i], PROBE_ROLE_CACHE, false, config_ok ? pp : NULL, ap, true);
	} else if (config_ok) {
		bool exec_mode = pp->mode == FW_MODE_EXECUTOR;
		if (exec_mode) {
			target_add(r, tsp, pp->executor_url, PROBE_ROLE_EXECUTOR, pp->upload, pp, ap, true);
			if (pp->cache_url && strcmp(pp->cache_url, pp->executor_url) != 0)
				target_add(r, tsp, pp->cache_url, PROBE_ROLE_CACHE, pp->upload, pp, ap, true);
		} else if (!r->for_launch || pp->mode == FW_MODE_CACHE) {
			for (size_t i = 0; i < pp->cache_candidates.n; i++)
				target_add(r, tsp, pp->cache_candidates.v[i], PROBE_ROLE_CACHE, pp->upload, pp, ap,
					   pp->mode == FW_MODE_CACHE);
			const char *ex = config_get(cp, CFG_REMOTE_EXECUTOR);
			if (ex && !r->for_launch)
				target_add(r, tsp, ex, PROBE_ROLE_EXECUTOR, pp->upload, pp, ap, false);
		}
	}
	if (tsp->n == 0 && !r->for_launch && config_ok && !urls->n) {
		struct check *ck = check_add(r, "endpoints", CHECK_SKIP);
		snprintf(ck->detail, sizeof(ck->detail), "no remote cache or executor configured: local builds");
	}
	if (tsp->n) {
		fw_error_clear(&err);
		if (probe_run(tsp->t, tsp->n, r->timeout_ms, res, &err) < 0) {
			report_error(&err);
			rc = err.exit_code ? err.exit_code : FW_EX_SOFTWARE;
			return rc;
		}
		if (!r->doctor && config_ok)
			store_verdicts(cp, tsp, res);
		size_t cache_idx[PROBE_TARGETS_MAX], nc = 0, check_of[PROBE_TARGETS_MAX];
		bool exec_needed = false, exec_ok = false;
		for (size_t i = 0; i < tsp->n; i++) {
			const struct probe_target *t = &tsp->t[i];
			char name[FW_ERROR_SUBJECT_MAX];
			snprintf(name, sizeof(name), "%s %s", t->role == PROBE_ROLE_EXECUTOR ? "executor" : "cache", t->ep->url);
			check_of[i] = r->n;
			struct check *ck = check_add(r, name, res[i].healthy ? CHECK_OK : CHECK_FAIL);
			ck->latency_ms = (double)res[i].latency_ns / 1e6;
			if (res[i].healthy)
				snprintf(ck->detail, sizeof(ck->detail), "%s", res[i].detail);
			else
				check_from_error(ck, &res[i].err);
			if (t->role == PROBE_ROLE_CACHE)
				cache_idx[nc++] = i;
			else if (tsp->needed[i]) {
				exec_needed = true;
				exec_ok = res[i].healthy;
				if (exec_ok) {
					snprintf(r->chosen_exec, sizeof(r->chosen_exec), "%s", t->ep->url);
					r->chosen_latency_ms = (double)res[i].latency_ns / 1e6;
				}
			}
			if (!res[i].healthy && !tsp->needed[i] && !urls->n)
				ck->status = CHECK_WARN; /* configured, but this run does not use it */
		}
		bool cache_needed = false;
		for (size_t k = 0; k < nc; k++)
			cache_needed |= tsp->needed[cache_idx[k]];
		int best = nc ? probe_pick(res, cache_idx, nc, r->chosen_why, sizeof(r->chosen_why)) : -1;
		if (best >= 0) {
			snprintf(r->chosen_cache, sizeof(r->chosen_cache), "%s", tsp->t[best].ep->url);
			if (!r->chosen_exec[0])
				r->chosen_latency_ms = (double)res[best].latency_ns / 1e6;
			/* one healthy cache of a list is enough: the others only warn */
			if (!urls->n)
				for (size_t k = 0; k < nc; k++)
					if (!res[cache_idx[k]].healthy && check_of[cache_idx[k]] < r->n)
						r->checks[check_of[cache_idx[k]]].status = CHECK_WARN;
		}
		if ((cache_needed && best < 0) || (exec_needed && !exec_ok))
			rc = FW_EX_UNAVAILABLE;
		if (urls->n)
			for (size_t i = 0; i < tsp->n; i++)
				if (!res[i].healthy)
					rc = FW_EX_UNAVAILABLE;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].status == CHECK_FAIL && rc == 0)
			rc = r->doctor ? FW_EX_FAIL : FW_EX_UNAVAILABLE;
	if (r->doctor && rc != 0)
		rc = FW_EX_FAIL;
	return rc;
}

static int run_command(struct checklist *r, int argc, char **argv)
{
	struct fw_error err = { 0 };
	struct strv urls;
	strv_init(&urls);
	urls.max = PROBE_TARGETS_MAX;
	if (parse_args(r, argc, argv, &urls, &err) < 0) {
		report_error(&err);
		strv_release(&urls);
		return FW_EX_USAGE;
	}
	uint64_t start = now_ns();
	struct doctor_state *st = calloc(1, sizeof(*st));
	if (!st) {
		strv_release(&urls);
		return FW_EX_OSERR;
	}
	doctor_state_init(st);
	int rc = doctor_checks(r, &urls, st);
	r->elapsed_ns = now_ns() - start;
	if (!r->for_launch && (rc == 0 || rc == FW_EX_FAIL || rc == FW_EX_UNAVAILABLE || r->n)) {
		if (r->json)
			checklist_print_json(r, rc == 0, NULL);
		else
			print_human(r, rc == 0);
	}
	doctor_state_release(st);
	free(st);
	strv_release(&urls);
	return rc;
}

int cmd_probe(int argc, char **argv)
{
	struct checklist *r = calloc(1, sizeof(*r));
	if (!r)
		return FW_EX_OSERR;
	r->command = "probe";
	int rc = run_command(r, argc, argv);
	free(r);
	return rc;
}

int cmd_doctor(int argc, char **argv)
{
	struct checklist *r = calloc(1, sizeof(*r));
	if (!r)
		return FW_EX_OSERR;
	r->command = "doctor";
	r->doctor = true;
	int rc = run_command(r, argc, argv);
	free(r);
	return rc;
}
