/* devattach.c - `flywheel dev-attach`: one checklist that ends in a green
 * light or one actionable line per problem.
 *
 * Checks, in order: the real Bazel and its version; the configuration and
 * credentials, every endpoint (resolve, connect, TLS, auth, capabilities,
 * instance) in parallel — the same checks as doctor, which also stores the
 * verdicts so the next `bazel` call is warm; executor eligibility; the Nix
 * substituters; the external inputs (staged if they are not); free disk; and
 * a real round trip: a throwaway workspace with a nonce genrule built twice
 * through the same launch path as `flywheel bazel`, with `clean` between.
 * Cache mode must show a remote cache hit (a writer lane) or a clean read
 * (a read-only lane, which may not upload); executor mode a remote process. */
#include "flywheel/devattach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "flywheel/bazel_find.h"
#include "flywheel/child.h"
#include "flywheel/doctor.h"
#include "flywheel/eligibility.h"
#include "flywheel/execlog.h"
#include "flywheel/launch.h"
#include "flywheel/narinfo.h"
#include "flywheel/report.h"
#include "flywheel/stagecheck.h"
#include "flywheel/banned.h"

extern char **environ;

#define DISK_FAIL_BYTES (1ull << 30)      /* below 1 GiB free a build will not finish */
#define DISK_WARN_BYTES (5ull << 30)      /* below 5 GiB free a cold cache fills it */
#define ENVFILE_WRITE_MAX (64 * 1024)

struct attach {
	struct checklist list;
	struct doctor_state st;
	bool json, write_env, round_trip;
	char workspace[PATH_MAX];
	char first_failure[FW_ERROR_TEXT_MAX * 2];
	int first_exit;
	uint64_t checks_ns, round_trip_ns;
};

static void note_failure(struct attach *a, const struct check *c, int exit_code)
{
	if (a->first_failure[0])
		return;
	snprintf(a->first_failure, sizeof(a->first_failure), "%s: %s%s%s", c->name, c->detail, c->fix[0] ? "; " : "",
		 c->fix);
	a->first_exit = exit_code;
}

static int exit_for_class(enum fw_class cls)
{
	switch (cls) {
	case FW_CLASS_CONFIG:
	case FW_CLASS_ELIGIBILITY: return FW_EX_CONFIG;
	case FW_CLASS_AUTH: return FW_EX_NOPERM;
	case FW_CLASS_BAZEL_NOT_FOUND: return FW_EX_NOTFOUND;
	case FW_CLASS_DNS:
	case FW_CLASS_CONNECT:
	case FW_CLASS_TLS:
	case FW_CLASS_CAPABILITIES:
	case FW_CLASS_INSTANCE:
	case FW_CLASS_QUOTA: return FW_EX_UNAVAILABLE;
	case FW_CLASS_DISK: return FW_EX_CANTCREAT;
	default: return FW_EX_FAIL;
	}
}

/* The last non-empty line of text (a child's stderr tail), without a
 * leading "flywheel: ", into buf. */
