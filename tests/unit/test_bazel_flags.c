/* test_bazel_flags.c - bazel_flags_build + bazel_argv_build against the golden
 * argv files in tests/golden/<version>/<case>-<command>.argv (one argument a
 * line, "bazel" first; "error config 78" when flywheel must refuse).  The
 * golden files were derived from BAZEL-VERSIONS.md, not from this code. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/bazel_argv.h"
#include "flywheel/bazel_flags.h"
#include "flywheel/bazel_version.h"

static const char *const versions[] = {
	"4.2.3", "5.4.1", "6.2.0", "6.3.0", "7.0.0", "7.1.0", "7.4.1",
	"8.0.0", "8.2.0", "8.5.1", "9.1.0", "9.2.0", "no_version",
};
static const char *const cases[] = { "local", "cache", "executor", "cred", "rcfile", "inject", "execlog" };
static const char *const commands[] = { "build", "query", "version" };

static void plan_for(const char *c, struct fw_plan *p)
{
	memset(p, 0, sizeof(*p));
	strv_init(&p->distdirs);
	strv_init(&p->inject_repos);
	p->mode = FW_MODE_LOCAL;
	assert_int_equal(strv_push(&p->distdirs, "/fw/distdir"), 0);
	p->repository_cache = (char *)"/fw/repo-cache";
	if (!strcmp(c, "cache") || !strcmp(c, "cred") || !strcmp(c, "rcfile")) {
		p->mode = FW_MODE_CACHE;
		p->cache_url = (char *)"grpcs://cache.example:443";
		p->instance_name = (char *)"main";
		p->upload = false;
		p->remote_timeout = 60;
		p->max_connections = 100;
		p->fallback_local = true;
	}
	if (!strcmp(c, "executor") || !strcmp(c, "execlog")) {
		p->mode = FW_MODE_EXECUTOR;
		p->cache_url = (char *)"grpcs://cache.example:443";
		p->executor_url = (char *)"grpcs://exec.example:443";
		p->instance_name = (char *)"main";
		p->remote_timeout = 60;
		p->platform = (char *)"gloriousflywheel-rbe-linux-x86_64";
		p->jobs = 50;
	}
	if (!strcmp(c, "cred")) {
		p->cred = FW_CRED_HELPER;
		p->credential_helper_path = (char *)"/fw/libexec/flywheel-credential-helper";
		p->credential_helper_host = (char *)"cache.example";
	}
	if (!strcmp(c, "rcfile")) {
		p->cred = FW_CRED_RCFILE;
		p->rc_file = (char *)"/fw/private/bazelrc";
		p->output_user_root = (char *)"/fw/private/root";
	}
	if (!strcmp(c, "inject")) {
		assert_int_equal(strv_push(&p->inject_repos, "rules_cc=/fw/repos/rules_cc"), 0);
		assert_int_equal(strv_push(&p->inject_repos, "rules_java=/fw/repos/rules_java"), 0);
		p->downloader_config = (char *)"/fw/downloader.cfg";
		p->disable_download = true;
	}
	if (!strcmp(c, "execlog")) {
		p->force_execution = true;
		p->exec_log_path = (char *)"/fw/proof/exec.log";
		p->bep_json_path = (char *)"/fw/proof/bep.json";
	}
}

static void plan_done(struct fw_plan *p)
{
	strv_release(&p->distdirs);
	strv_release(&p->inject_repos);
}

/* The user's command line for each command. */
static void user_args(const char *command, struct strv *out)
{
	strv_init(out);
	assert_int_equal(strv_push(out, command), 0);
	if (!strcmp(command, "build"))
		assert_int_equal(strv_push(out, "//app:app"), 0);
	if (!strcmp(command, "query"))
		assert_int_equal(strv_push(out, "deps(//app:app)"), 0);
}

/* argv as the golden format: one argument a line, "bazel" first; or the
 * error line.  Returns malloc'd text. */
static char *run(const char *version, const struct fw_plan *p, const char *command,
		 struct bazel_flags *f)
{
	struct bazel_version v;
	assert_int_equal(bazel_version_parse(version, &v), 0);
	struct fw_error err;
	fw_error_clear(&err);
	bazel_flags_init(f);
	if (bazel_flags_build(p, &v, command, f, &err) < 0)
		return fw_asprintf("error %s %d\n", fw_class_name(err.cls), err.exit_code);
	struct strv in, out;
	user_args(command, &in);
	struct bazel_cmdline c;
	bazel_cmdline_init(&c);
	assert_int_equal(bazel_cmdline_parse(in.n, in.v, &c, &err), 0);
	strv_init(&out);
	if (bazel_argv_build(&c, &f->startup, &f->cmd, 0, &out, &err) < 0)
		return fw_asprintf("error %s %d\n", fw_class_name(err.cls), err.exit_code);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	fputs("bazel\n", m);
	for (size_t i = 0; i < out.n; i++)
		fprintf(m, "%s\n", out.v[i]);
	fclose(m);
	strv_release(&out);
	strv_release(&in);
	bazel_cmdline_release(&c);
	return text;
}

