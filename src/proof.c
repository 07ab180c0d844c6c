/* proof.c - forced remote execution with evidence, and proof-result.json. */
#include "flywheel/proof.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fw_build_config.h"
#include "flywheel/bazel_version.h"
#include "flywheel/child.h"
#include "flywheel/config.h"
#include "flywheel/eligibility.h"
#include "flywheel/launch.h"
#include "flywheel/report.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

extern char **environ;

#define PROOF_TARGETS_MAX 1024
#define PROOF_HASH_CHUNK (256u * 1024u)

void proof_evaluate(const struct proof_input *in, struct proof_verdict *ret)
{
	struct proof_verdict v;
	memset(&v, 0, sizeof(v));
	const struct execlog_counts *c = &in->counts;
	v.build_success = in->bazel_exit == 0;
	if (in->have_log) {
		v.remote_processes = c->by_class[EXECLOG_REMOTE];
		v.cache_hit_processes = c->by_class[EXECLOG_REMOTE_CACHE_HIT] + c->by_class[EXECLOG_DISK_CACHE_HIT];
		v.local_processes = c->by_class[EXECLOG_LOCAL];
		v.other_processes = c->by_class[EXECLOG_OTHER];
		v.cache_hits_only = c->spawns > 0 && v.cache_hit_processes == c->spawns;
	}
	if (in->have_log && in->have_bep)
		v.disagreements = execlog_crosscheck(c, &in->bep, v.disagreement, sizeof(v.disagreement));
	bool bep_denies_remote = in->have_log && in->have_bep && in->bep.has_runner_count &&
				 in->bep.by_class[EXECLOG_REMOTE] < v.remote_processes;

	if (!v.build_success)
		snprintf(v.reason, sizeof(v.reason), "Bazel failed (exit %d)", in->bazel_exit);
	else if (!in->executor_attached)
		snprintf(v.reason, sizeof(v.reason),
			 "no executor was attached (a remote cache is not remote execution)");
	else if (!in->force_execution)
		snprintf(v.reason, sizeof(v.reason), "execution was not forced (--remote_accept_cached=false)");
	else if (!in->have_log)
		snprintf(v.reason, sizeof(v.reason), "no usable execution log: %s",
			 in->log_problem ? in->log_problem : "missing");
	else if (v.cache_hits_only)
		snprintf(v.reason, sizeof(v.reason), "every spawn (%llu) was a cache hit",
			 (unsigned long long)c->spawns);
	else if (v.remote_processes == 0)
		snprintf(v.reason, sizeof(v.reason), "no spawn ran remotely (%llu spawns: %llu local, %llu other)",
			 (unsigned long long)c->spawns, (unsigned long long)v.local_processes,
			 (unsigned long long)v.other_processes);
	else if (bep_denies_remote)
		snprintf(v.reason, sizeof(v.reason),
			 "the execution log shows more remote spawns than Bazel's own summary (%s)", v.disagreement);
	else {
		v.accepted = true;
		snprintf(v.reason, sizeof(v.reason), "accepted");
	}
	*ret = v;
}

