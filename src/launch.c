/* launch.c - the `flywheel bazel` path and `explain`.
 *
 * Steps, in order: load the configuration; parse Bazel's command line; find
 * the real Bazel and its version; validate and build the plan; read the probe
 * verdict (probing through flywheel-net on a miss) and apply the fallback
 * policy; check that the manifest's inputs are staged (staging through
 * flywheel-net when not); turn the plan into options for this Bazel version;
 * merge them into the user's argv; clean the environment; execve.  Nothing of
 * Bazel runs before every check has passed. */
#include "flywheel/launch.h"

#include "fw_build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flywheel/auth.h"
#include "flywheel/bazel_argv.h"
#include "flywheel/bazel_find.h"
#include "flywheel/bazel_flags.h"
#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/credhelper.h"
#include "flywheel/dlconfig.h"
#include "flywheel/eligibility.h"
#include "flywheel/explain.h"
#include "flywheel/endpoint.h"
#include "flywheel/envfile.h"
#include "flywheel/policy.h"
#include "flywheel/report.h"
#include "flywheel/stagecheck.h"
#include "flywheel/verdict.h"
#include "flywheel/banned.h"

extern char **environ;

void launch_init(struct launch *l, const struct launch_opts *o, unsigned flags)
{
	memset(l, 0, sizeof(*l));
	l->o = o;
	l->flags = flags;
	config_init(&l->cfg);
	bazel_cmdline_init(&l->cmd);
	bazel_found_init(&l->found);
	plan_init(&l->plan);
	strv_init(&l->notes);
	l->notes.max = LAUNCH_NOTES_MAX;
	bazel_flags_init(&l->flags_);
	strv_init(&l->argv);
	strv_init(&l->envp);
}

/* Remove the evidence directory and what Bazel wrote into it. */
static void remove_evidence_dir(const char *dir)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0) {
		static const char *const names[] = { "execution-log.json", "execution-log.zst", "build-events.json" };
		for (size_t i = 0; i < FW_ARRAY_SIZE(names); i++)
			unlinkat(dfd, names[i], 0);
	}
	rmdir(dir);
}

void launch_release(struct launch *l)
{
	config_release(&l->cfg);
	bazel_cmdline_release(&l->cmd);
	bazel_found_release(&l->found);
	plan_release(&l->plan);
	strv_release(&l->notes);
	bazel_flags_release(&l->flags_);
	strv_release(&l->argv);
	strv_release(&l->envp);
	if (l->evidence_dir && !(l->flags & LAUNCH_KEEP_EVIDENCE) && !getenv("FLYWHEEL_KEEP_EVIDENCE"))
		remove_evidence_dir(l->evidence_dir);
	free(l->evidence_dir);
}

static int fail(struct launch *l)
{
	if (!fw_error_isset(&l->err))
		fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "flywheel", NULL, "out of memory");
	if (!l->err_reported)
		report_error(&l->err);
	return l->err.exit_code ? l->err.exit_code : FW_EX_SOFTWARE;
}

/* ---- helpers run as children (flywheel-net probe / stage) ------------------ */

/* flywheel-net lives beside flywheel in a build tree, or in libexec. */
static int find_net(char *buf, size_t len)
{
	const char *env = getenv("FLYWHEEL_NET");
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) == 0 ? 0 : -errno;
	}
	char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return -ENOENT;
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(buf, len, "%s/flywheel-net", dir);
	if (access(buf, X_OK) == 0)
		return 0;
	snprintf(buf, len, "%s/../libexec/flywheel/flywheel-net", dir);
	if (access(buf, X_OK) == 0)
		return 0;
	snprintf(buf, len, "%s/flywheel-net", FLYWHEEL_LIBEXECDIR);
	return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

/* flywheel's own options travel to the helper as environment variables. */
static void export_opts(const struct launch_opts *lo)
{
	if (lo->mode)
		setenv("FLYWHEEL_MODE", lo->mode, 1);
	if (lo->json)
		setenv("FLYWHEEL_JSON", "1", 1);
	if (lo->verbosity > 0)
		setenv("FLYWHEEL_VERBOSE", lo->verbosity > 1 ? "2" : "1", 1);
	if (lo->strict)
		setenv("FLYWHEEL_STRICT", "1", 1);
	if (lo->report)
		setenv("FLYWHEEL_REPORT_FILE", lo->report, 1);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0 && !getenv("FLYWHEEL_SELF")) {
		self[n] = '\0';
		setenv("FLYWHEEL_SELF", self, 1);
	}
}