static void last_line(const char *text, char *buf, size_t len)
{
	const char *start = NULL, *end = NULL;
	for (const char *q = text; *q;) {
		size_t n = strcspn(q, "\n");
		if (n > 0) {
			start = q;
			end = q + n;
		}
		q += n;
		if (*q)
			q++;
	}
	if (!start) {
		snprintf(buf, len, "no output");
		return;
	}
	const char *msg = str_after(start, "flywheel: ");
	if (msg && msg < end)
		start = msg;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

/* ---- 1. Bazel ---------------------------------------------------------------------- */

static void check_bazel(struct attach *a)
{
	struct bazel_found found;
	bazel_found_init(&found);
	struct fw_error err = { 0 };
	uint64_t t0 = now_ns();
	if (bazel_find(environ, NULL, &found, &err) < 0) {
		struct check *c = check_add(&a->list, "bazel", CHECK_FAIL);
		check_from_error(c, &err);
		note_failure(a, c, err.exit_code);
		bazel_found_release(&found);
		return;
	}
	struct bazel_version v;
	bazel_detect_version(&found, a->workspace[0] ? a->workspace : NULL, environ, getenv("FLYWHEEL_BAZEL_VERSION"),
			     NULL, &v);
	char desc[512];
	bazel_version_describe(&v, desc, sizeof(desc));
	struct check *c = check_add(&a->list, "bazel", v.known ? CHECK_OK : CHECK_WARN);
	c->latency_ms = (double)(now_ns() - t0) / 1e6;
	snprintf(c->detail, sizeof(c->detail), "%s, version %s", found.path, desc);
	if (!v.known)
		snprintf(c->fix, sizeof(c->fix),
			 "set core.bazel_version in flywheel.ini (or FLYWHEEL_BAZEL_VERSION) so flags are spelled for your Bazel");
	bazel_found_release(&found);
}

/* ---- 3. eligibility ------------------------------------------------------------------ */

static void check_eligibility_file(struct attach *a)
{
	const struct fw_plan *p = &a->st.plan;
	if (!a->st.config_ok || p->mode != FW_MODE_EXECUTOR)
		return;
	if (!p->eligibility) {
		struct check *c = check_add(&a->list, "eligibility", CHECK_FAIL);
		c->cls = FW_CLASS_ELIGIBILITY;
		snprintf(c->detail, sizeof(c->detail),
			 "executor mode is configured but no eligibility manifest says which targets may run remotely");
		snprintf(c->fix, sizeof(c->fix),
			 "set executor.eligibility in flywheel.ini (FLYWHEEL_ELIGIBILITY) to your rbe-target-eligibility.json, or use cache mode");
		note_failure(a, c, FW_EX_CONFIG);
		return;
	}
	struct elig_manifest m;
	eligibility_init(&m);
	struct fw_error err = { 0 };
	if (eligibility_load(p->eligibility, &m, &err) < 0) {
		struct check *c = check_add(&a->list, "eligibility", CHECK_FAIL);
		check_from_error(c, &err);
		note_failure(a, c, FW_EX_CONFIG);
	} else {
		size_t proved = 0;
		for (size_t i = 0; i < m.n_classes; i++)
			proved += m.classes[i].status == ELIG_PROVED && (m.classes[i].modes & ELIG_MODE_EXECUTOR);
		struct check *c = check_add(&a->list, "eligibility", proved ? CHECK_OK : CHECK_WARN);
		snprintf(c->detail, sizeof(c->detail), "%zu classes, %zu proved for executor mode", m.n_classes, proved);
		if (!proved)
			snprintf(c->fix, sizeof(c->fix),
				 "no class is proved yet: run 'flywheel proof --class NAME -- TARGETS' and mark it proved");
	}
	eligibility_release(&m);
}

/* ---- 4. Nix --------------------------------------------------------------------------- */

static void check_nix(struct attach *a)
{
	struct narinfo_report *rep = calloc(1, sizeof(*rep));
	struct narinfo_opts o = { 0 };
	struct fw_error err = { 0 };
	if (!rep)
		return;
	if (narinfo_check_substituters(&o, rep, &err) < 0) {
		struct check *c = check_add(&a->list, "nix", CHECK_WARN);
		check_from_error(c, &err);
		c->status = CHECK_WARN;
		free(rep);
		return;
	}
	/* A broken substituter is shown with its fix but does not keep Bazel from
	 * attaching: it affects the Nix devshell, not the remote cache.  (An
	 * unknown signing key is still a failure of that substituter: nothing
	 * from it is trusted.) */
	for (size_t i = 0; i < rep->n; i++) {
		const struct narinfo_check *n = &rep->checks[i];
		static const enum check_status map[] = { CHECK_OK, CHECK_WARN, CHECK_WARN, CHECK_SKIP };
		struct check *c = check_add(&a->list, n->name, map[n->status]);
		c->latency_ms = n->latency_ms;
		c->cls = n->cls;
		snprintf(c->detail, sizeof(c->detail), "%s%s", n->status == NARINFO_FAIL ? "failed: " : "", n->detail);
		snprintf(c->fix, sizeof(c->fix), "%s", n->fix);
	}
	free(rep);
}

/* ---- 5. external inputs ------------------------------------------------------------------ */

/* Run this program (flywheel-net) with args as a child; its stderr passes through. */
static int run_self(const char *const *args, struct child_result *res)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	struct strv av;
	strv_init(&av);
	if (strv_push(&av, self) < 0)
		return -ENOMEM;
	for (size_t i = 0; args[i]; i++)
		if (strv_push(&av, args[i]) < 0) {
			strv_release(&av);
			return -ENOMEM;
		}
	struct child_opts co = { .argv = av.v, .capture_stderr = true, .quiet = true };
	struct fw_error err = { 0 };
	int r = child_run(&co, res, &err);
	strv_release(&av);
	return r < 0 ? -EIO : res->status;
}

