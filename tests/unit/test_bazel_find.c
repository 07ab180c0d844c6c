/* test_bazel_find.c - finding the real Bazel (skipping flywheel itself) and
 * detecting its version once, with fake Bazels written by the test. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "flywheel/bazel_find.h"

static char tmp[] = "/tmp/fw-find-XXXXXX";

static char *pathof(const char *rel)
{
	return fw_asprintf("%s/%s", tmp, rel);
}

static void script(const char *rel, const char *body)
{
	char *p = pathof(rel);
	char *dir = strdup(p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0700), 0);
	char *text = fw_asprintf("#!/bin/sh\n%s\n", body);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0755), 0);
	free(text);
	free(dir);
	free(p);
}

static int count_lines(const char *rel)
{
	char *p = pathof(rel);
	char *data = NULL;
	int n = 0;
	if (read_small_file(p, 1 << 16, false, &data, NULL) == 0)
		for (char *q = data; *q; q++)
			n += *q == '\n';
	free(data);
	free(p);
	return n;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static void test_search_order(void **state)
{
	(void)state;
	script("a/bazel", "echo bazel 7.4.1");
	script("b/bazelisk", "touch \"$0.ran\"; echo should-not-run");
	script("b/bazel", "echo bazel 6.2.0");
	char *path_a = fw_asprintf("PATH=%s/a:%s/b", tmp, tmp);
	char *path_b = fw_asprintf("PATH=%s/b:%s/a", tmp, tmp);
	struct fw_error err;

	/* bazelisk before bazel, whatever PATH order */
	char *env1[] = { path_a, NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	fw_error_clear(&err);
	assert_int_equal(bazel_find(env1, NULL, &b, &err), 0);
	char *want = pathof("b/bazelisk");
	assert_string_equal(b.path, want);
	assert_true(b.is_bazelisk);
	assert_string_equal(b.via, "PATH");
	free(want);
	bazel_found_release(&b);

	/* BAZEL_REAL first, then BAZEL_BIN, then the configured bazel_bin */
	char *real = fw_asprintf("BAZEL_REAL=%s/a/bazel", tmp);
	char *bin = fw_asprintf("BAZEL_BIN=%s/b/bazel", tmp);
	char *env2[] = { path_b, bin, real, NULL };
	bazel_found_init(&b);
	assert_int_equal(bazel_find(env2, "/nonexistent", &b, &err), 0);
	assert_string_equal(b.via, "BAZEL_REAL");
	assert_false(b.is_bazelisk);
	bazel_found_release(&b);
	char *env3[] = { path_b, bin, NULL };
	bazel_found_init(&b);
	assert_int_equal(bazel_find(env3, "/nonexistent", &b, &err), 0);
	assert_string_equal(b.via, "BAZEL_BIN");
	bazel_found_release(&b);
	char *cfg = pathof("a/bazel");
	char *env4[] = { path_b, NULL };
	bazel_found_init(&b);
	assert_int_equal(bazel_find(env4, cfg, &b, &err), 0);
	assert_string_equal(b.via, "bazel_bin (config)");
	assert_string_equal(b.path, cfg);
	bazel_found_release(&b);
	/* a bare name in BAZEL_BIN is looked up on PATH */
	char *env5[] = { path_b, (char *)"BAZEL_BIN=bazel", NULL };
	bazel_found_init(&b);
	assert_int_equal(bazel_find(env5, NULL, &b, &err), 0);
	want = pathof("b/bazel");
	assert_string_equal(b.path, want);
	free(want);
	bazel_found_release(&b);

	/* explicit but missing: 127; not executable: 126 */
	char *env6[] = { path_b, (char *)"BAZEL_REAL=/nonexistent/bazel", NULL };
	bazel_found_init(&b);
	fw_error_clear(&err);
	assert_true(bazel_find(env6, NULL, &b, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_NOTFOUND);
	assert_int_equal(err.cls, FW_CLASS_BAZEL_NOT_FOUND);
	assert_string_equal(err.subject, "BAZEL_REAL");
	bazel_found_release(&b);
	char *noexec = pathof("c/bazel");
	script("c/bazel", "echo x");
	chmod(noexec, 0644);
	char *ne = fw_asprintf("BAZEL_BIN=%s", noexec);
	char *env7[] = { path_b, ne, NULL };
	bazel_found_init(&b);
	fw_error_clear(&err);
	assert_true(bazel_find(env7, NULL, &b, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_NOEXEC);
	bazel_found_release(&b);

	/* nothing anywhere: 127 and every place searched is listed */
	char *empty = fw_asprintf("PATH=%s/empty", tmp);
	char *env8[] = { empty, NULL };
	bazel_found_init(&b);
	fw_error_clear(&err);
	assert_true(bazel_find(env8, NULL, &b, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_NOTFOUND);
	assert_true(b.searched.n >= 4);
	bazel_found_release(&b);

	char *ran = pathof("b/bazelisk.ran");
	assert_int_equal(access(ran, F_OK), -1);
	free(ran);
	free(empty);
	free(ne);
	free(noexec);
	free(cfg);
	free(real);
	free(bin);
	free(path_a);
	free(path_b);
}

/* A `bazel` that is this very program (a symlink to it, first on PATH) is skipped. */
static void test_skip_self(void **state)
{
	(void)state;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	char *d = pathof("self");
	assert_int_equal(mkdir_p(d, 0700), 0);
	char *link = pathof("self/bazel");
	assert_int_equal(symlink(self, link), 0);
	char *hard = pathof("self/bazelisk");
	script("real/bazel", "echo bazel 8.0.0");
	char *path = fw_asprintf("PATH=%s/self:%s/real", tmp, tmp);
	char *env[] = { path, NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	struct fw_error err;
	fw_error_clear(&err);
	assert_int_equal(bazel_find(env, NULL, &b, &err), 0);
	char *want = pathof("real/bazel");
	assert_string_equal(b.path, want);
	bool noted = false;
	for (size_t i = 0; i < b.searched.n; i++)
		noted = noted || strstr(b.searched.v[i], "flywheel itself");
	assert_true(noted);
	bazel_found_release(&b);

	/* BAZEL_REAL pointing at flywheel is skipped too (the tools/bazel loop) */
	char *realenv = fw_asprintf("BAZEL_REAL=%s", link);
	char *env2[] = { path, realenv, NULL };
	bazel_found_init(&b);
	assert_int_equal(bazel_find(env2, NULL, &b, &err), 0);
	assert_string_equal(b.path, want);
	bazel_found_release(&b);
	free(realenv);
	free(want);
	free(path);
	free(hard);
	free(link);
	free(d);
}

static void test_version_cached(void **state)
{
	(void)state;
	script("v/bazel", "echo run >> \"$0.count\"; echo 'bazel 7.4.1'");
	char *cache = pathof("cache/flywheel/bazel-version");
	char *path = fw_asprintf("PATH=/usr/bin:/bin");
	char *env[] = { path, NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	b.path = pathof("v/bazel");
	struct bazel_version v;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(bazel_detect_version(&b, NULL, env, NULL, cache, &v), 0);
		assert_true(v.known);
		assert_int_equal(v.major, 7);
		assert_int_equal(v.minor, 4);
		assert_int_equal(v.source, BV_SRC_BINARY);
	}
	assert_int_equal(count_lines("v/bazel.count"), 1); /* run once, then cached */
	struct stat st;
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *dir = pathof("cache/flywheel");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* a changed binary (size and mtime) is asked again */
	script("v/bazel", "echo run >> \"$0.count\"; echo 'bazel 8.2.0'   ");
	assert_int_equal(bazel_detect_version(&b, NULL, env, NULL, cache, &v), 0);
	assert_int_equal(v.major, 8);
	assert_int_equal(v.minor, 2);
	assert_int_equal(count_lines("v/bazel.count"), 2);

	/* XDG_CACHE_HOME is the default cache location */
	char *xdg = fw_asprintf("XDG_CACHE_HOME=%s/xdg", tmp);
	char *env2[] = { path, xdg, NULL };
	assert_int_equal(bazel_detect_version(&b, NULL, env2, NULL, NULL, &v), 0);
	char *xc = pathof("xdg/flywheel/bazel-version");
	assert_int_equal(access(xc, R_OK), 0);
	free(xc);
	free(xdg);
	free(dir);
	bazel_found_release(&b);
	free(path);
	free(cache);
}

static void test_version_unknown(void **state)
{
	(void)state;
	script("nv/bazel", "echo 'bazel no_version'");
	char *cache = pathof("nvcache/v");
	char *env[] = { NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	b.path = pathof("nv/bazel");
	struct bazel_version v;
	assert_int_equal(bazel_detect_version(&b, NULL, env, NULL, cache, &v), 0);
	assert_false(v.known);
	assert_int_equal(v.source, BV_SRC_NONE);
	assert_non_null(strstr(v.origin, "no_version"));
	assert_int_equal(bazel_detect_version(&b, NULL, env, "7.1.0", cache, &v), 0);
	assert_true(v.known);
	assert_int_equal(v.minor, 1);
	assert_int_equal(v.source, BV_SRC_CONFIG);
	assert_non_null(strstr(v.origin, "no_version"));
	/* a failing --version: unknown, configured version used */
	script("fail/bazel", "exit 3");
	free(b.path);
	b.path = pathof("fail/bazel");
	assert_int_equal(bazel_detect_version(&b, NULL, env, "6.3.0", cache, &v), 0);
	assert_int_equal(v.source, BV_SRC_CONFIG);
	/* "Bazelisk" in the answer marks it Bazelisk */
	script("bk/bazel", "echo 'Bazelisk version: v1.28.0'");
	free(b.path);
	b.path = pathof("bk/bazel");
	char *env2[] = { (char *)"USE_BAZEL_VERSION=8.5.1", NULL };
	assert_int_equal(bazel_detect_version(&b, NULL, env2, NULL, cache, &v), 0);
	assert_true(b.is_bazelisk);
	assert_true(v.known);
	assert_int_equal(v.source, BV_SRC_BAZELISK);
	assert_int_equal(v.patch, 1);
	bazel_found_release(&b);
	free(cache);
}

static void test_bazelisk_not_run(void **state)
{
	(void)state;
	script("bz/bazelisk", "touch \"$0.ran\"; echo 'bazel 1.0.0'");
	char *ws = pathof("bzws");
	script("bzws/MODULE.bazel", "");
	char *bv = pathof("bzws/.bazelversion");
	assert_int_equal(write_file_atomic(bv, "org/9.2.0\n", 10, 0644), 0);
	char *env[] = { NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	b.path = pathof("bz/bazelisk");
	b.is_bazelisk = true;
	struct bazel_version v;
	assert_int_equal(bazel_detect_version(&b, ws, env, NULL, NULL, &v), 0);
	assert_true(v.known);
	assert_int_equal(v.major, 9);
	assert_int_equal(v.minor, 2);
	assert_int_equal(v.source, BV_SRC_BAZELISK);
	char *ran = pathof("bz/bazelisk.ran");
	assert_int_equal(access(ran, F_OK), -1);
	/* latest cannot be resolved offline: configured version, else unknown */
	assert_int_equal(write_file_atomic(bv, "latest\n", 7, 0644), 0);
	assert_int_equal(bazel_detect_version(&b, ws, env, NULL, NULL, &v), 0);
	assert_false(v.known);
	assert_non_null(strstr(v.origin, "latest"));
	assert_int_equal(bazel_detect_version(&b, ws, env, "8.0.0", NULL, &v), 0);
	assert_true(v.known);
	assert_int_equal(v.source, BV_SRC_CONFIG);

	/* exec environment for Bazelisk */
	struct strv e;
	strv_init(&e);
	assert_int_equal(strv_push(&e, "BAZELISK_SKIP_WRAPPER=false"), 0);
	assert_int_equal(strv_push(&e, "HOME=/h"), 0);
	assert_int_equal(bazel_exec_env(&b, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0], "BAZELISK_SKIP_WRAPPER=true");
	strv_release(&e);
	strv_init(&e);
	assert_int_equal(bazel_exec_env(&b, &e), 0);
	assert_string_equal(e.v[0], "BAZELISK_SKIP_WRAPPER=true");
	b.is_bazelisk = false;
	strv_release(&e);
	strv_init(&e);
	assert_int_equal(bazel_exec_env(&b, &e), 0);
	assert_int_equal(e.n, 0);
	strv_release(&e);
	free(ran);
	bazel_found_release(&b);
	free(bv);
	free(ws);
}

/* Debian's /usr/bin/bazel (a bash launcher) answers "bazel no_version". */
static void test_debian_bazel(void **state)
{
	(void)state;
	if (access("/usr/bin/bazel", X_OK) < 0)
		skip();
	char *cache = pathof("deb/v");
	char *env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	b.path = strdup("/usr/bin/bazel");
	struct bazel_version v;
	assert_int_equal(bazel_detect_version(&b, NULL, env, "4.2.3", cache, &v), 0);
	assert_int_equal(v.source, BV_SRC_CONFIG);
	assert_int_equal(v.major, 4);
	assert_non_null(strstr(v.origin, "no_version"));
	assert_false(b.is_bazelisk);
	bazel_found_release(&b);
	free(cache);
}

/* A --version that never answers is stopped after BAZEL_VERSION_TIMEOUT_MS. */
static void test_version_timeout(void **state)
{
	(void)state;
	script("slow/bazel", "exec sleep 60");
	char *cache = pathof("slowcache/v");
	char *env[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	struct bazel_found b;
	bazel_found_init(&b);
	b.path = pathof("slow/bazel");
	struct bazel_version v;
	assert_int_equal(bazel_detect_version(&b, NULL, env, NULL, cache, &v), 0);
	assert_false(v.known);
	assert_non_null(strstr(v.origin, "did not answer"));
	bazel_found_release(&b);
	free(cache);
}

static int teardown(void **state)
{
	(void)state;
	char *cmd[] = { (char *)"rm", (char *)"-rf", tmp, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		execv("/bin/rm", cmd);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_order),
		cmocka_unit_test(test_skip_self),
		cmocka_unit_test(test_version_cached),
		cmocka_unit_test(test_version_unknown),
		cmocka_unit_test(test_bazelisk_not_run),
		cmocka_unit_test(test_debian_bazel),
		cmocka_unit_test(test_version_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
