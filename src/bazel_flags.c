/* bazel_flags.c - the options flywheel injects, spelled for one Bazel version.
 *
 * Every spelling comes from the version table (bazel_flag / bazel_has);
 * every "does this command take it" from the command table (bazel_argv.c).
 *
 * Strengths: options that decide where work goes or what is written remotely
 * are REQUIRED (remote cache, executor, instance name, upload=false in
 * read-only lanes, spawn strategy and local fallback in executor mode, forced
 * execution and the evidence files of a proof); tuning and locations are
 * DEFAULT (timeouts, jobs, connections, TLS files, distdir, repository cache,
 * credential helper, injected repositories), so a user's explicit value wins.
 *
 * Remote cache fallback, by version (BAZEL-VERSIONS.md):
 *  - 8.5.1+: local needs --remote_local_fallback AND
 *    --incompatible_remote_local_fallback_for_remote_cache; fail needs neither.
 *  - 8.0-8.5.0: an unreachable cache fails at the first action: agrees with
 *    fail; local cannot be had from flags.
 *  - 7.x: the start-up check runs in the background and Bazel silently builds
 *    locally: agrees with local; with fail, Bazel 7 still builds locally, which
 *    only a child-mode run can notice (noted for the lead / explain).
 *  - before 7: a gRPC cache failing at start ends the build (exit 34), an HTTP
 *    cache only warns; flags cannot change either, flywheel's probe decides.
 * Executor mode always gets --remote_local_fallback=false: a local fallback
 * would make remote execution unprovable.
 */
#include "flywheel/bazel_flags.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flywheel/banned.h"

void bazel_flags_init(struct bazel_flags *f)
{
	memset(f, 0, sizeof(*f));
	bazel_opts_init(&f->startup);
	bazel_opts_init(&f->cmd);
	strv_init(&f->notes);
}

void bazel_flags_release(struct bazel_flags *f)
{
	if (!f)
		return;
	bazel_opts_release(&f->startup);
	bazel_opts_release(&f->cmd);
	strv_release(&f->notes);
}

#define REQ BAZEL_OPT_REQUIRED
#define DEF BAZEL_OPT_DEFAULT

static const char *version_text(const struct bazel_version *v, char *buf, size_t len)
{
	if (!v || !v->known)
		snprintf(buf, len, "Bazel of unknown version");
	else
		snprintf(buf, len, "Bazel %u.%u.%u%s", v->major, v->minor, v->patch, v->pre);
	return buf;
}