int launch_exec_net(const struct launch_opts *lo, int argc, char **argv)
{
	char helper[PATH_MAX];
	struct fw_error err = { 0 };
	if (find_net(helper, sizeof(helper)) < 0) {
		fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_UNAVAILABLE, "flywheel-net",
			     "reinstall flywheel, or point FLYWHEEL_NET at the helper",
			     "the network helper for '%s' is not installed", argv[0]);
		report_error(&err);
		return FW_EX_UNAVAILABLE;
	}
	export_opts(lo);
	struct strv args;
	strv_init(&args);
	if (strv_push(&args, "flywheel-net") < 0)
		return FW_EX_SOFTWARE;
	for (int i = 0; i < argc; i++)
		if (strv_push(&args, argv[i]) < 0)
			return FW_EX_SOFTWARE;
	fflush(NULL);
	execv(helper, args.v);
	int e = errno;
	strv_release(&args);
	fw_error_set(&err, FW_CLASS_INTERNAL, FW_EX_UNAVAILABLE, helper,
		     "install libcurl (Debian: libcurl4) or reinstall flywheel",
		     "cannot run the network helper: %s", strerror(e));
	report_error(&err);
	return FW_EX_UNAVAILABLE;
}

/* Run flywheel-net with args (NULL-terminated); returns its exit status,
 * 128+signal, or -errno when it could not be started. */
static int run_net(struct launch *l, const char *const *args)
{
	char helper[PATH_MAX];
	int r = find_net(helper, sizeof(helper));
	if (r < 0)
		return r;
	struct strv av;
	strv_init(&av);
	if (strv_push(&av, "flywheel-net") < 0)
		return -ENOMEM;
	for (size_t i = 0; args[i]; i++)
		if (strv_push(&av, args[i]) < 0) {
			strv_release(&av);
			return -ENOMEM;
		}
	export_opts(l->o);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		strv_release(&av);
		return -errno;
	}
	if (pid == 0) {
		execv(helper, av.v);
		_exit(127);
	}
	strv_release(&av);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- remote health ----------------------------------------------------------- */

static int lookup_verdict(struct launch *l, const char *url, unsigned purpose, struct verdict *ret)
{
	_cleanup_free_ char *dir = NULL;
	memset(ret, 0, sizeof(*ret));
	if (verdict_dir(NULL, &dir) < 0)
		return 0;
	char key[VERDICT_KEY_HEX + 1];
	struct fw_error ignored = { 0 };
	enum auth_scope role = (purpose & VERDICT_FOR_EXEC) ? AUTH_SCOPE_EXEC : AUTH_SCOPE_CACHE;
	if (auth_verdict_key(&l->cfg, url, l->plan.instance_name, purpose, role, key, &ignored) < 0)
		return 0; /* a miss: the probe reports the credential problem */
	return verdict_lookup(dir, key, config_get_u64(&l->cfg, CFG_VERDICT_TTL, VERDICT_HEALTHY_TTL), 0, ret);
}

static int read_verdicts(struct launch *l)
{
	memset(&l->cache_verdict, 0, sizeof(l->cache_verdict));
	memset(&l->exec_verdict, 0, sizeof(l->exec_verdict));
	bool all = true;
	/* A list of caches: the probe stored one verdict per candidate; take the
	 * healthy one with the lowest latency. */
	unsigned purpose = VERDICT_FOR_READ | (l->plan.upload ? VERDICT_FOR_UPLOAD : 0);
	/* An executor run lowered to cache mode (ineligible targets) still uses
	 * the executor's cache: the probe checks both through the executor. */
	if (l->requested_mode == FW_MODE_EXECUTOR && l->plan.executor_url) {
		all &= lookup_verdict(l, l->plan.executor_url, VERDICT_FOR_EXEC, &l->exec_verdict) == 1;
		if (strcmp(l->plan.cache_url, l->plan.executor_url) != 0)
			all &= lookup_verdict(l, l->plan.cache_url, purpose, &l->cache_verdict) == 1;
		else
			l->cache_verdict = l->exec_verdict;
		return all ? 1 : 0;
	}
	struct verdict best = { 0 };
	bool have = false, any_missing = false;
	const char *best_url = NULL;
	for (size_t i = 0; i < l->plan.cache_candidates.n; i++) {
		struct verdict v;
		if (lookup_verdict(l, l->plan.cache_candidates.v[i], purpose, &v) != 1) {
			any_missing = true;
			continue;
		}
		if (!have || (v.state == VERDICT_HEALTHY &&
			      (best.state != VERDICT_HEALTHY || v.latency_us < best.latency_us))) {
			best = v;
			best_url = l->plan.cache_candidates.v[i];
			have = true;
		}
	}
	if (any_missing && !(have && best.state == VERDICT_HEALTHY && l->plan.cache_candidates.n == 1))
		return 0;
	l->cache_verdict = best;
	if (best_url && strcmp(best_url, l->plan.cache_url) != 0) {
		free(l->plan.cache_url);
		l->plan.cache_url = fw_strdup(best_url);
		if (l->plan.cache_candidates.n > 1)
			strv_pushf(&l->notes, "cache %s chosen: healthy with the lowest latency (%u ms) of %zu", best_url,
				   best.latency_us / 1000, l->plan.cache_candidates.n);
	}
	return have ? 1 : 0;
}

