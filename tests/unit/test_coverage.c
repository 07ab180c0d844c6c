/* test_coverage.c - required inputs covered only when every destination holds
 * a recorded, unchanged, verified copy; deferred and candidate never block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/coverage.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static const char manifest_json[] =
	"{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":["
	"{\"name\":\"a.tgz\",\"sha256\":\"" HA "\",\"size\":1,\"urls\":[\"http://m/a.tgz\"]},"
	"{\"name\":\"b.tgz\",\"sha256\":\"" HB "\",\"size\":1,\"urls\":[\"http://m/b.tgz\"],\"status\":\"deferred\"},"
	"{\"name\":\"c.tgz\",\"sha256\":\"" HC "\",\"size\":1,\"urls\":[\"http://m/c.tgz\"],\"status\":\"candidate\"}]}";

static void put(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static void test_coverage(void **state)
{
	(void)state;
	char dir[] = "/tmp/fw-cov-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char mpath[128], dist[128], recdir[128], p[256];
	snprintf(mpath, sizeof(mpath), "%s/inputs.json", dir);
	snprintf(dist, sizeof(dist), "%s/dist", dir);
	snprintf(recdir, sizeof(recdir), "%s/rec", dir);
	mkdir(dist, 0755);
	FILE *f = fopen(mpath, "w");
	fputs(manifest_json, f);
	fclose(f);
	struct manifest m;
	struct fw_error err = { 0 };
	assert_int_equal(manifest_parse(manifest_json, strlen(manifest_json), mpath, &m, &err), 0);
	const char *dists[] = { dist };
	struct stagecheck_opts o = { .distdirs = dists, .n_distdirs = 1, .record_dir = recdir, .allow_unsigned = true };
	struct coverage_result r;

	/* no record: nothing covered */
	assert_int_equal(coverage_run(&m, mpath, &o, &r, &err), 0);
	assert_false(r.record_found);
	assert_false(r.covered);
	assert_int_equal(r.required, 1);
	coverage_result_release(&r);

	/* a record holding a.tgz: covered, even though b and c are not staged */
	char *rp = NULL, *id = NULL;
	assert_int_equal(stagecheck_identity(mpath, &o, &rp, &id), 0);
	struct stagecheck_record rec;
	stagecheck_record_init(&rec);
	rec.identity = strdup(id);
	rec.complete = true;
	char *real = realpath(dist, NULL);
	snprintf(p, sizeof(p), "%s/a.tgz", real);
	put(p);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(stagecheck_record_add(&rec, p, HA, true, &st), 0);
	mkdir(recdir, 0700);
	assert_int_equal(stagecheck_record_write(rp, &rec), 0);
	assert_int_equal(coverage_run(&m, mpath, &o, &r, &err), 0);
	assert_true(r.record_found);
	assert_true(r.covered);
	assert_int_equal(r.items[0].state, COVERAGE_STAGED);
	assert_int_equal(r.items[1].state, COVERAGE_MISSING);
	char *json = NULL;
	assert_int_equal(coverage_result_json(&r, mpath, &json), 0);
	assert_non_null(strstr(json, "\"covered\": true"));
	assert_non_null(strstr(json, "\"status\": \"candidate\""));
	free(json);
	coverage_result_release(&r);

	/* the staged file changes: the record no longer vouches, and its bytes
	 * do not hash to the pin */
	sleep(1);
	put(p);
	assert_int_equal(coverage_run(&m, mpath, &o, &r, &err), 0);
	assert_false(r.covered);
	assert_int_equal(r.items[0].state, COVERAGE_MISSING);
	coverage_result_release(&r);

	/* no destination: a config error */
	struct stagecheck_opts none = { 0 };
	assert_int_equal(coverage_run(&m, mpath, &none, &r, &err), -1);
	assert_int_equal(err.exit_code, 78);
	coverage_result_release(&r);

	stagecheck_record_release(&rec);
	unlink(p);
	unlink(rp);
	rmdir(recdir);
	unlink(mpath);
	rmdir(dist);
	rmdir(dir);
	free(rp);
	free(id);
	free(real);
	manifest_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_coverage) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