static int add_remote(const struct fw_plan *p, const struct bazel_version *v, unsigned scope,
		      struct bazel_flags *f, struct fw_error *err)
{
	struct bazel_opts *o = &f->cmd;
	bool exec = p->mode == FW_MODE_EXECUTOR;
	char vt[64];
	version_text(v, vt, sizeof(vt));
	int r = 0;
	if (!p->cache_url || !*p->cache_url)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "remote cache",
				    "configure a cache endpoint or use --mode=local",
				    "%s mode without a cache URL", exec ? "executor" : "cache");
	if (exec && (!p->executor_url || !*p->executor_url))
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "remote executor",
				    "configure an executor endpoint or use --mode=cache",
				    "executor mode without an executor URL");
	if (scope & BAZEL_SCOPE_REMOTE) {
		r = bazel_opts_add(o, REQ, "the remote cache", "remote_cache", p->cache_url);
		if (r == 0 && exec)
			r = bazel_opts_add(o, REQ, "executor mode", "remote_executor", p->executor_url);
		if (r == 0 && p->instance_name && *p->instance_name)
			r = bazel_opts_add(o, REQ, "the remote instance", "remote_instance_name", p->instance_name);
		if (r == 0)
			r = bazel_opts_add(o, p->upload ? DEF : REQ,
					   p->upload ? "a trusted writer lane" : "a read-only lane",
					   "remote_upload_local_results", p->upload ? "true" : "false");
		if (r == 0 && exec && p->force_execution)
			r = bazel_opts_add(o, REQ, "forced execution", "remote_accept_cached", "false");
		if (r == 0 && p->remote_timeout)
			r = bazel_opts_addf(o, DEF, "remote_timeout", "remote_timeout", "%llu",
					    (unsigned long long)p->remote_timeout);
		if (r == 0 && p->max_connections)
			r = bazel_opts_addf(o, DEF, "max_connections", "remote_max_connections", "%llu",
					    (unsigned long long)p->max_connections);
		if (r == 0 && p->tls_ca)
			r = bazel_opts_add(o, DEF, "tls_ca", "tls_certificate", p->tls_ca);
		if (r == 0 && p->tls_client_cert)
			r = bazel_opts_add(o, DEF, "tls_client_cert", "tls_client_certificate", p->tls_client_cert);
		if (r == 0 && p->tls_client_key)
			r = bazel_opts_add(o, DEF, "tls_client_key", "tls_client_key", p->tls_client_key);
	}
	if (r < 0)
		return r;

	/* credential helper: every remote command, and query (downloads) where the
	 * version uses the helper for repository downloads */
	bool want_helper = (scope & BAZEL_SCOPE_REMOTE) ||
		((scope & BAZEL_SCOPE_AUTH) && bazel_has(v, CAP_CREDENTIAL_HELPER_DOWNLOADS));
	if (p->cred == FW_CRED_HELPER && (scope & BAZEL_SCOPE_AUTH) && want_helper) {
		const char *flag = bazel_flag(v, CAP_CREDENTIAL_HELPER);
		if (!flag)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "credential helper",
					    "set bazel_version if the real Bazel is newer, or let flywheel use a private rc file",
					    "%s has no credential helper (needs 5.4 or later)", vt);
		if (!p->credential_helper_path)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "credential helper", NULL,
					    "plan has no helper path");
		if (p->credential_helper_host && *p->credential_helper_host)
			r = bazel_opts_addf(o, DEF, "the credential helper", flag, "%s=%s",
					    p->credential_helper_host, p->credential_helper_path);
		else
			r = bazel_opts_add(o, DEF, "the credential helper", flag, p->credential_helper_path);
		if (r < 0)
			return r;
	}

	if (!(scope & BAZEL_SCOPE_REMOTE))
		return 0;
	if (exec) {
		r = bazel_opts_add(o, REQ, "executor mode: remote execution must be provable",
				   "remote_local_fallback", "false");
	} else if (bazel_has(v, CAP_REMOTE_CACHE_FALLBACK)) {
		if (p->fallback_local) {
			r = bazel_opts_add(o, DEF, "fallback policy local", "remote_local_fallback", NULL);
			if (r == 0)
				r = bazel_opts_add(o, DEF, "fallback policy local",
						   bazel_flag(v, CAP_REMOTE_CACHE_FALLBACK), NULL);
		}
	} else if (bazel_has(v, CAP_REMOTE_CACHE_CHECK_BACKGROUND)) {
		if (!p->fallback_local)
			r = strv_pushf(&f->notes,
				       "fallback: %s builds locally when the cache is unreachable at start, whatever the flags (#25965); policy fail is only checked in child mode", vt);
	} else if (bazel_has(v, CAP_REMOTE_CACHE_FAIL_AT_ACTION)) {
		if (p->fallback_local)
			r = strv_pushf(&f->notes,
				       "fallback: %s fails at the first action when the cache is unreachable (#27734); policy local relies on flywheel's probe", vt);
	} else {
		r = strv_pushf(&f->notes,
			       "fallback: %s checks the cache at start (gRPC: the build fails, HTTP: a warning); flywheel's probe decides before Bazel runs", vt);
	}
	if (r < 0)
		return r;
	if (exec && p->platform && *p->platform)
		r = bazel_opts_addf(o, DEF, "the execution platform", "remote_default_exec_properties",
				    "gf.platform=%s", p->platform);
	return r;
}