static const struct verdict *failed_verdict(struct launch *l)
{
	if (l->requested_mode == FW_MODE_EXECUTOR && l->plan.executor_url && l->exec_verdict.state != VERDICT_HEALTHY)
		return &l->exec_verdict;
	if (l->cache_verdict.state != VERDICT_HEALTHY)
		return &l->cache_verdict;
	return NULL;
}

/* Decide whether the remote can be used; on failure fall back or fail. */
static int check_remote(struct launch *l, bool explain)
{
	if (l->plan.mode == FW_MODE_LOCAL)
		return 0;
	int have = read_verdicts(l);
	if (!have && explain) {
		strv_push(&l->notes, "no probe verdict cached: 'flywheel bazel' probes the remote before Bazel starts");
		return 0;
	}
	if (!have) {
		static const char *const args[] = { "probe", "--for-launch", NULL };
		int r = run_net(l, args);
		if (r == FW_EX_CONFIG || r < 0 || (r != 0 && r != FW_EX_UNAVAILABLE)) {
			if (r < 0)
				return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "flywheel-net",
						    "reinstall flywheel (the network helper is missing)",
						    "cannot probe the remote: %s", strerror(-r));
			return fw_error_set(&l->err, FW_CLASS_INTERNAL, r, "probe", "run 'flywheel doctor' for details",
					    "the probe failed (exit %d)", r);
		}
		if (read_verdicts(l) != 1) {
			/* The verdict cache is only for speed (a read-only $XDG_CACHE_HOME):
			 * the probe's exit status still says healthy (0) or not (69). */
			strv_push(&l->notes, "the probe could not store its verdict ($XDG_CACHE_HOME not writable): every call probes");
			const char *url = l->plan.mode == FW_MODE_EXECUTOR ? l->plan.executor_url : l->plan.cache_url;
			struct verdict *v = l->plan.mode == FW_MODE_EXECUTOR ? &l->exec_verdict : &l->cache_verdict;
			memset(&l->exec_verdict, 0, sizeof(l->exec_verdict));
			memset(&l->cache_verdict, 0, sizeof(l->cache_verdict));
			l->exec_verdict.state = l->cache_verdict.state = VERDICT_HEALTHY;
			if (r == FW_EX_UNAVAILABLE) {
				v->state = VERDICT_FAILED;
				v->cls = FW_CLASS_CONNECT;
				snprintf(v->url, sizeof(v->url), "%s", url);
				snprintf(v->what, sizeof(v->what), "the probe found it unusable");
				snprintf(v->fix, sizeof(v->fix), "run 'flywheel doctor' for the cause");
			}
		}
	}
	l->probed = true;
	const struct verdict *bad = failed_verdict(l);
	if (!bad)
		return 0;
	snprintf(l->fallback_reason, sizeof(l->fallback_reason), "%s: %s (%s)", bad->url, bad->what,
		 fw_class_name(bad->cls));
	if (!l->plan.fallback_local) {
		return fw_error_set(&l->err, bad->cls, FW_EX_UNAVAILABLE, bad->url, bad->fix,
				    "%s; fallback is 'fail'%s", bad->what, l->cfg.ci ? " (CI is set)" : "");
	}
	/* fall back to a local build: the one-line warning names the cause */
	if (!explain)
		report_msg(REPORT_WARN, "%s: %s; building locally (%s)", bad->url, bad->what, bad->fix);
	strv_pushf(&l->notes, "remote unusable, falling back to local: %s", l->fallback_reason);
	l->plan.mode = FW_MODE_LOCAL;
	return 0;
}

/* ---- staged inputs ----------------------------------------------------------- */

