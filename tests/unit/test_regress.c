/* test_regress.c - saved fuzzer findings and seeds, replayed on every run.
 *
 * Every file under tests/fuzz/corpus/<target>/ (seeds) and
 * tests/fuzz/regress/<target>/ (inputs that once crashed or broke an
 * invariant) goes through the same target function the fuzzer runs
 * (tests/fuzz/fuzz_targets.h), so a fixed crash stays fixed in the plain, ASan
 * and valgrind runs of the unit suite.  The findings that needed a fix in
 * flywheel's code also have a named test here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fuzz/fuzz_targets.h"

#include "flywheel/banned.h"

static size_t replay_dir(const char *dir, const struct fuzz_target *t)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *data = NULL;
		size_t len = 0;
		assert_int_equal(read_small_file(path, 1024 * 1024, true, &data, &len), 0);
		t->fn((const uint8_t *)data, len);
		free(data);
		n++;
	}
	closedir(d);
	return n;
}

static void test_replay(void **state)
{
	(void)state;
	const char *src = getenv("FLYWHEEL_SRCDIR");
	if (!src)
		src = ".";
	size_t seeds = 0, saved = 0;
	for (size_t i = 0; i < FW_ARRAY_SIZE(fuzz_targets); i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src, fuzz_targets[i].name);
		size_t n = replay_dir(dir, &fuzz_targets[i]);
		assert_true(n > 0); /* every target has seeds */
		seeds += n;
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", src, fuzz_targets[i].name);
		saved += replay_dir(dir, &fuzz_targets[i]);
	}
	printf("regress: %zu fuzz targets, %zu seeds and %zu saved findings replayed\n",
	       FW_ARRAY_SIZE(fuzz_targets), seeds, saved);
}

/* manifest.c: manifest_format_time wrote year 28 as "28-...", which
 * manifest_parse_time refuses, so `lock` could write a manifest it cannot read. */
static void test_manifest_time_round_trip(void **state)
{
	(void)state;
	static const char *const times[] = { "0028-06-01T00:00:00Z", "0001-01-01T00:00:00Z",
					     "2027-06-01T00:00:00Z",
					     "9999-12-31T23:59:59Z" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(times); i++) {
		int64_t t;
		assert_int_equal(manifest_parse_time(times[i], &t), 0);
		char buf[32];
		manifest_format_time(t, buf);
		assert_string_equal(buf, times[i]);
	}
}

/* manifest.c: qsort(NULL, 0, ...) for a manifest with no inputs (UBSan). */
static void test_manifest_empty_inputs(void **state)
{
	(void)state;
	static const char text[] =
		"{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":[]}";
	struct manifest m;
	struct fw_error err = { 0 };
	manifest_init(&m);
	assert_int_equal(manifest_parse(text, sizeof(text) - 1, "e.json", &m, &err), 0);
	assert_int_equal(m.n_inputs, 0);
	manifest_release(&m);
}

/* sign.c: sign_keygen jumped over the initialisation of a cleanup-scoped
 * pointer, so a failure to write NAME.key freed an uninitialised pointer
 * (clang refuses to compile it; gcc compiled it into a wild free). */
static void test_keygen_key_exists(void **state)
{
	(void)state;
	char dir[] = "/tmp/fw-regress.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char prefix[128], key[160], pub[160];
	snprintf(prefix, sizeof(prefix), "%s/k", dir);
	snprintf(key, sizeof(key), "%s.key", prefix);
	snprintf(pub, sizeof(pub), "%s.pub", prefix);
	/* the secret key file exists, the public one does not: the .key write fails */
	assert_int_equal(write_file_atomic(key, "old\n", 4, 0600), 0);
	struct fw_error err = { 0 };
	assert_true(sign_keygen(prefix, "k", &err) < 0);
	assert_true(fw_error_isset(&err));
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(read_small_file(key, 4096, true, &data, &len), 0);
	assert_string_equal(data, "old\n"); /* never overwritten */
	free(data);
	assert_int_equal(access(pub, F_OK), -1);
	/* a fresh name works, and the secret key is private */
	char prefix2[128], key2[160], pub2[160];
	snprintf(prefix2, sizeof(prefix2), "%s/n", dir);
	snprintf(key2, sizeof(key2), "%s.key", prefix2);
	snprintf(pub2, sizeof(pub2), "%s.pub", prefix2);
	fw_error_clear(&err);
	assert_int_equal(sign_keygen(prefix2, "n", &err), 0);
	struct stat st;
	assert_int_equal(stat(key2, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	unlink(key);
	unlink(key2);
	unlink(pub2);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_manifest_time_round_trip),
		cmocka_unit_test(test_manifest_empty_inputs),
		cmocka_unit_test(test_keygen_key_exists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