int bazel_flags_build(const struct fw_plan *p, const struct bazel_version *v,
		      const char *command, struct bazel_flags *f, struct fw_error *err)
{
	if (!command)
		return 0;
	unsigned scope = bazel_command_scope(command);
	char vt[64];
	version_text(v, vt, sizeof(vt));
	int r = 0;

	/* startup options go to every command: the same server and output base */
	bool rc = p->cred == FW_CRED_RCFILE && p->rc_file && p->mode != FW_MODE_LOCAL;
	if (p->output_user_root)
		r = bazel_opts_add(&f->startup, rc ? REQ : DEF,
				   rc ? "a private output user root (headers in the rc file)" : "output_user_root",
				   "output_user_root", p->output_user_root);
	if (r == 0 && p->output_base)
		r = bazel_opts_add(&f->startup, DEF, "output_base", "output_base", p->output_base);
	if (r == 0 && rc)
		r = bazel_opts_add(&f->startup, REQ, "credentials for a Bazel without a credential helper",
				   "bazelrc", p->rc_file);
	if (r < 0)
		goto oom;

	if (p->mode != FW_MODE_LOCAL && (scope & (BAZEL_SCOPE_REMOTE | BAZEL_SCOPE_AUTH))) {
		r = add_remote(p, v, scope, f, err);
		if (r == -1)
			return r;
		if (r < 0)
			goto oom;
	}

	struct bazel_opts *o = &f->cmd;
	if (p->mode == FW_MODE_EXECUTOR && (scope & BAZEL_SCOPE_EXEC)) {
		/* Remote for every spawn that may run remotely; one tagged no-remote-exec
		 * or local runs here (sandboxed, else local).  A remote failure is not a
		 * reason to move down the list: --remote_local_fallback=false decides that. */
		r = bazel_opts_add(o, REQ, "executor mode", "spawn_strategy", "remote,sandboxed,local");
		if (r == 0 && p->jobs)
			r = bazel_opts_addf(o, DEF, "jobs", "jobs", "%llu", (unsigned long long)p->jobs);
		if (r < 0)
			goto oom;
	}

	if (scope & BAZEL_SCOPE_REPO) {
		for (size_t i = 0; r == 0 && i < p->distdirs.n; i++)
			r = bazel_opts_add(o, DEF, "staged inputs", "distdir", p->distdirs.v[i]);
		if (r == 0 && p->repository_cache)
			r = bazel_opts_add(o, DEF, "staged inputs", "repository_cache", p->repository_cache);
		const char *inj = bazel_has(v, CAP_INJECT_REPOSITORY) ? bazel_flag(v, CAP_INJECT_REPOSITORY)
								       : bazel_flag(v, CAP_OVERRIDE_REPOSITORY);
		for (size_t i = 0; r == 0 && i < p->inject_repos.n; i++)
			r = bazel_opts_add(o, DEF, "injected repositories", inj, p->inject_repos.v[i]);
		if (r == 0 && p->downloader_config)
			r = bazel_opts_add(o, DEF, "the downloader config", bazel_flag(v, CAP_DOWNLOADER_CONFIG),
					   p->downloader_config);
		if (r == 0 && p->disable_download) {
			const char *dd = bazel_flag(v, CAP_REPOSITORY_DISABLE_DOWNLOAD);
			if (dd)
				r = bazel_opts_add(o, DEF, "downloads disabled", dd, NULL);
			else
				r = strv_pushf(&f->notes,
					       "disable_download: %s has no --repository_disable_download; downloads are not blocked", vt);
		}
		if (r < 0)
			goto oom;
	}

	if (scope & BAZEL_SCOPE_EXEC && p->exec_log_path) {
		const char *log = bazel_has(v, CAP_EXECLOG_COMPACT) ? bazel_flag(v, CAP_EXECLOG_COMPACT)
								     : bazel_flag(v, CAP_EXECLOG_JSON);
		r = bazel_opts_add(o, REQ, "the execution log (evidence)", log, p->exec_log_path);
		if (r < 0)
			goto oom;
	}
	if (scope & BAZEL_SCOPE_BEP && p->bep_json_path) {
		r = bazel_opts_add(o, REQ, "the build event file (evidence)", "build_event_json_file",
				   p->bep_json_path);
		if (r < 0)
			goto oom;
	}
	if (scope & BAZEL_SCOPE_TEST && p->chromium) {
		r = bazel_opts_addf(o, DEF, "GF_RBE_CHROMIUM_EXECUTABLE", "test_env",
				    "GF_RBE_CHROMIUM_EXECUTABLE=%s", p->chromium);
		if (r < 0)
			goto oom;
	}
	return 0;
oom:
	return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "bazel options", NULL, "%s",
			    r == -E2BIG ? "too many options" : "out of memory");
}