static int check_staged(struct launch *l, bool explain)
{
	if (!l->plan.manifest)
		return 0;
	const char *dd[STAGECHECK_DISTDIRS_MAX];
	size_t n = l->plan.distdirs.n < STAGECHECK_DISTDIRS_MAX ? l->plan.distdirs.n : STAGECHECK_DISTDIRS_MAX;
	for (size_t i = 0; i < n; i++)
		dd[i] = l->plan.distdirs.v[i];
	_cleanup_strv_ struct strv trust;
	strv_init(&trust);
	char trust_id[17];
	if (config_trust_entries(&l->cfg, &trust) < 0)
		return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "inputs", NULL, "out of memory");
	stagecheck_trust_id((const char *const *)trust.v, trust.n, trust_id);
	struct stagecheck_opts so = {
		.trust_id = trust_id,
		.signature = config_get(&l->cfg, CFG_MANIFEST_SIG),
		.distdirs = dd,
		.n_distdirs = n,
		.repo_cache = l->plan.repository_cache,
		.canonical_ids = bazel_has(&l->version, CAP_REPO_CANONICAL_ID),
		.allow_unsigned = config_get_bool(&l->cfg, CFG_ALLOW_UNSIGNED),
	};
	bool all = false;
	if (stagecheck_warm(l->plan.manifest, &so, &all, &l->err) < 0)
		return -1;
	l->staged_warm = all;
	if (all)
		return 0;
	if (explain) {
		strv_push(&l->notes, "inputs not all staged: 'flywheel bazel' stages them before Bazel starts");
		return 0;
	}
	/* the stager gets exactly the destinations this launch passes to Bazel */
	char ver[64] = "";
	const char *args[8 + 2 * STAGECHECK_DISTDIRS_MAX];
	size_t na = 0;
	args[na++] = "stage";
	args[na++] = "--manifest";
	args[na++] = l->plan.manifest;
	if (l->version.known) {
		snprintf(ver, sizeof(ver), "%u.%u.%u", l->version.major, l->version.minor, l->version.patch);
		args[na++] = "--bazel-version";
		args[na++] = ver;
	}
	if (l->plan.repository_cache) {
		args[na++] = "--repository-cache";
		args[na++] = l->plan.repository_cache;
	}
	for (size_t i = 0; i < n; i++) {
		args[na++] = "--distdir";
		args[na++] = dd[i];
	}
	args[na] = NULL;
	int r = run_net(l, args);
	if (r == 0)
		return 0;
	if (r < 0)
		return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "flywheel-net",
				    "reinstall flywheel (the network helper is missing)", "cannot stage inputs: %s",
				    strerror(-r));
	/* the stager printed its own one-line reason: exit with its code, say nothing more */
	fw_error_set(&l->err, FW_CLASS_EXTERNAL_INPUT, r, "inputs", NULL, "staging failed");
	l->err_reported = true;
	return -1;
}

/* ---- credentials --------------------------------------------------------------- */

/* Where flywheel keeps per-user files that hold secrets (the directory is
 * created 0700 by whoever writes into it). */
static char *private_run_dir(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	if (rt && rt[0] == '/')
		return fw_asprintf("%s/flywheel", rt);
	if (home && home[0] == '/')
		return fw_asprintf("%s/.cache/flywheel/run", home);
	return fw_asprintf("/tmp/flywheel-%u", (unsigned)getuid());
}

/* Value quoted for the env-file syntax: double quotes, escaping what a shell
 * would interpret. */