static void iso_time(time_t t, char buf[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

char *proof_result_json(const struct proof_input *in, const struct proof_verdict *v)
{
	char started[32], finished[32];
	iso_time(in->started, started);
	iso_time(in->finished, finished);
	const struct execlog_counts *c = &in->counts;
	json_t *ev = json_array();
	for (size_t i = 0; ev && i < in->n_evidence; i++)
		json_array_append_new(ev, json_pack("{s:s, s:s, s:I}", "name", in->evidence[i].name, "sha256",
						    in->evidence[i].sha256, "size", (json_int_t)in->evidence[i].size));
	json_t *log = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "format", execlog_format_name(in->log_format),
				"read", in->have_log, "spawns", (json_int_t)c->spawns, "failed_spawns",
				(json_int_t)c->failed, "dangling_references", (json_int_t)c->dangling_refs, "entries",
				(json_int_t)c->entries);
	if (log && !in->have_log)
		json_object_set_new(log, "problem", str_or_null(in->log_problem));
	json_t *rc = json_pack("{s:b, s:b, s:o}", "available", in->have_bep && in->bep.has_runner_count,
			       "agrees", v->disagreements == 0, "disagreement",
			       v->disagreements ? json_string(v->disagreement) : json_null());
	json_t *root = json_pack(
		"{s:s, s:i, s:b, s:s, s:o, s:o, s:o, s:o, s:b, s:i, s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:b,"
		" s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o}",
		"kind", PROOF_KIND, "schema_version", PROOF_SCHEMA_VERSION, "accepted", v->accepted, "reason",
		v->reason, "class", str_or_null(in->class_name), "targets", strings(in->targets, in->n_targets),
		"command", strings(in->command, in->n_command), "nonce", str_or_null(in->nonce), "build_success",
		v->build_success, "bazel_exit_code", in->bazel_exit, "attempts", (int)in->attempts,
		"force_execution", in->force_execution, "remote_processes", (json_int_t)v->remote_processes,
		"cache_hit_processes", (json_int_t)v->cache_hit_processes, "local_processes",
		(json_int_t)v->local_processes, "other_processes", (json_int_t)v->other_processes,
		"total_processes", (json_int_t)c->spawns, "cache_hits_only", v->cache_hits_only,
		"executor_attached", in->executor_attached, "cache_attached", in->cache_attached, "executor",
		str_or_null(in->executor), "cache", str_or_null(in->cache), "instance_name",
		str_or_null(in->instance_name), "platform", str_or_null(in->platform), "worker_image_digest",
		str_or_null(in->worker_image_digest), "execution_log", log ? log : json_null(), "runner_count_check",
		rc ? rc : json_null(), "evidence_dir", str_or_null(in->evidence_dir), "evidence",
		ev ? ev : json_null(), "started_at", started, "finished_at", finished, "flywheel_version",
		str_or_null(in->flywheel_version), "bazel_version", str_or_null(in->bazel_version));
	return fw_json_text(root);
}

int proof_hash_file(const char *path, char hex[65], uint64_t *ret_size, struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path, NULL, "cannot open evidence: %s",
				    strerror(errno));
	_cleanup_free_ unsigned char *buf = malloc(PROOF_HASH_CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!buf || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, path, NULL, "cannot start SHA-256");
	}
	uint64_t size = 0;
	for (;;) {
		ssize_t n = read(fd, buf, PROOF_HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			EVP_MD_CTX_free(md);
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path, NULL, "cannot read evidence: %s",
					    strerror(e));
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		size += (uint64_t)n;
	}
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, dig, &dl);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; i < dl && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	hex[64] = '\0';
	if (ret_size)
		*ret_size = size;
	return 0;
}

/* ---- the command ------------------------------------------------------------- */

struct proof_run {
	struct launch_opts lo;
	struct launch l;       /* the same preparation a plain `flywheel bazel` gets */
	struct strv args;      /* the command line handed to the launch */
	struct strv targets;
	struct elig_manifest elig;
	struct fw_error err;
};

static void announce_quota(void *ud, unsigned attempt, unsigned retries, uint64_t wait_ms)
{
	(void)ud;
	report_msg(REPORT_WARN, "quota: Bazel hit RESOURCE_EXHAUSTED; retry %u of %u in %.1f s", attempt, retries,
		   (double)wait_ms / 1000.0);
}

static int usage(const char *what)
{
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, "proof",
		     "use 'flywheel proof [--class NAME] [--out FILE] [--test] -- TARGETS'", "%s", what);
	report_error(&err);
	return FW_EX_USAGE;
}