static void check_inputs(struct attach *a)
{
	const struct fw_plan *p = &a->st.plan;
	if (!a->st.config_ok)
		return;
	if (!p->manifest) {
		struct check *c = check_add(&a->list, "inputs", CHECK_SKIP);
		snprintf(c->detail, sizeof(c->detail), "no inputs manifest configured (inputs.manifest)");
		return;
	}
	const char *args[8 + 2 * STAGECHECK_DISTDIRS_MAX];
	size_t na = 0;
	args[na++] = "stage";
	args[na++] = "--manifest";
	args[na++] = p->manifest;
	if (p->repository_cache) {
		args[na++] = "--repository-cache";
		args[na++] = p->repository_cache;
	}
	for (size_t i = 0; i < p->distdirs.n && i < STAGECHECK_DISTDIRS_MAX; i++) {
		args[na++] = "--distdir";
		args[na++] = p->distdirs.v[i];
	}
	args[na] = NULL;
	uint64_t t0 = now_ns();
	struct child_result *res = calloc(1, sizeof(*res));
	int r = res ? run_self(args, res) : -ENOMEM;
	struct check *c = check_add(&a->list, "inputs", r == 0 ? CHECK_OK : CHECK_FAIL);
	c->latency_ms = (double)(now_ns() - t0) / 1e6;
	if (r == 0) {
		snprintf(c->detail, sizeof(c->detail), "every required input of %s staged and verified", p->manifest);
	} else {
		c->cls = FW_CLASS_EXTERNAL_INPUT;
		/* the stager's own one-line reason */
		last_line(res ? res->tail : "the stager failed", c->detail, sizeof(c->detail));
		snprintf(c->fix, sizeof(c->fix), "run 'flywheel stage' for the full list, then 'flywheel lock' for what changed");
		note_failure(a, c, FW_EX_DATAERR);
	}
	free(res);
}

/* ---- 6. disk -------------------------------------------------------------------------------- */

static void check_one_disk(struct attach *a, const char *what, const char *path)
{
	/* the nearest existing ancestor tells the filesystem */
	char probe[PATH_MAX];
	snprintf(probe, sizeof(probe), "%s", path);
	struct statvfs vfs;
	while (statvfs(probe, &vfs) < 0) {
		char *slash = strrchr(probe, '/');
		if (!slash || slash == probe) {
			snprintf(probe, sizeof(probe), "/");
			if (statvfs(probe, &vfs) < 0)
				return;
			break;
		}
		*slash = '\0';
	}
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	enum check_status st = avail < DISK_FAIL_BYTES ? CHECK_FAIL : avail < DISK_WARN_BYTES ? CHECK_WARN : CHECK_OK;
	char name[FW_ERROR_SUBJECT_MAX];
	snprintf(name, sizeof(name), "disk %s", what);
	struct check *c = check_add(&a->list, name, st);
	c->cls = FW_CLASS_DISK;
	snprintf(c->detail, sizeof(c->detail), "%.1f GiB free at %s", (double)avail / (1u << 30), probe);
	if (st != CHECK_OK)
		snprintf(c->fix, sizeof(c->fix), "free space there, or move it (%s) to a larger disk",
			 strcmp(what, "output base") == 0 ? "BAZEL_OUTPUT_USER_ROOT" : "bazel.repository_cache / bazel.distdir");
	if (st == CHECK_FAIL)
		note_failure(a, c, FW_EX_CANTCREAT);
}