static int append_quoted(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	size_t n = *len;
	int w = snprintf(buf + n, cap - n, "%s=\"", key);
	if (w < 0 || (size_t)w >= cap - n)
		return -E2BIG;
	n += (size_t)w;
	for (const char *p = value; *p; p++) {
		if (n + 3 >= cap)
			return -E2BIG;
		if (*p == '"' || *p == '\\' || *p == '$' || *p == '`')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	if (n + 3 >= cap)
		return -E2BIG;
	buf[n++] = '"';
	buf[n++] = '\n';
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* New Bazel: it runs `flywheel credential-helper get` with the environment
 * flywheel gave it, from which every secret variable was removed.  The
 * secrets are handed over in a private 0600 file named by
 * FLYWHEEL_SECRETS_FILE instead (the same protection as a token file). */
static int prepare_secrets_file(struct launch *l)
{
	if (l->plan.cred != FW_CRED_HELPER)
		return 0;
	char buf[ENVFILE_MAX_SIZE];
	size_t len = 0;
	bool any = false;
	for (int k = 0; k < CFG__MAX; k++) {
		const char *v = config_get(&l->cfg, (enum cfg_key)k);
		if (!(cfg_keys[k].flags & CK_SECRET) || !v || !*v)
			continue;
		if (append_quoted(buf, sizeof(buf), &len, cfg_keys[k].env, v) < 0) {
			sodium_memzero(buf, sizeof(buf));
			return fw_error_set(&l->err, FW_CLASS_CONFIG, FW_EX_CONFIG, "credentials",
					    "use a token file for large credentials", "the configured secrets are too large");
		}
		any = true;
	}
	if (!any)
		return 0;
	_cleanup_free_ char *dir = private_run_dir();
	_cleanup_free_ char *path = dir ? fw_asprintf("%s/secrets-%u.env", dir, (unsigned)getuid()) : NULL;
	int r = -ENOMEM;
	if (path) {
		r = mkdir_p(dir, 0700);
		if (r == 0 && chmod(dir, 0700) < 0)
			r = -errno;
		if (r == 0)
			r = write_file_atomic(path, buf, len, 0600);
	}
	sodium_memzero(buf, sizeof(buf));
	if (r < 0)
		return fw_error_set(&l->err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir ? dir : "runtime directory",
				    "make $XDG_RUNTIME_DIR or ~/.cache writable", "cannot write the private secrets file: %s",
				    strerror(-r));
	if (strv_pushf(&l->envp, "FLYWHEEL_SECRETS_FILE=%s", path) < 0)
		return -1;
	return 0;
}

/* Old Bazel: headers travel in a private rc file; its output user root must be
 * private too, because Bazel copies the header values into its own logs. */
static int prepare_rcfile(struct launch *l)
{
	if (l->plan.cred != FW_CRED_RCFILE)
		return 0;
	struct auth a;
	auth_init(&a);
	int r = auth_load_config(&l->cfg, l->plan.cache_url, &a, &l->err);
	_cleanup_free_ char *dir = NULL;
	if (r == 0) {
		dir = private_run_dir();
		r = dir ? auth_write_rcfile(dir, &a, &l->plan.rc_file, &l->err) : -ENOMEM;
	}
	auth_release(&a);
	if (r < 0)
		return -1;
	/* the output user root: configured, else Bazel's default for this user */
	_cleanup_free_ char *root = NULL;
	if (l->plan.output_user_root) {
		root = fw_strdup(l->plan.output_user_root);
	} else {
		const char *home = getenv("HOME");
		const char *user = getenv("USER");
		if (home && user)
			root = fw_asprintf("%s/.cache/bazel/_bazel_%s", home, user);
	}
	if (root) {
		if (mkdir_p(root, 0700) < 0 || chmod(root, 0700) < 0)
			return fw_error_set(&l->err, FW_CLASS_DISK, FW_EX_CANTCREAT, root,
					    "make it a directory you own, or set BAZEL_OUTPUT_USER_ROOT",
					    "cannot make the output user root private: %s", strerror(errno));
		if (!l->plan.output_user_root)
			l->plan.output_user_root = steal_ptr(&root);
	}
	return 0;
}

/* ---- environment for Bazel ------------------------------------------------------- */

static bool secret_env_name(const char *entry)
{
	if (str_has_prefix(entry, "FLYWHEEL_SECRETS_FILE="))
		return true; /* a stale one: replaced when needed */
	for (int k = 0; k < CFG__MAX; k++) {
		if (!(cfg_keys[k].flags & CK_SECRET))
			continue;
		const char *names[] = { cfg_keys[k].env, cfg_keys[k].env2 };
		for (size_t i = 0; i < 2; i++) {
			size_t n = strlen(names[i]);
			if (n && strncmp(entry, names[i], n) == 0 && entry[n] == '=')
				return true;
		}
	}
	return false;
}

static int build_env(struct launch *l)
{
	for (char **e = environ; *e; e++) {
		if (secret_env_name(*e))
			continue; /* Bazel never sees a secret variable; the credential helper reads it from flywheel's config */
		if (strv_push(&l->envp, *e) < 0)
			return -1;
	}
	if (bazel_exec_env(&l->found, &l->envp) < 0)
		return -1;
	return 0;
}

/* ---- exec -------------------------------------------------------------------------- */

/* The launcher installs no signal handler and never changes its signal mask,
 * so there is nothing to undo before execve: Bazel inherits exactly what the
 * caller gave flywheel (ignored signals included, as with env(1) or nice(1)). */
static int exec_bazel(struct launch *l)
{
	fflush(NULL);
	execve(l->found.path, l->argv.v, l->envp.v);
	int e = errno;
	fw_error_set(&l->err, FW_CLASS_BAZEL_NOT_FOUND, e == ENOENT ? FW_EX_NOTFOUND : FW_EX_NOEXEC, l->found.path,
		     e == ENOENT ? "install Bazel or set BAZEL_REAL" : "check that it is an executable file",
		     "cannot run Bazel: %s", strerror(e));
	return -1;
}

/* ---- the launch ---------------------------------------------------------------------- */

/* ---- executor eligibility -------------------------------------------------------- */

/* Executor mode only for targets whose class is proved and allows executor;
 * otherwise cache mode with the reason (or, with --strict, refuse). */
static int check_eligibility(struct launch *l)
{
	if (l->plan.mode != FW_MODE_EXECUTOR || (l->flags & LAUNCH_NO_ELIGIBILITY))
		return 0;
	struct strv targets;
	strv_init(&targets);
	bool ambiguous = false;
	int r = bazel_argv_targets(&l->cmd, &targets, &ambiguous);
	if (r < 0) {
		strv_release(&targets);
		return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "targets", NULL, "out of memory");
	}
	struct elig_decision d = { 0 };
	if (!l->plan.eligibility) {
		snprintf(d.reason, sizeof(d.reason),
			 "no eligibility manifest is configured (executor.eligibility / FLYWHEEL_ELIGIBILITY)");
	} else if (targets.n == 0) {
		snprintf(d.reason, sizeof(d.reason), "no target patterns on the command line");
	} else {
		struct elig_manifest m;
		eligibility_init(&m);
		if (eligibility_load(l->plan.eligibility, &m, &l->err) < 0) {
			eligibility_release(&m);
			strv_release(&targets);
			return -1;
		}
		eligibility_check_targets(&m, (const char *const *)targets.v, targets.n, &d);
		eligibility_release(&m);
	}
	strv_release(&targets);
	if (d.eligible)
		return 0;
	snprintf(l->ineligible_reason, sizeof(l->ineligible_reason), "%s%s%s", d.target[0] ? d.target : "",
		 d.target[0] ? ": " : "", d.reason);
	if (l->o->strict)
		return fw_error_set(&l->err, FW_CLASS_ELIGIBILITY, FW_EX_CONFIG, d.target[0] ? d.target : "executor mode",
				    "prove the target's class (flywheel proof --class NAME) or run in cache mode",
				    "not eligible for remote execution: %s", d.reason);
	if (!(l->flags & LAUNCH_EXPLAIN))
		report_msg(REPORT_WARN, "executor mode not used: %s; building in cache mode", l->ineligible_reason);
	strv_pushf(&l->notes, "executor mode dropped to cache mode: %s", l->ineligible_reason);
	l->plan.mode = FW_MODE_CACHE;
	return 0;
}

/* ---- credential helper scope --------------------------------------------------------- */

/* Scope flywheel-as-credential-helper to the remote's host, so Bazel does not
 * ask it for every other download; with two hosts (a separate executor cache)
 * or a unix socket it stays unscoped (it answers no headers for hosts it does
 * not serve). */
static int scope_credential_helper(struct launch *l)
{
	if (l->plan.cred != FW_CRED_HELPER || !l->plan.cache_url)
		return 0;
	struct endpoint cache, exec;
	if (endpoint_parse(l->plan.cache_url, EP_CACHE_SCHEMES, &cache) != EP_OK)
		return 0;
	bool same = true;
	if (l->plan.mode == FW_MODE_EXECUTOR && l->plan.executor_url) {
		if (endpoint_parse(l->plan.executor_url, EP_EXEC_SCHEMES, &exec) == EP_OK) {
			same = cache.host && exec.host && strcasecmp(cache.host, exec.host) == 0;
			endpoint_release(&exec);
		}
	}
	if (same && cache.host) {
		free(l->plan.credential_helper_host);
		l->plan.credential_helper_host = fw_strdup(cache.host);
	}
	endpoint_release(&cache);
	return 0;
}

/* ---- downloader config ------------------------------------------------------------ */

/* The user's own downloader config on Bazel's command line, if any. */
static const char *user_downloader_config(const struct launch *l)
{
	static const char *const names[] = { "--experimental_downloader_config", "--downloader_config" };
	const char *found = NULL;
	for (size_t i = 0; i < l->cmd.args.n; i++) {
		const char *a = l->cmd.args.v[i];
		for (size_t k = 0; k < FW_ARRAY_SIZE(names); k++) {
			const char *v = str_after(a, names[k]);
			if (v && *v == '=')
				found = v + 1;
			else if (v && !*v && i + 1 < l->cmd.args.n)
				found = l->cmd.args.v[i + 1];
		}
	}
	return found;
}

/* A hand-written downloader config is checked before Bazel starts (Bazel
 * drops a rewrite to a host that is not allowed silently, and ends with exit
 * 37 and no message on a malformed one).  Without one, [mirrors] is turned
 * into a config in a private directory; the file is rewritten only when its
 * content changes, so the warm path reads one small file. */
static int prepare_downloader_config(struct launch *l)
{
	const char *user = user_downloader_config(l);
	const char *path = user ? user : l->plan.downloader_config;
	if (path) {
		struct fw_error problems[DLCONFIG_PROBLEMS_MAX];
		size_t n = 0;
		if (dlconfig_check_all(path, problems, DLCONFIG_PROBLEMS_MAX, &n, &l->err) == 0)
			return 0;
		if (n == 0)
			return -1; /* unreadable: l->err says so */
		for (size_t i = 0; i + 1 < n; i++)
			report_error(&problems[i]);
		l->err = problems[n - 1];
		return -1;
	}
	if (l->cfg.n_mirrors == 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	if (dlconfig_render(&l->cfg, &text, &l->err) < 0)
		return -1;
	if (!text)
		return 0;
	_cleanup_free_ char *dir = private_run_dir();
	_cleanup_free_ char *file = dir ? fw_asprintf("%s/%s", dir, DLCONFIG_FILE_NAME) : NULL;
	if (!file)
		return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "mirrors", NULL, "out of memory");
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	if (read_small_file(file, DLCONFIG_MAX_BYTES, true, &old, &old_len) < 0 || strcmp(old, text) != 0) {
		int r = mkdir_p(dir, 0700);
		if (r == 0)
			r = write_file_atomic(file, text, strlen(text), 0600);
		if (r < 0)
			return fw_error_set(&l->err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, "make it writable",
					    "cannot write the downloader config: %s", strerror(-r));
	}
	l->plan.downloader_config = steal_ptr(&file);
	strv_pushf(&l->notes, "[mirrors] routes downloads through approved mirrors: %s", l->plan.downloader_config);
	return 0;
}

/* ---- child runs: evidence files ----------------------------------------------------- */

static int prepare_evidence(struct launch *l)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = fw_asprintf("%s/flywheel-evidence-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!tmpl || !mkdtemp(tmpl))
		return fw_error_set(&l->err, FW_CLASS_DISK, FW_EX_CANTCREAT, "TMPDIR", "make TMPDIR writable",
				    "cannot create a private directory for the build's evidence: %s", strerror(errno));
	l->evidence_dir = steal_ptr(&tmpl);
	free(l->plan.exec_log_path);
	free(l->plan.bep_json_path);
	/* the version table decides the log's format, and so its name */
	bool compact = bazel_has(&l->version, CAP_EXECLOG_COMPACT);
	l->plan.exec_log_path = fw_asprintf("%s/%s", l->evidence_dir, compact ? "execution-log.zst" : "execution-log.json");
	l->plan.bep_json_path = fw_asprintf("%s/build-events.json", l->evidence_dir);
	if (!l->plan.exec_log_path || !l->plan.bep_json_path)
		return fw_error_set(&l->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "evidence", NULL, "out of memory");
	return 0;
}

/* A BAZEL_REAL or tools/bazel that leads back to flywheel through a script
 * (which the inode check cannot see) would start flywheel again and again:
 * every launch counts itself in FLYWHEEL_DEPTH, which Bazel and the version
 * probe inherit, and a chain this deep stops. */
#define LAUNCH_DEPTH_MAX 8

static int count_depth(struct launch *l)
{
	uint64_t depth = 0;
	const char *d = getenv("FLYWHEEL_DEPTH");
	if (d && parse_u64(d, 1000, &depth) < 0)
		depth = 0;
	if (depth >= LAUNCH_DEPTH_MAX)
		return fw_error_set(&l->err, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOTFOUND, "bazel",
				    "point BAZEL_REAL (or BAZEL_BIN) at the real Bazel, not at a wrapper that runs flywheel",
				    "flywheel was started %llu times in a chain: the Bazel it runs leads back to flywheel",
				    (unsigned long long)depth);
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)depth + 1);
	setenv("FLYWHEEL_DEPTH", buf, 1);
	return 0;
}