static void test_golden(void **state)
{
	(void)state;
	const char *src = getenv("FLYWHEEL_SRCDIR");
	if (!src)
		src = ".";
	size_t checked = 0, failed = 0;
	for (size_t vi = 0; vi < sizeof(versions) / sizeof(versions[0]); vi++)
		for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++)
			for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
				char *path = fw_asprintf("%s/tests/golden/%s/%s-%s.argv", src, versions[vi],
							 cases[ci], commands[k]);
				char *want = NULL;
				int r = read_small_file(path, 1 << 16, false, &want, NULL);
				if (r < 0)
					fail_msg("%s: cannot read (%d)", path, r);
				struct fw_plan p;
				plan_for(cases[ci], &p);
				struct bazel_flags f;
				char *got = run(versions[vi], &p, commands[k], &f);
				if (strcmp(got, want) != 0) {
					print_error("%s differs:\n--- want\n%s--- got\n%s", path, want, got);
					failed++;
				}
				checked++;
				bazel_flags_release(&f);
				plan_done(&p);
				free(got);
				free(want);
				free(path);
			}
	assert_int_equal(checked, 13 * 7 * 3);
	assert_int_equal(failed, 0);
}

/* Like find_opt, but the option must be there (never returns NULL). */
static const struct bazel_opt *must_opt(const struct bazel_opts *o, const char *name)
{
	static const struct bazel_opt missing = { 0 };
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].name, name))
			return &o->v[i];
	fail_msg("option --%s missing", name);
	return &missing;
}

static bool has_note(const struct bazel_flags *f, const char *part)
{
	for (size_t i = 0; i < f->notes.n; i++)
		if (strstr(f->notes.v[i], part))
			return true;
	return false;
}

static struct bazel_version ver(const char *s)
{
	struct bazel_version v;
	assert_int_equal(bazel_version_parse(s, &v), 0);
	return v;
}

static const struct bazel_opt *find_opt(const struct bazel_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].name, name))
			return &o->v[i];
	return NULL;
}

/* Fallback flags agree with the policy on every version, or a note says why not. */
static void test_fallback(void **state)
{
	(void)state;
	struct fw_plan p;
	plan_for("cache", &p);
	struct fw_error err;
	for (size_t vi = 0; vi < sizeof(versions) / sizeof(versions[0]); vi++) {
		for (int local = 0; local < 2; local++) {
			p.fallback_local = local;
			struct bazel_version v = ver(versions[vi]);
			struct bazel_flags f;
			bazel_flags_init(&f);
			fw_error_clear(&err);
			assert_int_equal(bazel_flags_build(&p, &v, "build", &f, &err), 0);
			bool lf = find_opt(&f.cmd, "remote_local_fallback") != NULL;
			bool inc = find_opt(&f.cmd, "incompatible_remote_local_fallback_for_remote_cache") != NULL;
			assert_int_equal(lf, inc); /* both or neither */
			if (bazel_has(&v, CAP_REMOTE_CACHE_FALLBACK))
				assert_int_equal(lf, local);
			else
				assert_false(lf);
			if (!strncmp(versions[vi], "7.", 2) && !local)
				assert_true(has_note(&f, "builds locally"));
			if ((!strcmp(versions[vi], "8.0.0") || !strcmp(versions[vi], "8.2.0")) && local)
				assert_true(has_note(&f, "first action"));
			if (!strcmp(versions[vi], "4.2.3"))
				assert_true(has_note(&f, "at start"));
			bazel_flags_release(&f);
		}
	}
	plan_done(&p);
}