static void check_disk(struct attach *a)
{
	const struct fw_plan *p = &a->st.plan;
	char def[PATH_MAX];
	const char *home = getenv("HOME");
	snprintf(def, sizeof(def), "%s/.cache/bazel", home && *home ? home : "/tmp");
	check_one_disk(a, "output base", p->output_user_root ? p->output_user_root : def);
	if (p->repository_cache)
		check_one_disk(a, "repository cache", p->repository_cache);
	for (size_t i = 0; i < p->distdirs.n && i < 4; i++)
		check_one_disk(a, "distdir", p->distdirs.v[i]);
}

/* ---- 7. round trip ---------------------------------------------------------------------------- */

static int write_text(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *p = fw_asprintf("%s/%s", dir, name);
	return p ? write_file_atomic(p, text, strlen(text), 0644) : -ENOMEM;
}

struct trip {
	struct execlog_counts counts;
	int status;
	char tail[1024];
};

/* One Bazel command through the same preparation as `flywheel bazel`. */
static int trip_run(struct attach *a, const char *ws, const char *ob, const char *cmd, bool log, struct trip *ret)
{
	struct launch_opts lo = { .workspace = a->workspace[0] ? a->workspace : NULL, .mode = getenv("FLYWHEEL_MODE") };
	struct launch l;
	launch_init(&l, &lo, (log ? LAUNCH_CHILD : 0) | LAUNCH_NO_ELIGIBILITY);
	_cleanup_free_ char *obopt = fw_asprintf("--output_base=%s", ob);
	char *args[] = { obopt, (char *)cmd, (char *)"//:roundtrip", NULL };
	int argc = strcmp(cmd, "build") == 0 ? 3 : 2;
	memset(ret, 0, sizeof(*ret));
	int r = -1;
	char here[PATH_MAX];
	if (!obopt || !getcwd(here, sizeof(here))) {
		launch_release(&l);
		return -1;
	}
	if (launch_prepare(&l, argc, args) < 0) {
		fw_error_format(&l.err, ret->tail, sizeof(ret->tail));
		launch_release(&l);
		return -1;
	}
	struct child_result *res = calloc(1, sizeof(*res));
	struct fw_error err = { 0 };
	struct child_opts co = { .argv = l.argv.v, .envp = l.envp.v, .capture_stderr = true, .quiet = true };
	if (res && chdir(ws) == 0) {
		if (child_run(&co, res, &err) == 0) {
			ret->status = res->status;
			size_t keep = res->tail_len < sizeof(ret->tail) - 1 ? res->tail_len : sizeof(ret->tail) - 1;
			memcpy(ret->tail, res->tail + res->tail_len - keep, keep);
			ret->tail[keep] = '\0';
			r = 0;
		}
		if (chdir(here) < 0)
			r = -1;
	}
	free(res);
	if (r == 0 && log && l.plan.exec_log_path) {
		enum execlog_format fmt;
		struct fw_error lerr = { 0 };
		if (execlog_detect_format(l.plan.exec_log_path, &fmt, &lerr) == 0)
			execlog_read_file(l.plan.exec_log_path, fmt, &ret->counts, &lerr);
	}
	launch_release(&l);
	return r;
}