static int check_class(struct proof_run *p, const char *name)
{
	const char *path = p->l.plan.eligibility;
	if (!path)
		return fw_error_set(&p->err, FW_CLASS_CONFIG, FW_EX_CONFIG, "--class",
				    "set executor.eligibility (FLYWHEEL_ELIGIBILITY)", "no eligibility manifest configured");
	if (eligibility_load(path, &p->elig, &p->err) < 0)
		return -1;
	const struct elig_class *k = eligibility_find_class(&p->elig, name);
	if (!k)
		return fw_error_set(&p->err, FW_CLASS_CONFIG, FW_EX_CONFIG, name, "see 'flywheel eligibility show'",
				    "no such class in %s", path);
	for (size_t i = 0; i < p->targets.n; i++) {
		bool in = false;
		for (size_t j = 0; !in && j < k->labels.n; j++)
			in = elig_pattern_covers(k->labels.v[j], p->targets.v[i]);
		if (!in)
			return fw_error_set(&p->err, FW_CLASS_ELIGIBILITY, FW_EX_USAGE, p->targets.v[i],
					    "prove one class at a time", "is not in class \"%s\"", name);
	}
	return 0;
}

static int prepare(struct proof_run *p, const char *class_name, bool test)
{
	const char *command = test ? "test" : "build";
	if (strv_push(&p->args, command) < 0 || strv_push(&p->args, "--") < 0 ||
	    strv_extend(&p->args, &p->targets) < 0)
		return fw_error_set(&p->err, FW_CLASS_INTERNAL, FW_EX_OSERR, "proof", NULL, "out of memory");
	/* Running a proof is the opt-in to executor mode when an executor is
	 * configured and no mode was chosen; the class is being proved, so the
	 * eligibility manifest does not gate it. */
	if (launch_prepare(&p->l, (int)p->args.n, p->args.v) < 0) {
		p->err = p->l.err;
		return -1;
	}
	if (class_name && check_class(p, class_name) < 0)
		return -1;
	return 0;
}

static void add_evidence(struct proof_input *in, const char *path, const char *name)
{
	if (in->n_evidence >= PROOF_EVIDENCE_MAX)
		return;
	struct proof_evidence *e = &in->evidence[in->n_evidence];
	struct fw_error ignored = { 0 };
	if (proof_hash_file(path, e->sha256, &e->size, &ignored) == 0) {
		e->name = name;
		in->n_evidence++;
	}
}