static void test_strengths_and_scope(void **state)
{
	(void)state;
	struct fw_plan p;
	plan_for("executor", &p);
	p.chromium = (char *)"/opt/chromium/chrome";
	struct bazel_version v = ver("7.4.1");
	struct fw_error err;
	fw_error_clear(&err);
	struct bazel_flags f;
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "test", &f, &err), 0);
	assert_int_equal(must_opt(&f.cmd, "remote_cache")->strength, BAZEL_OPT_REQUIRED);
	assert_int_equal(must_opt(&f.cmd, "remote_executor")->strength, BAZEL_OPT_REQUIRED);
	assert_int_equal(must_opt(&f.cmd, "remote_instance_name")->strength, BAZEL_OPT_REQUIRED);
	assert_int_equal(must_opt(&f.cmd, "remote_upload_local_results")->strength, BAZEL_OPT_REQUIRED);
	assert_int_equal(must_opt(&f.cmd, "spawn_strategy")->strength, BAZEL_OPT_REQUIRED);
	assert_int_equal(must_opt(&f.cmd, "jobs")->strength, BAZEL_OPT_DEFAULT);
	assert_int_equal(must_opt(&f.cmd, "remote_timeout")->strength, BAZEL_OPT_DEFAULT);
	const struct bazel_opt *te = must_opt(&f.cmd, "test_env");
	assert_string_equal(te->value, "GF_RBE_CHROMIUM_EXECUTABLE=/opt/chromium/chrome");
	bazel_flags_release(&f);

	/* chromium only for test and coverage */
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "build", &f, &err), 0);
	assert_null(find_opt(&f.cmd, "test_env"));
	bazel_flags_release(&f);
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "coverage", &f, &err), 0);
	assert_non_null(find_opt(&f.cmd, "test_env"));
	bazel_flags_release(&f);

	/* fetch: remote options but no execution options */
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "fetch", &f, &err), 0);
	assert_non_null(find_opt(&f.cmd, "remote_cache"));
	assert_null(find_opt(&f.cmd, "spawn_strategy"));
	assert_null(find_opt(&f.cmd, "jobs"));
	bazel_flags_release(&f);

	/* unknown command, info, shutdown: nothing but startup options */
	const char *none[] = { "info", "shutdown", "frobnicate", "help" };
	p.output_user_root = (char *)"/our";
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		bazel_flags_init(&f);
		assert_int_equal(bazel_flags_build(&p, &v, none[i], &f, &err), 0);
		assert_int_equal(f.cmd.n, 0);
		assert_int_equal(f.startup.n, 1);
		bazel_flags_release(&f);
	}
	/* no command: nothing */
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, NULL, &f, &err), 0);
	assert_int_equal(f.cmd.n + f.startup.n, 0);
	bazel_flags_release(&f);

	/* read-write lane: upload=true is only a default */
	p.upload = true;
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "build", &f, &err), 0);
	const struct bazel_opt *up = must_opt(&f.cmd, "remote_upload_local_results");
	assert_string_equal(up->value, "true");
	assert_int_equal(up->strength, BAZEL_OPT_DEFAULT);
	bazel_flags_release(&f);

	/* executor mode without an executor URL is a config error */
	p.executor_url = NULL;
	bazel_flags_init(&f);
	fw_error_clear(&err);
	assert_true(bazel_flags_build(&p, &v, "build", &f, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_CONFIG);
	bazel_flags_release(&f);
	plan_done(&p);
}

static void test_disable_download_unsupported(void **state)
{
	(void)state;
	struct fw_plan p;
	plan_for("inject", &p);
	struct bazel_version v;
	assert_int_equal(bazel_version_parse("bazel no_version", &v), 0);
	struct fw_error err;
	fw_error_clear(&err);
	struct bazel_flags f;
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "build", &f, &err), 0);
	assert_true(has_note(&f, "disable_download"));
	bazel_flags_release(&f);
	plan_done(&p);
}

/* A user's conflicting remote cache in executor mode fails with exit 78. */
static void test_user_conflict(void **state)
{
	(void)state;
	struct fw_plan p;
	plan_for("executor", &p);
	struct bazel_version v = ver("8.2.0");
	struct fw_error err;
	fw_error_clear(&err);
	struct bazel_flags f;
	bazel_flags_init(&f);
	assert_int_equal(bazel_flags_build(&p, &v, "build", &f, &err), 0);
	char *words[] = { "build", "--remote_cache=grpc://elsewhere", "--jobs", "8", "//a" };
	struct bazel_cmdline c;
	bazel_cmdline_init(&c);
	assert_int_equal(bazel_cmdline_parse(5, words, &c, &err), 0);
	struct strv out;
	strv_init(&out);
	assert_true(bazel_argv_build(&c, &f.startup, &f.cmd, 0, &out, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_CONFIG);
	assert_string_equal(err.subject, "--remote_cache");
	assert_int_equal(must_opt(&f.cmd, "jobs")->fate, BAZEL_FATE_DROPPED);
	strv_release(&out);
	bazel_cmdline_release(&c);
	bazel_flags_release(&f);
	plan_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_strengths_and_scope),
		cmocka_unit_test(test_disable_download_unsupported),
		cmocka_unit_test(test_user_conflict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
