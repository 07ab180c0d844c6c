/* test_stagecheck.c - verification records and the stat-only warm check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/stagecheck.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char dir[256], manifest[300], dist[300], recdir[300];

static void put(const char *p, const char *text)
{
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fw-test-stagecheck.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(manifest, sizeof(manifest), "%s/m.json", dir);
	snprintf(dist, sizeof(dist), "%s/dist", dir);
	snprintf(recdir, sizeof(recdir), "%s/rec", dir);
	assert_int_equal(mkdir(dist, 0755), 0);
	put(manifest, "{}");
	return 0;
}

static struct stagecheck_opts opts(void)
{
	static const char *dists[1];
	dists[0] = dist;
	return (struct stagecheck_opts){ .distdirs = dists, .n_distdirs = 1, .record_dir = recdir,
					 .now = 1000 };
}

/* Stage n files "f<i>" into dist and write a complete record for them. */
static void make_record(size_t n, bool complete, bool signed_, int64_t expires)
{
	struct stagecheck_opts o = opts();
	char *rp = NULL, *id = NULL;
	assert_int_equal(stagecheck_identity(manifest, &o, &rp, &id), 0);
	struct stagecheck_record r;
	stagecheck_record_init(&r);
	r.identity = id;
	r.complete = complete;
	r.signed_ = signed_;
	r.expires = expires;
	for (size_t i = 0; i < n; i++) {
		char p[400];
		snprintf(p, sizeof(p), "%s/f%zu", dist, i);
		struct stat st;
		if (stat(p, &st) < 0) {
			put(p, "data");
			assert_int_equal(stat(p, &st), 0);
		}
		assert_int_equal(stagecheck_record_add(&r, p, SHA, true, &st), 0);
	}
	assert_int_equal(stagecheck_record_write(rp, &r), 0);
	struct stat st;
	assert_int_equal(stat(rp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	stagecheck_record_release(&r);
	free(rp);
}

static bool warm(void)
{
	struct stagecheck_opts o = opts();
	bool all = true;
	struct fw_error e = { 0 };
	assert_int_equal(stagecheck_warm(manifest, &o, &all, &e), 0);
	return all;
}

static void test_warm_true(void **state)
{
	(void)state;
	make_record(3, true, true, 2000);
	assert_true(warm());
}

static void test_not_complete_expired_unsigned(void **state)
{
	(void)state;
	make_record(3, false, true, 2000);
	assert_false(warm());
	make_record(3, true, true, 999); /* expired before "now" = 1000 */
	assert_false(warm());
	make_record(3, true, false, 2000); /* unsigned, not allowed */
	assert_false(warm());
	struct stagecheck_opts o = opts();
	o.allow_unsigned = true;
	bool all = false;
	struct fw_error e = { 0 };
	assert_int_equal(stagecheck_warm(manifest, &o, &all, &e), 0);
	assert_true(all);
}

static void test_changed_file(void **state)
{
	(void)state;
	make_record(3, true, true, 2000);
	char p[400];
	snprintf(p, sizeof(p), "%s/f1", dist);
	/* Bazel touches the entries it uses: new mtime and ctime, same file.
	 * The warm check still counts it as placed (Bazel verifies the
	 * SHA-256 of every hit itself) ... */
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	struct timespec later[2] = { { st.st_atim.tv_sec + 100, 0 }, { st.st_mtim.tv_sec + 100, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, p, later, 0), 0);
	assert_true(warm());
	/* ... but the stager's record no longer vouches for its content: the
	 * same size and mtime with a new ctime means `flywheel stage` re-hashes */
	struct stagecheck_record rec;
	char *rpath = NULL, *ident = NULL;
	struct stagecheck_opts o = opts();
	assert_int_equal(stagecheck_identity(manifest, &o, &rpath, &ident), 0);
	assert_int_equal(stagecheck_record_read(rpath, &rec), 0);
	struct stat now_st;
	assert_int_equal(stat(p, &now_st), 0);
	bool vouched = false;
	for (size_t i = 0; i < rec.n_files; i++)
		if (strcmp(rec.files[i].path, p) == 0)
			vouched = stagecheck_record_matches(&rec, p, rec.files[i].sha256, &now_st);
	assert_false(vouched);
	stagecheck_record_release(&rec);
	free(rpath);
	free(ident);
	/* a different file of another size under the same name: not staged */
	make_record(3, true, true, 2000);
	unlink(p);
	put(p, "other content, longer");
	assert_false(warm());
	/* a symlink planted in place of a staged file */
	make_record(3, true, true, 2000);
	unlink(p);
	char t[400];
	snprintf(t, sizeof(t), "%s/f0", dist);
	assert_int_equal(symlink(t, p), 0);
	assert_false(warm());
	unlink(p);
	put(p, "data");
}

static void test_changed_manifest(void **state)
{
	(void)state;
	make_record(2, true, true, 2000);
	assert_true(warm());
	put(manifest, "{ }");
	assert_false(warm());
	make_record(2, true, true, 2000);
	assert_true(warm());
	/* a signature appearing changes the identity too */
	char sig[400];
	snprintf(sig, sizeof(sig), "%s.sig", manifest);
	put(sig, "x:y");
	assert_false(warm());
	unlink(sig);
}

static void test_corrupt_record(void **state)
{
	(void)state;
	make_record(2, true, true, 2000);
	struct stagecheck_opts o = opts();
	char *rp = NULL, *id = NULL;
	assert_int_equal(stagecheck_identity(manifest, &o, &rp, &id), 0);
	char *text = NULL;
	size_t n = 0;
	assert_int_equal(read_small_file(rp, 1 << 20, true, &text, &n), 0);
	/* torn: cut before the final line */
	assert_int_equal(write_file_atomic(rp, text, n - 5, 0600), 0);
	assert_false(warm());
	struct stagecheck_record r;
	assert_int_equal(stagecheck_record_read(rp, &r), -EBADMSG);
	/* garbage line */
	put(rp, "flywheel-staged/1\nid x\nbogus\ncomplete 1\n");
	assert_false(warm());
	unlink(rp);
	assert_false(warm());
	free(text);
	free(rp);
	free(id);
}

static void test_matches(void **state)
{
	(void)state;
	make_record(2, true, true, 2000);
	struct stagecheck_opts o = opts();
	char *rp = NULL, *id = NULL;
	assert_int_equal(stagecheck_identity(manifest, &o, &rp, &id), 0);
	struct stagecheck_record r;
	assert_int_equal(stagecheck_record_read(rp, &r), 0);
	char p[400];
	snprintf(p, sizeof(p), "%s/f0", dist);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(stagecheck_record_matches(&r, p, SHA, &st));
	assert_false(stagecheck_record_matches(&r, p, "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &st));
	st.st_size++;
	assert_false(stagecheck_record_matches(&r, p, SHA, &st));
	stagecheck_record_release(&r);
	free(rp);
	free(id);
}

static void test_many(void **state)
{
	(void)state;
	make_record(1000, true, true, 2000);
	uint64_t t0 = now_ns();
	assert_true(warm());
	uint64_t dt = now_ns() - t0;
	/* reported, not asserted: timing lives in bench/stage.sh */
	print_message("warm check of 1000 inputs: %.2f ms\n", (double)dt / 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm_true),
		cmocka_unit_test(test_not_complete_expired_unsigned),
		cmocka_unit_test(test_changed_file),
		cmocka_unit_test(test_changed_manifest),
		cmocka_unit_test(test_corrupt_record),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