static int run_proof(struct proof_run *p, const char *class_name, const char *out, bool test)
{
	if (prepare(p, class_name, test) < 0)
		return -1;
	char nonce[33];
	unsigned char rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return fw_error_set(&p->err, FW_CLASS_INTERNAL, FW_EX_OSERR, "proof", NULL, "no randomness for the nonce");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);

	struct proof_input in;
	memset(&in, 0, sizeof(in));
	in.started = time(NULL);
	struct launch *l = &p->l;
	report_msg(REPORT_INFO, "proof: running %s in %s mode with forced execution; evidence in %s",
		   test ? "test" : "build", fw_mode_name(l->plan.mode), l->evidence_dir);

	struct child_opts co = {
		.argv = l->argv.v,
		.envp = l->envp.v,
		.capture_stderr = true,
		.quota_retries = (unsigned)config_get_u64(&l->cfg, CFG_QUOTA_RETRIES, 0),
		.announce = announce_quota,
	};
	fflush(NULL);
	static struct child_result res; /* holds a 64 KiB tail */
	if (child_run(&co, &res, &p->err) < 0)
		return -1;
	in.finished = time(NULL);

	const char *const *tv = (const char *const *)p->targets.v;
	in.targets = tv;
	in.n_targets = p->targets.n;
	in.command = (const char *const *)l->argv.v;
	in.n_command = l->argv.n;
	in.class_name = class_name;
	in.nonce = nonce;
	in.bazel_exit = res.status;
	in.attempts = res.attempts;
	in.executor_attached = l->plan.mode == FW_MODE_EXECUTOR && l->plan.executor_url;
	in.cache_attached = l->plan.mode != FW_MODE_LOCAL && l->plan.cache_url;
	in.force_execution = in.executor_attached && l->plan.force_execution;
	in.executor = in.executor_attached ? l->plan.executor_url : NULL;
	in.cache = in.cache_attached ? l->plan.cache_url : NULL;
	in.instance_name = l->plan.instance_name;
	in.platform = in.executor_attached ? l->plan.platform : NULL;
	in.worker_image_digest = config_get(&l->cfg, CFG_PROOF_IMAGE_DIGEST);
	in.evidence_dir = l->evidence_dir;
	in.flywheel_version = FLYWHEEL_VERSION;
	char bv[512];
	bazel_version_describe(&l->version, bv, sizeof(bv));
	in.bazel_version = bv;

	struct fw_error lerr = { 0 };
	char problem[FW_ERROR_TEXT_MAX * 2] = "";
	enum execlog_format fmt;
	const char *log_path = l->plan.exec_log_path, *bep_path = l->plan.bep_json_path;
	if (access(log_path, F_OK) == 0 && execlog_detect_format(log_path, &fmt, &lerr) == 0 &&
	    execlog_read_file(log_path, fmt, &in.counts, &lerr) == 0) {
		in.have_log = true;
		in.log_format = fmt;
		add_evidence(&in, log_path, strrchr(log_path, '/') + 1);
	} else {
		if (fw_error_isset(&lerr))
			fw_error_format(&lerr, problem, sizeof(problem));
		else
			snprintf(problem, sizeof(problem), "Bazel wrote no execution log");
		in.log_problem = problem;
	}
	if (access(bep_path, F_OK) == 0) {
		struct fw_error berr = { 0 };
		if (bep_read_summary(bep_path, &in.bep, &berr) == 0)
			in.have_bep = true;
		add_evidence(&in, bep_path, strrchr(bep_path, '/') + 1);
	}

	struct proof_verdict v;
	proof_evaluate(&in, &v);
	_cleanup_free_ char *json = proof_result_json(&in, &v);
	if (!json)
		return fw_error_set(&p->err, FW_CLASS_INTERNAL, FW_EX_OSERR, "proof", NULL, "out of memory");
	int r = write_file_atomic(out, json, strlen(json), 0644);
	if (r < 0)
		return fw_error_set(&p->err, FW_CLASS_DISK, FW_EX_CANTCREAT, out, "choose another --out",
				    "cannot write the proof result: %s", strerror(-r));
	if (v.disagreements)
		report_msg(REPORT_WARN, "proof: execution log and build events disagree: %s", v.disagreement);
	if (in.counts.dangling_refs)
		report_msg(REPORT_WARN, "proof: the execution log refers to %llu entries it does not contain; "
			   "missing spawns are not counted as remote", (unsigned long long)in.counts.dangling_refs);
	if (v.accepted) {
		report_msg(REPORT_INFO, "proof: accepted: %llu remote, %llu cache hits, %llu local; written to %s",
			   (unsigned long long)v.remote_processes, (unsigned long long)v.cache_hit_processes,
			   (unsigned long long)v.local_processes, out);
		return 0;
	}
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "proof");
	fw_error_set(&p->err, v.build_success ? FW_CLASS_CAPABILITIES : FW_CLASS_INTERNAL,
		     v.build_success ? FW_EX_FAIL : res.status, subject,
		     v.build_success ? "attach an executor (executor mode) and rerun" : "fix the build and rerun",
		     "refused: %s (%llu remote, %llu cache hits, %llu local; result in %s)", v.reason,
		     (unsigned long long)v.remote_processes, (unsigned long long)v.cache_hit_processes,
		     (unsigned long long)v.local_processes, out);
	return -1;
}