int launch_prepare(struct launch *l, int argc, char **args)
{
	bool explain = l->flags & LAUNCH_EXPLAIN;
	if (!explain && count_depth(l) < 0)
		return -1;
	struct config_opts co = { .opt_mode = l->o->mode, .workspace = l->o->workspace };
	if (config_load(&l->cfg, &co, &l->err) < 0)
		return -1;
	if ((l->flags & LAUNCH_PREFER_EXECUTOR) && !config_get(&l->cfg, CFG_MODE) &&
	    config_get(&l->cfg, CFG_REMOTE_EXECUTOR) &&
	    config_set(&l->cfg, CFG_MODE, "executor", LAYER_OPTION, "flywheel proof", "flywheel proof", &l->err) < 0)
		return -1;
	if ((l->flags & LAUNCH_PREFER_EXECUTOR) && config_get(&l->cfg, CFG_MODE) && !l->o->mode)
		setenv("FLYWHEEL_MODE", config_get(&l->cfg, CFG_MODE), 1); /* the probe child plans alike */
	if (bazel_cmdline_parse((size_t)argc, args, &l->cmd, &l->err) < 0)
		return -1;

	/* BAZEL_REAL/BAZEL_BIN from the environment are read by bazel_find itself;
	 * a path from a file layer is passed as the configured one */
	const char *cfg_bin = l->cfg.v[CFG_BAZEL_REAL].layer == LAYER_ENV ? NULL : config_get(&l->cfg, CFG_BAZEL_REAL);
	if (bazel_find(environ, cfg_bin, &l->found, &l->err) < 0) {
		if (l->err.exit_code == FW_EX_NOTFOUND && l->found.searched.n) {
			/* name what was searched */
			char what[FW_ERROR_TEXT_MAX] = "";
			size_t used = 0;
			for (size_t i = 0; i < l->found.searched.n && used < sizeof(what) - 1; i++)
				used += (size_t)snprintf(what + used, sizeof(what) - used, "%s%s", i ? "; " : "",
							 l->found.searched.v[i]);
			struct fw_error e2 = { 0 };
			fw_error_set(&e2, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOTFOUND, "bazel",
				     "install Bazel (or Bazelisk) on PATH, or set BAZEL_REAL to its path",
				     "not found; searched: %s", what);
			l->err = e2;
		}
		return -1;
	}
	/* The credential helper Bazel is pointed at is the launcher; inside
	 * flywheel-net the launcher's path arrives as FLYWHEEL_SELF. */
	const char *self = getenv("FLYWHEEL_SELF");
	ssize_t n;
	if (self && self[0] == '/' && strlen(self) < sizeof(l->self_exe)) {
		n = (ssize_t)strlen(self);
		memcpy(l->self_exe, self, (size_t)n + 1);
	} else {
		n = readlink("/proc/self/exe", l->self_exe, sizeof(l->self_exe) - 1);
		if (n > 0)
			l->self_exe[n] = '\0';
	}
	bazel_detect_version(&l->found, l->cfg.workspace, environ, config_get(&l->cfg, CFG_BAZEL_VERSION), NULL,
			     &l->version);

	struct policy_opts po = { .version = &l->version, .self_exe = n > 0 ? l->self_exe : NULL };
	if (policy_build(&l->cfg, &po, &l->plan, &l->notes, &l->err) < 0)
		return -1;
	l->requested_mode = l->plan.mode;
	if (l->flags & LAUNCH_FORCE)
		l->plan.force_execution = true;

	/* Nothing remote or staged matters to a command that gets no options. */
	bool injects = l->cmd.command && bazel_command_scope(l->cmd.command) != 0;
	if (injects) {
		/* eligibility first: it may lower the mode, and needs no network */
		if (check_eligibility(l) < 0)
			return -1;
		if (check_remote(l, explain) < 0)
			return -1;
		scope_credential_helper(l);
		if (check_staged(l, explain) < 0)
			return -1;
		if ((bazel_command_scope(l->cmd.command) & BAZEL_SCOPE_REPO) && prepare_downloader_config(l) < 0)
			return -1;
		if (!explain && prepare_rcfile(l) < 0)
			return -1;
	}

	if ((l->flags & LAUNCH_CHILD) && injects && prepare_evidence(l) < 0)
		return -1;
	if (bazel_flags_build(&l->plan, &l->version, l->cmd.command, &l->flags_, &l->err) < 0)
		return -1;
	if (strv_extend(&l->notes, &l->flags_.notes) < 0)
		return -1;
	if (strv_push(&l->argv, l->found.path) < 0)
		return -1;
	if (bazel_argv_build(&l->cmd, &l->flags_.startup, &l->flags_.cmd,
			     explain ? BAZEL_ARGV_RECORD_CONFLICTS : 0, &l->argv, &l->err) < 0)
		return -1;

	if (explain)
		return 0;
	if (build_env(l) < 0 || prepare_secrets_file(l) < 0)
		return -1;
	/* Old Bazel copies the header values from the rc file into the files it
	 * creates (command.log, java.log, the build event file): create them all
	 * private. */
	if (l->plan.cred == FW_CRED_RCFILE)
		umask(077);
	return 0;
}

