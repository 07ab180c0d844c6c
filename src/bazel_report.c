/* bazel_report.c - `flywheel bazel --report ...`: Bazel as a child, then one
 * summary line and a flywheel-status/1 JSON file.
 *
 * The launch is prepared exactly as for a plain exec (launch_prepare); Bazel
 * runs as a child with signals forwarded and quota retries; afterwards the
 * report says where the actions ran and, when the build was slow, the likely
 * reason.  Bazel's exit status is flywheel's exit status. */
#include "flywheel/bazel_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flywheel/buildreport.h"
#include "flywheel/child.h"
#include "flywheel/coverage.h"
#include "flywheel/execlog.h"
#include "flywheel/launch.h"
#include "flywheel/report.h"
#include "flywheel/verdict.h"
#include "flywheel/banned.h"

static void announce_quota(void *userdata, unsigned attempt, unsigned retries, uint64_t wait_ms)
{
	report_msg(REPORT_WARN, "remote quota exhausted (RESOURCE_EXHAUSTED); retry %u of %u in %llu ms", attempt,
		   retries, (unsigned long long)wait_ms);
}

/* Where the JSON goes: --report=FILE, else $XDG_CACHE_HOME/flywheel/reports/last-build.json. */
static char *report_path(void)
{
	const char *f = getenv("FLYWHEEL_REPORT_FILE");
	if (f && *f)
		return fw_strdup(f);
	_cleanup_free_ char *dir = NULL;
	if (verdict_dir(NULL, &dir) < 0)
		return NULL;
	_cleanup_free_ char *rdir = fw_asprintf("%s/reports", dir);
	if (!rdir || mkdir_p(rdir, 0700) < 0)
		return NULL;
	return fw_asprintf("%s/last-build.json", rdir);
}

/* Bazel 7 checks an unreachable cache in the background and then builds
 * locally without failing; when flywheel's policy is `fail`, the report is
 * where that is caught (the probe before the build said healthy, so the
 * remote broke during the build). */
static bool silent_local_fallback(const struct launch *l, const struct child_result *cr)
{
	if (l->plan.mode == FW_MODE_LOCAL || l->plan.fallback_local || cr->status != 0)
		return false;
	static const char *const marks[] = { "Failed to query remote execution capabilities",
					     "Remote Cache: UNAVAILABLE", "io.grpc.StatusRuntimeException: UNAVAILABLE",
					     "Falling back to local" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(marks); i++)
		if (strstr(cr->tail, marks[i]))
			return true;
	return false;
}

/* Which downloads of the build just watched came from outside the manifest:
 * one line naming the first and the fix.  Nothing when the build made none. */
static void report_outside_downloads(struct launch *l)
{
	if (!l->plan.bep_json_path || access(l->plan.bep_json_path, R_OK) != 0)
		return;
	struct manifest m;
	manifest_init(&m);
	struct audit_result res = { 0 };
	struct fw_error err = { 0 };
	if (audit_for_config(&l->cfg, l->plan.bep_json_path, l->plan.manifest, NULL, NULL, 0, &m, &res, &err) == 0 &&
	    audit_outside_manifest(&res)) {
		const char *first = NULL;
		for (size_t i = 0; i < res.n_fetches && !first; i++)
			if (res.fetches[i].cls == AUDIT_MIRROR || res.fetches[i].cls == AUDIT_UPSTREAM)
				first = res.fetches[i].url;
		size_t n = res.n[AUDIT_MIRROR] + res.n[AUDIT_UPSTREAM];
		report_msg(REPORT_WARN, "%zu download%s came from outside the manifest (first: %s); pin %s: flywheel lock %s",
			   n, n == 1 ? "" : "s", first ? first : "?", n == 1 ? "it" : "them", first ? first : "URL");
	}
	audit_result_release(&res);
	manifest_release(&m);
}

int cmd_bazel_report(int argc, char **argv)
{
	struct launch_opts lo = {
		.mode = getenv("FLYWHEEL_MODE"),
		.json = getenv("FLYWHEEL_JSON") != NULL,
		.strict = getenv("FLYWHEEL_STRICT") != NULL,
		.report = "",
	};
	struct launch l;
	launch_init(&l, &lo, LAUNCH_CHILD);
	int code;
	if (launch_prepare(&l, argc - 1, argv + 1) < 0) {
		if (!l.err_reported)
			report_error(&l.err);
		code = l.err.exit_code ? l.err.exit_code : FW_EX_SOFTWARE;
		launch_release(&l);
		return code;
	}
	struct child_opts co = {
		.argv = l.argv.v,
		.envp = l.envp.v,
		.capture_stderr = true,
		.quota_retries = (unsigned)config_get_u64(&l.cfg, CFG_QUOTA_RETRIES, 0),
		.announce = announce_quota,
	};
	struct child_result *cr = calloc(1, sizeof(*cr));
	struct fw_error err = { 0 };
	if (!cr || child_run(&co, cr, &err) < 0) {
		if (!cr)
			fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "report", NULL, "out of memory");
		report_error(&err);
		free(cr);
		launch_release(&l);
		return err.exit_code ? err.exit_code : FW_EX_SOFTWARE;
	}
	code = cr->status;

	struct bep_summary bep = { 0 };
	struct fw_error ignored = { 0 };
	bool have_bep = l.plan.bep_json_path && bep_read_summary(l.plan.bep_json_path, &bep, &ignored) == 0;

	struct buildreport_input in = {
		.mode = fw_mode_name(l.plan.mode),
		.endpoint = l.plan.mode == FW_MODE_EXECUTOR ? l.plan.executor_url : l.plan.cache_url,
		.exit_status = cr->status,
		.attempts = cr->attempts,
		.quota_wait_ms = cr->quota_wait_ms,
		.elapsed_ms = cr->elapsed_ns / 1000000u,
		.stderr_tail = cr->tail,
		.stderr_tail_len = cr->tail_len,
		.fallback_reason = l.fallback_reason[0] ? l.fallback_reason : NULL,
		.ineligible_reason = l.ineligible_reason[0] ? l.ineligible_reason : NULL,
		.fetches = have_bep ? bep.fetches : 0,
	};
	struct buildreport br;
	buildreport_build(&in, &br);
	report_msg(REPORT_INFO, "%s", br.summary);

	_cleanup_free_ char *json = buildreport_json(&in, &br);
	_cleanup_free_ char *path = report_path();
	if (json && path && write_file_atomic(path, json, strlen(json), 0600) == 0)
		report_msg(REPORT_INFO, "report written to %s", path);
	else
		report_msg(REPORT_WARN, "could not write the report file%s%s", path ? " " : "", path ? path : "");
	if (json && lo.json)
		fputs(json, stdout);

	report_outside_downloads(&l);
	if (silent_local_fallback(&l, cr)) {
		struct fw_error e = { 0 };
		fw_error_set(&e, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, in.endpoint,
			     "run 'flywheel doctor'; set core.fallback = local to accept local builds",
			     "the remote failed during the build and Bazel built locally; fallback is 'fail'");
		report_error(&e);
		code = FW_EX_UNAVAILABLE;
	}
	free(cr);
	launch_release(&l);
	return code;
}