int cmd_proof(int argc, char **argv)
{
	const char *class_name = NULL, *out = "proof-result.json";
	bool test = false;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--class") && i + 1 < argc)
			class_name = argv[++i];
		else if (str_has_prefix(argv[i], "--class="))
			class_name = argv[i] + 8;
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (str_has_prefix(argv[i], "--out="))
			out = argv[i] + 6;
		else if (!strcmp(argv[i], "--test"))
			test = true;
		else if (argv[i][0] == '-')
			return usage("unknown option");
		else
			break; /* targets without "--" */
	}
	if (i >= argc)
		return usage("no target patterns given");
	if (argc - i > PROOF_TARGETS_MAX)
		return usage("too many target patterns");

	struct proof_run p;
	memset(&p, 0, sizeof(p));
	p.lo.mode = getenv("FLYWHEEL_MODE");
	p.lo.json = getenv("FLYWHEEL_JSON") != NULL;
	launch_init(&p.l, &p.lo, LAUNCH_CHILD | LAUNCH_FORCE | LAUNCH_PREFER_EXECUTOR | LAUNCH_NO_ELIGIBILITY |
				      LAUNCH_KEEP_EVIDENCE);
	strv_init(&p.args);
	strv_init(&p.targets);
	eligibility_init(&p.elig);
	int rc = 0;
	for (; i < argc; i++)
		if (strv_push(&p.targets, argv[i]) < 0)
			rc = -1;
	if (rc == 0 && run_proof(&p, class_name, out, test) < 0)
		rc = -1;
	int code = 0;
	if (rc < 0) {
		if (!fw_error_isset(&p.err))
			fw_error_set(&p.err, FW_CLASS_INTERNAL, FW_EX_OSERR, "proof", NULL, "out of memory");
		if (!p.l.err_reported)
			report_error(&p.err);
		code = p.err.exit_code ? p.err.exit_code : FW_EX_SOFTWARE;
	}
	launch_release(&p.l);
	strv_release(&p.args);
	strv_release(&p.targets);
	eligibility_release(&p.elig);
	return code;
}

/* flywheel-net execlog FILE [BEP-FILE]: count a log's spawns (JSON on stdout);
 * used by the benchmark and by people checking a proof's evidence. */
int cmd_execlog(int argc, char **argv)
{
	struct fw_error err = { 0 };
	if (argc < 2 || argc > 3) {
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, "execlog", "use 'execlog FILE [BUILD-EVENTS-FILE]'",
			     "expected an execution log");
		report_error(&err);
		return FW_EX_USAGE;
	}
	enum execlog_format fmt;
	struct execlog_counts c;
	if (execlog_detect_format(argv[1], &fmt, &err) < 0 || execlog_read_file(argv[1], fmt, &c, &err) < 0) {
		report_error(&err);
		return err.exit_code;
	}
	char dis[PROOF_REASON_MAX] = "";
	int nd = 0;
	if (argc == 3) {
		struct bep_summary b;
		if (bep_read_summary(argv[2], &b, &err) < 0) {
			report_error(&err);
			return err.exit_code;
		}
		nd = execlog_crosscheck(&c, &b, dis, sizeof(dis));
	}
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "format",
			      execlog_format_name(fmt), "spawns", (json_int_t)c.spawns, "remote",
			      (json_int_t)c.by_class[EXECLOG_REMOTE], "remote_cache_hit",
			      (json_int_t)c.by_class[EXECLOG_REMOTE_CACHE_HIT], "disk_cache_hit",
			      (json_int_t)c.by_class[EXECLOG_DISK_CACHE_HIT], "local", (json_int_t)c.by_class[EXECLOG_LOCAL],
			      "other", (json_int_t)c.by_class[EXECLOG_OTHER], "failed", (json_int_t)c.failed, "entries",
			      (json_int_t)c.entries, "dangling_references", (json_int_t)c.dangling_refs, "bytes",
			      (json_int_t)c.bytes, "disagreement", nd ? json_string(dis) : json_null());
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return FW_EX_OSERR;
	printf("%s\n", text);
	free(text);
	return 0;
}