static void check_round_trip(struct attach *a)
{
	const struct fw_plan *p = &a->st.plan;
	if (!a->round_trip || !a->st.config_ok || a->first_failure[0]) {
		struct check *c = check_add(&a->list, "round trip", CHECK_SKIP);
		snprintf(c->detail, sizeof(c->detail), "%s",
			 !a->round_trip ? "skipped (--no-round-trip)" : "not run: an earlier check failed");
		return;
	}
	if (p->mode == FW_MODE_LOCAL)
		return;
	uint64_t t0 = now_ns();
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *dir = fw_asprintf("%s/flywheel-attach-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!dir || !mkdtemp(dir))
		return;
	unsigned char rnd[8];
	char nonce[17] = "0";
	if (getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	_cleanup_free_ char *ws = fw_asprintf("%s/ws", dir);
	_cleanup_free_ char *ob = fw_asprintf("%s/output-base", dir);
	_cleanup_free_ char *build = fw_asprintf("genrule(name = \"roundtrip\", outs = [\"roundtrip.txt\"], "
						 "cmd = \"echo flywheel-dev-attach-%s > $@\")\n", nonce);
	struct trip t1, t2;
	memset(&t2, 0, sizeof(t2));
	bool ok = ws && ob && build && mkdir(ws, 0700) == 0 && write_text(ws, "WORKSPACE", "") == 0 &&
		  write_text(ws, "BUILD", build) == 0;
	ok = ok && trip_run(a, ws, ob, "build", true, &t1) == 0 && t1.status == 0;
	bool read_only = !p->upload && p->mode == FW_MODE_CACHE;
	if (ok && !read_only) {
		struct trip tc;
		ok = trip_run(a, ws, ob, "clean", false, &tc) == 0 && tc.status == 0 &&
		     trip_run(a, ws, ob, "build", true, &t2) == 0 && t2.status == 0;
	}
	struct trip ts;
	trip_run(a, ws, ob, "shutdown", false, &ts);
	a->round_trip_ns = now_ns() - t0;

	struct check *c = check_add(&a->list, "round trip", CHECK_OK);
	c->latency_ms = (double)a->round_trip_ns / 1e6;
	uint64_t remote = t1.counts.by_class[EXECLOG_REMOTE] + t2.counts.by_class[EXECLOG_REMOTE];
	uint64_t hits = t2.counts.by_class[EXECLOG_REMOTE_CACHE_HIT];
	if (!ok) {
		c->status = CHECK_FAIL;
		c->cls = FW_CLASS_CONNECT;
		const struct trip *bad = t1.status || !t2.status ? &t1 : &t2;
		char last[FW_ERROR_TEXT_MAX];
		last_line(bad->tail, last, sizeof(last));
		snprintf(c->detail, sizeof(c->detail), "a nonce genrule did not build through flywheel: %s", last);
		snprintf(c->fix, sizeof(c->fix), "run 'flywheel -v bazel build' in your workspace and read Bazel's remote warnings");
	} else if (p->mode == FW_MODE_EXECUTOR) {
		snprintf(c->detail, sizeof(c->detail), "%llu remote process%s, then %llu remote cache hit%s after clean",
			 (unsigned long long)remote, remote == 1 ? "" : "es", (unsigned long long)hits, hits == 1 ? "" : "s");
		if (remote == 0) {
			c->status = CHECK_FAIL;
			c->cls = FW_CLASS_CAPABILITIES;
			snprintf(c->fix, sizeof(c->fix), "the executor accepted no work: check its platform (gf.platform) and capacity");
		}
	} else if (read_only) {
		bool warned = strstr(t1.tail, "WARNING") && strstr(t1.tail, "emote");
		snprintf(c->detail, sizeof(c->detail),
			 "built with the cache attached%s; a read-only lane uploads nothing, so no hit can be shown here",
			 warned ? ", but Bazel warned about the remote cache" : " and no remote warning");
		if (warned) {
			c->status = CHECK_FAIL;
			c->cls = FW_CLASS_CONNECT;
			snprintf(c->fix, sizeof(c->fix), "Bazel itself could not use the cache: run 'flywheel doctor'");
		}
	} else {
		snprintf(c->detail, sizeof(c->detail), "second build after clean: %llu remote cache hit%s",
			 (unsigned long long)hits, hits == 1 ? "" : "s");
		if (hits == 0) {
			c->status = CHECK_FAIL;
			c->cls = FW_CLASS_CAPABILITIES;
			snprintf(c->fix, sizeof(c->fix),
				 "the cache accepted no upload: check that your credentials may write (GF_BAZEL_REMOTE_UPLOAD=true is set)");
		}
	}
	if (c->status == CHECK_FAIL)
		note_failure(a, c, exit_for_class(c->cls));
	if (!getenv("FLYWHEEL_KEEP_EVIDENCE")) {
		/* the output base holds read-only trees: let a child rm do it */
		const char *rm[] = { "/bin/rm", "-rf", dir, NULL };
		struct child_opts co = { .argv = (char *const *)rm };
		struct child_result *res = calloc(1, sizeof(*res));
		struct fw_error e = { 0 };
		if (res) {
			/* make the tree writable first: Bazel leaves 0555 directories */
			const char *chm[] = { "/bin/chmod", "-R", "u+w", dir, NULL };
			struct child_opts cc = { .argv = (char *const *)chm };
			child_run(&cc, res, &e);
			child_run(&co, res, &e);
		}
		free(res);
	}
}

/* ---- --write-env ---------------------------------------------------------------------------- */

/* Rewrite .env.flywheel.local: the settings dev-attach found, never a secret
 * (token file paths only); other lines are kept as they were. */
static int write_env(struct attach *a, const char *mode, const char *cache, const char *exec)
{
	const struct config *c = &a->st.cfg;
	if (!c->workspace) {
		report_msg(REPORT_WARN, "--write-env: not inside a Bazel workspace; nothing written");
		return -1;
	}
	_cleanup_free_ char *path = fw_asprintf("%s/.env.flywheel.local", c->workspace);
	if (!path)
		return -1;
	struct {
		const char *key;
		const char *value;
	} set[] = {
		{ "GF_BAZEL_SUBSTRATE_MODE", mode },
		{ "BAZEL_REMOTE_CACHE", cache },
		{ "BAZEL_REMOTE_EXECUTOR", exec },
		{ "BAZEL_REMOTE_INSTANCE_NAME", a->st.plan.instance_name },
		{ "GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE", a->st.plan.token_file },
		{ "GF_BAZEL_LOCAL_PROOF", config_get(c, CFG_LOCAL_PROOF) },
	};
	char out[ENVFILE_WRITE_MAX];
	size_t len = (size_t)snprintf(out, sizeof(out), "# written by flywheel dev-attach; no secrets here\n");
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	if (read_small_file(path, ENVFILE_WRITE_MAX / 2, true, &old, &old_len) == 0) {
		for (char *line = old, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (str_has_prefix(line, "# written by flywheel dev-attach"))
				continue;
			bool ours = false;
			for (size_t i = 0; i < FW_ARRAY_SIZE(set); i++) {
				const char *k = str_after(line, "export ") ? str_after(line, "export ") : line;
				size_t kl = strlen(set[i].key);
				ours |= strncmp(k, set[i].key, kl) == 0 && k[kl] == '=';
			}
			if (!ours && len < sizeof(out))
				len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\n", line);
		}
	}
	for (size_t i = 0; i < FW_ARRAY_SIZE(set); i++) {
		const char *v = set[i].value;
		if (!v || !*v || strchr(v, '\'') || len >= sizeof(out))
			continue;
		/* values set by the committed flywheel.ini need no local copy */
		int k = config_key_lookup(set[i].key);
		if (k >= 0 && c->v[k].layer == LAYER_REPO && c->v[k].value && strcmp(c->v[k].value, v) == 0)
			continue;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s='%s'\n", set[i].key, v);
	}
	if (len >= sizeof(out))
		return -1;
	int r = write_file_atomic(path, out, len, 0600);
	if (r < 0) {
		report_msg(REPORT_WARN, "--write-env: cannot write %s: %s", path, strerror(-r));
		return -1;
	}
	report_msg(REPORT_INFO, "wrote %s (mode 0600)", path);
	return 0;
}

/* ---- the command ------------------------------------------------------------------------------ */

static int parse_args(struct attach *a, int argc, char **argv)
{
	a->json = getenv("FLYWHEEL_JSON") != NULL;
	a->round_trip = true;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			a->json = true;
		else if (!strcmp(argv[i], "--write-env"))
			a->write_env = true;
		else if (!strcmp(argv[i], "--no-round-trip"))
			a->round_trip = false;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: flywheel dev-attach [--json] [--write-env] [--no-round-trip]\n"
			       "Checks Bazel, configuration, credentials, every endpoint, eligibility, Nix\n"
			       "substituters, external inputs and disk, then builds a nonce target twice\n"
			       "through flywheel. Exit 0 only when attached.\n");
			return 1;
		} else {
			struct fw_error err = { 0 };
			fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, argv[i],
				     "usage: flywheel dev-attach [--json] [--write-env] [--no-round-trip]", "unknown option");
			report_error(&err);
			return -1;
		}
	}
	return 0;
}

