/* test_stage.c - placement, refusal of planted files, offline listing, records,
 * markers (all on disk, no network: --offline semantics and already-present inputs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/stage.h"
#include "flywheel/stagecheck.h"
#include "flywheel/banned.h"

static char dir[256], dist[300], cache[300], src[300], rec[300];

static void put(const char *p, const char *text)
{
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void sha_of(const char *text, char hex[65])
{
	char p[400];
	snprintf(p, sizeof(p), "%s/hash-tmp", dir);
	put(p, text);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	uint64_t n = 0;
	assert_int_equal(stage_hash_fd(fd, hex, &n), 0);
	assert_int_equal(n, strlen(text));
	close(fd);
	unlink(p);
}

/* Manifest of inputs a.tgz ("alpha") and b.tgz ("bravo"). */
static void make_manifest(struct manifest *m)
{
	manifest_init(m);
	const char *names[] = { "a.tgz", "b.tgz" };
	const char *data[] = { "alpha", "bravo" };
	for (int i = 0; i < 2; i++) {
		struct manifest_input in = { .name = fw_strdup(names[i]), .size = strlen(data[i]) };
		sha_of(data[i], in.sha256);
		strv_push(&in.urls, "http://127.0.0.1:1/unused");
		strv_push(&in.canonical_urls, "https://upstream.invalid/x.tgz");
		assert_int_equal(manifest_upsert(m, &in), 0);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fw-test-stage.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dist, sizeof(dist), "%s/dist", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(rec, sizeof(rec), "%s/staged.rec", dir);
	assert_int_equal(mkdir(dist, 0755), 0);
	return 0;
}

static struct stage_opts offline_opts(void)
{
	static const char *dists[1];
	dists[0] = dist;
	return (struct stage_opts){ .distdirs = dists, .n_distdirs = 1, .repo_cache = cache,
				    .offline = true, .canonical_ids = true, .record_path = rec,
				    .record_identity = "test-identity", .expires = 4102444800,
				    .signed_ = true };
}

static void test_offline_missing_then_placed(void **state)
{
	(void)state;
	struct manifest m;
	make_manifest(&m);
	struct stage_opts o = offline_opts();
	struct stage_result r;
	struct fw_error e = { 0 };
	/* nothing on disk: both missing, listed by name */
	assert_true(stage_run(&m, &o, &r, &e) < 0);
	assert_int_equal(r.n[STAGE_MISSING], 2);
	assert_non_null(strstr(e.subject, "a.tgz"));
	assert_non_null(strstr(e.what, "2 inputs missing"));
	stage_result_release(&r);

	/* a.tgz dropped into the distdir: placed into the cache by hard link; b still missing */
	char p[400];
	snprintf(p, sizeof(p), "%s/a.tgz", dist);
	put(p, "alpha");
	fw_error_clear(&e);
	assert_true(stage_run(&m, &o, &r, &e) < 0);
	assert_int_equal(r.items[0].state, STAGE_PLACED);
	assert_int_equal(r.items[1].state, STAGE_MISSING);
	char c[500];
	snprintf(c, sizeof(c), "%s/content_addressable/sha256/%s/file", cache, m.inputs[0].sha256);
	struct stat s1, s2;
	assert_int_equal(stat(p, &s1), 0);
	assert_int_equal(stat(c, &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);
	/* Bazel 7+ marker: id-<sha256("https://upstream.invalid/x.tgz")> */
	char hex[65];
	struct strv u;
	strv_init(&u);
	strv_push(&u, "https://upstream.invalid/x.tgz");
	assert_int_equal(stage_canonical_id(&u, hex), 0);
	strv_release(&u);
	snprintf(c, sizeof(c), "%s/content_addressable/sha256/%s/id-%s", cache, m.inputs[0].sha256, hex);
	assert_int_equal(stat(c, &s2), 0);
	stage_result_release(&r);

	/* b.tgz in the cache only: placed into the distdir; then all present */
	snprintf(c, sizeof(c), "%s/content_addressable/sha256/%s", cache, m.inputs[1].sha256);
	mkdir(c, 0755);
	snprintf(c, sizeof(c), "%s/content_addressable/sha256/%s/file", cache, m.inputs[1].sha256);
	put(c, "bravo");
	fw_error_clear(&e);
	assert_int_equal(stage_run(&m, &o, &r, &e), 0);
	assert_int_equal(r.items[1].state, STAGE_PLACED);
	stage_result_release(&r);
	assert_int_equal(stage_run(&m, &o, &r, &e), 0);
	assert_int_equal(r.n[STAGE_PRESENT], 2);
	stage_result_release(&r);

	/* the record lists every destination and is complete */
	struct stagecheck_record sr;
	assert_int_equal(stagecheck_record_read(rec, &sr), 0);
	assert_true(sr.complete);
	assert_true(sr.signed_);
	assert_int_equal(sr.n_files, 6); /* 2 x (distdir, cache file, marker) */
	stagecheck_record_release(&sr);
	manifest_release(&m);
}

static void test_planted_symlink_and_foreign(void **state)
{
	(void)state;
	struct manifest m;
	make_manifest(&m);
	struct stage_opts o = offline_opts();
	struct stage_result r;
	struct fw_error e = { 0 };
	char p[400], target[400];
	/* replace the distdir copy of a.tgz with a symlink to a secret file */
	snprintf(p, sizeof(p), "%s/a.tgz", dist);
	snprintf(target, sizeof(target), "%s/secret", dir);
	put(target, "alpha");
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	assert_true(stage_run(&m, &o, &r, &e) < 0);
	assert_int_equal(r.items[0].state, STAGE_FAILED);
	assert_non_null(strstr(r.items[0].error, "symbolic link"));
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* never replaced */
	stage_result_release(&r);
	unlink(p);

	/* a foreign file with the right name but other content */
	put(p, "ALPHA");
	fw_error_clear(&e);
	assert_true(stage_run(&m, &o, &r, &e) < 0);
	assert_int_equal(r.items[0].state, STAGE_FAILED);
	assert_non_null(strstr(r.items[0].error, "different file"));
	char *text = NULL;
	size_t n = 0;
	assert_int_equal(read_small_file(p, 100, true, &text, &n), 0);
	assert_string_equal(text, "ALPHA"); /* untouched */
	free(text);
	stage_result_release(&r);
	unlink(p);

	/* a planted symlink as the cache entry directory */
	char entry[500];
	snprintf(entry, sizeof(entry), "%s/content_addressable/sha256/%s", cache, m.inputs[1].sha256);
	char cmdfile[520];
	snprintf(cmdfile, sizeof(cmdfile), "%s/file", entry);
	unlink(cmdfile);
	DIR *d = opendir(entry);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char q[800];
		if (de->d_name[0] == '.')
			continue;
		snprintf(q, sizeof(q), "%s/%s", entry, de->d_name);
		unlink(q);
	}
	if (d)
		closedir(d);
	assert_int_equal(rmdir(entry), 0);
	assert_int_equal(symlink(dir, entry), 0);
	put(p, "alpha");
	fw_error_clear(&e);
	assert_true(stage_run(&m, &o, &r, &e) < 0);
	assert_int_equal(r.items[1].state, STAGE_FAILED);
	assert_non_null(strstr(r.items[1].error, "symlink"));
	stage_result_release(&r);
	unlink(entry);
	manifest_release(&m);
}

static void test_temp_leftovers_swept(void **state)
{
	(void)state;
	char p[400];
	snprintf(p, sizeof(p), "%s/.flywheel-tmp-999-0-deadbeef", dist);
	put(p, "partial");
	struct manifest m;
	make_manifest(&m);
	struct stage_opts o = offline_opts();
	struct stage_result r;
	struct fw_error e = { 0 };
	stage_run(&m, &o, &r, &e);
	stage_result_release(&r);
	assert_int_equal(access(p, F_OK), -1);
	manifest_release(&m);
}

static void test_canonical_id(void **state)
{
	(void)state;
	struct strv u;
	strv_init(&u);
	strv_push(&u, "a");
	strv_push(&u, "b");
	char hex[65];
	assert_int_equal(stage_canonical_id(&u, hex), 0);
	/* sha256("a b") */
	assert_string_equal(hex, "c8687a08aa5d6ed2044328fa6a697ab8e96dc34291e8c2034ae8c38e6fcc6d65");
	strv_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offline_missing_then_placed),
		cmocka_unit_test(test_planted_symlink_and_foreign),
		cmocka_unit_test(test_temp_leftovers_swept),
		cmocka_unit_test(test_canonical_id),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