int launch_bazel(const struct launch_opts *o, int argc, char **args, bool explain)
{
	struct launch l;
	launch_init(&l, o, explain ? LAUNCH_EXPLAIN : 0);
	int r = launch_prepare(&l, argc, args);
	if (r == 0 && explain) {
		r = explain_print(&l, o->json);
	} else if (r == 0 && config_get_bool(&l.cfg, CFG_REPORT) && l.cmd.command) {
		/* report = true in the configuration: the report runs Bazel as a child */
		struct launch_opts ro = *o;
		ro.report = "";
		launch_release(&l);
		char **av = calloc((size_t)argc + 2, sizeof(char *));
		if (!av)
			return FW_EX_SOFTWARE;
		av[0] = (char *)"bazel-report";
		for (int i = 0; i < argc; i++)
			av[i + 1] = args[i];
		r = launch_exec_net(&ro, argc + 1, av);
		free(av);
		return r;
	} else if (r == 0) {
		r = exec_bazel(&l);
	}
	int code = r < 0 ? fail(&l) : r;
	launch_release(&l);
	return code;
}
int launch_credential_helper(const struct launch_opts *o, int argc, char **argv)
{
	return cmd_credential_helper(argc, argv);
}

int launch_eligibility(const struct launch_opts *o, int argc, char **argv)
{
	return cmd_eligibility(argc, argv);
}