int cmd_dev_attach(int argc, char **argv)
{
	struct attach *a = calloc(1, sizeof(*a));
	if (!a)
		return FW_EX_OSERR;
	int pr = parse_args(a, argc, argv);
	if (pr != 0) {
		free(a);
		return pr > 0 ? 0 : FW_EX_USAGE;
	}
	a->list.command = "dev-attach";
	a->list.json = a->json;
	uint64_t t0 = now_ns();

	check_bazel(a);
	doctor_state_init(&a->st);
	struct strv none;
	strv_init(&none);
	doctor_checks(&a->list, &none, &a->st);
	if (a->st.config_ok && a->st.cfg.workspace)
		snprintf(a->workspace, sizeof(a->workspace), "%s", a->st.cfg.workspace);
	for (size_t i = 0; i < a->list.n; i++) {
		const struct check *c = &a->list.checks[i];
		if (c->status == CHECK_FAIL)
			note_failure(a, c, exit_for_class(c->cls));
	}
	if (a->st.config_ok && a->st.plan.mode == FW_MODE_LOCAL && !a->first_failure[0]) {
		struct check *c = check_add(&a->list, "remote", CHECK_FAIL);
		c->cls = FW_CLASS_CONFIG;
		snprintf(c->detail, sizeof(c->detail), "no remote cache is configured: every build runs locally");
		snprintf(c->fix, sizeof(c->fix),
			 "set BAZEL_REMOTE_CACHE (or remote.cache in flywheel.ini), then run 'flywheel dev-attach --write-env'");
		note_failure(a, c, FW_EX_CONFIG);
	}
	check_eligibility_file(a);
	check_nix(a);
	check_inputs(a);
	check_disk(a);
	a->checks_ns = now_ns() - t0;
	check_round_trip(a);
	a->list.elapsed_ns = now_ns() - t0;

	bool attached = !a->first_failure[0];
	const struct fw_plan *p = &a->st.plan;
	const char *endpoint = a->list.chosen_exec[0] ? a->list.chosen_exec : a->list.chosen_cache;
	char verdict[FW_ERROR_TEXT_MAX * 3];
	if (attached)
		snprintf(verdict, sizeof(verdict), "attached: %s mode, %.0f ms to %s", fw_mode_name(p->mode),
			 a->list.chosen_latency_ms, endpoint);
	else
		snprintf(verdict, sizeof(verdict), "not attached: %s", a->first_failure);

	if (a->json) {
		json_t *o = json_object();
		json_object_set_new(o, "attached", json_boolean(attached));
		json_object_set_new(o, "mode", json_string(attached ? fw_mode_name(p->mode) : "local"));
		json_object_set_new(o, "endpoint", attached ? json_string(endpoint) : json_null());
		json_object_set_new(o, "latency_ms", attached ? json_real(a->list.chosen_latency_ms) : json_null());
		json_object_set_new(o, "checks_ms", json_real((double)a->checks_ns / 1e6));
		json_object_set_new(o, "round_trip_ms", json_real((double)a->round_trip_ns / 1e6));
		json_object_set_new(o, "verdict", json_string(verdict));
		checklist_print_json(&a->list, attached, o);
		json_decref(o);
	} else {
		printf("flywheel dev-attach (checks %.0f ms, round trip %.0f ms)\n", (double)a->checks_ns / 1e6,
		       (double)a->round_trip_ns / 1e6);
		checklist_print_checks(&a->list, stdout);
		bool color = report_use_color(stdout);
		printf("%s%s%s\n", color ? (attached ? "\033[1;32m" : "\033[1;31m") : "", verdict, color ? "\033[0m" : "");
	}
	if (attached && a->write_env)
		write_env(a, fw_mode_name(p->mode), a->list.chosen_cache[0] ? a->list.chosen_cache : NULL,
			  p->mode == FW_MODE_EXECUTOR ? a->list.chosen_exec : NULL);
	int code = attached ? 0 : (a->first_exit ? a->first_exit : FW_EX_FAIL);
	doctor_state_release(&a->st);
	free(a);
	return code;
}
