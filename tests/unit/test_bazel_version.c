/* test_bazel_version.c - version parsing, the version table, Bazelisk's
 * resolution, and docs/COMPATIBILITY.md being in step with the table.
 *
 * FLYWHEEL_REGEN_COMPAT=1 makes test_compat_doc rewrite the file instead
 * (scripts/gen-compat.sh does that). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "flywheel/bazel_version.h"
#include "flywheel/util.h"

struct parse_case {
	const char *in;
	int rc;
	bool known;
	unsigned major, minor, patch;
	const char *pre;
};

static const struct parse_case parse_cases[] = {
	{ "bazel 7.4.1", 0, true, 7, 4, 1, "" },
	{ "bazel 8.0.0rc2", 0, true, 8, 0, 0, "rc2" },
	{ "bazel 9.1.0", 0, true, 9, 1, 0, "" },
	{ "7.4.1", 0, true, 7, 4, 1, "" },
	{ "bazel no_version", 0, false, 0, 0, 0, "" },
	{ "development version", 0, false, 0, 0, 0, "" },
	{ "bazel 7.4.1- (@non-git)", 0, true, 7, 4, 1, "" },
	{ "bazel 6.0.0-pre.20220112.2", 0, true, 6, 0, 0, "pre.20220112.2" },
	{ "bazel 7.4.1\n", 0, true, 7, 4, 1, "" },
	{ "  bazel 7.4.1 \r\n\n", 0, true, 7, 4, 1, "" },
	{ "Build label: 7.4.1", 0, true, 7, 4, 1, "" },
	{ "release 7.4.1", 0, true, 7, 4, 1, "" },
	{ "bazel 7.4", 0, false, 0, 0, 0, "" },
	{ "bazel 7.x", 0, false, 0, 0, 0, "" },
	{ "latest", 0, false, 0, 0, 0, "" },
	{ "", 0, false, 0, 0, 0, "" },
	{ "bazel 10.0.0", 0, true, 10, 0, 0, "" },
	{ "bazel 7.4.1rcx", 0, false, 0, 0, 0, "" },
	{ "bazel 7.4.1abc", 0, false, 0, 0, 0, "" },
	{ "bazel 1234567.0.0", 0, false, 0, 0, 0, "" },
	{ "bazel 7.4.1\x01", -EINVAL, false, 0, 0, 0, "" },
	{ "bazel 7.4.1\nBuild target: x", 0, true, 7, 4, 1, "" },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *t = &parse_cases[i];
		struct bazel_version v;
		memset(&v, 0xAA, sizeof(v));
		int r = bazel_version_parse(t->in, &v);
		if (r != t->rc)
			fail_msg("case %zu (%s): rc %d", i, t->in, r);
		if (r < 0)
			continue;
		if (v.known != t->known || v.major != t->major || v.minor != t->minor ||
		    v.patch != t->patch || strcmp(v.pre, t->pre) != 0)
			fail_msg("case %zu (%s): known %d %u.%u.%u pre [%s]", i, t->in, v.known, v.major,
				 v.minor, v.patch, v.pre);
		assert_int_equal(v.source, BV_SRC_NONE);
	}
	char longer[300];
	memset(longer, '7', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	struct bazel_version v;
	assert_int_equal(bazel_version_parse(longer, &v), -EINVAL);
	assert_int_equal(bazel_version_parse(NULL, &v), -EINVAL);
}

static struct bazel_version ver(const char *s)
{
	struct bazel_version v;
	assert_int_equal(bazel_version_parse(s, &v), 0);
	return v;
}

static void test_cmp(void **state)
{
	(void)state;
	struct bazel_version a = ver("7.4.1"), b = ver("7.4.1"), rc = ver("8.0.0rc2"), r8 = ver("8.0.0");
	assert_int_equal(bazel_version_cmp(&a, &b), 0);
	assert_int_equal(bazel_version_cmp(&a, &r8), -1);
	assert_int_equal(bazel_version_cmp(&rc, &r8), -1);
	assert_int_equal(bazel_version_cmp(&r8, &rc), 1);
	struct bazel_version x = ver("10.0.0"), y = ver("9.2.0");
	assert_int_equal(bazel_version_cmp(&x, &y), 1);
}

/* Capability table: expected spelling (NULL absent) per version. */
struct cap_case {
	const char *version;
	enum bazel_cap cap;
	const char *flag; /* bazel_flag() */
	bool has;
};

static const struct cap_case cap_cases[] = {
	{ "4.2.3", CAP_CREDENTIAL_HELPER, NULL, false },
	{ "5.3.0", CAP_CREDENTIAL_HELPER, NULL, false },
	{ "5.4.0", CAP_CREDENTIAL_HELPER, "experimental_credential_helper", true },
	{ "5.4.1", CAP_CREDENTIAL_HELPER, "experimental_credential_helper", true },
	{ "6.5.0", CAP_CREDENTIAL_HELPER, "experimental_credential_helper", true },
	{ "7.0.0", CAP_CREDENTIAL_HELPER, "credential_helper", true },
	{ "7.0.0rc1", CAP_CREDENTIAL_HELPER, "credential_helper", true },
	{ "7.0.0-pre.20230517.4", CAP_CREDENTIAL_HELPER, "experimental_credential_helper", true },
	{ "9.2.0", CAP_CREDENTIAL_HELPER, "credential_helper", true },
	{ "no_version", CAP_CREDENTIAL_HELPER, NULL, false },
	{ "6.2.0", CAP_CREDENTIAL_HELPER_DOWNLOADS, NULL, false },
	{ "6.3.0", CAP_CREDENTIAL_HELPER_DOWNLOADS, NULL, true },
	{ "7.0.0", CAP_CREDENTIAL_HELPER_EXPIRES, NULL, false },
	{ "7.1.0", CAP_CREDENTIAL_HELPER_EXPIRES, NULL, true },
	{ "7.4.1", CAP_INJECT_REPOSITORY, NULL, false },
	{ "8.0.0", CAP_INJECT_REPOSITORY, "inject_repository", true },
	{ "8.0.0rc2", CAP_INJECT_REPOSITORY, "inject_repository", true },
	{ "4.2.3", CAP_OVERRIDE_REPOSITORY, "override_repository", true },
	{ "no_version", CAP_OVERRIDE_REPOSITORY, "override_repository", true },
	{ "4.2.3", CAP_DOWNLOADER_CONFIG, "experimental_downloader_config", true },
	{ "8.1.1", CAP_DOWNLOADER_CONFIG, "experimental_downloader_config", true },
	{ "8.2.0", CAP_DOWNLOADER_CONFIG, "downloader_config", true },
	{ "no_version", CAP_DOWNLOADER_CONFIG, "experimental_downloader_config", true },
	{ "4.2.3", CAP_EXECLOG_JSON, "execution_log_json_file", true },
	{ "9.2.0", CAP_EXECLOG_JSON, "execution_log_json_file", true },
	{ "7.0.0", CAP_EXECLOG_COMPACT, NULL, false },
	{ "7.1.0", CAP_EXECLOG_COMPACT, "experimental_execution_log_compact_file", true },
	{ "7.3.2", CAP_EXECLOG_COMPACT, "experimental_execution_log_compact_file", true },
	{ "7.4.0", CAP_EXECLOG_COMPACT, "execution_log_compact_file", true },
	{ "9.1.0", CAP_EXECLOG_ONE_FORMAT, NULL, false },
	{ "9.2.0", CAP_EXECLOG_ONE_FORMAT, NULL, true },
	{ "8.5.0", CAP_REMOTE_CACHE_FALLBACK, NULL, false },
	{ "8.5.1", CAP_REMOTE_CACHE_FALLBACK, "incompatible_remote_local_fallback_for_remote_cache", true },
	{ "9.0.0", CAP_REMOTE_CACHE_FALLBACK, "incompatible_remote_local_fallback_for_remote_cache", true },
	{ "6.2.0", CAP_CIRCUIT_BREAKER, NULL, false },
	{ "6.3.0", CAP_CIRCUIT_BREAKER, "experimental_circuit_breaker_strategy", true },
	{ "6.6.0", CAP_REPO_CANONICAL_ID, NULL, false },
	{ "7.0.0", CAP_REPO_CANONICAL_ID, NULL, true },
	{ "6.6.0", CAP_EXECLOG_CACHEHIT_KEY, NULL, false },
	{ "7.0.0", CAP_EXECLOG_CACHEHIT_KEY, "cacheHit", true },
	{ "6.6.0", CAP_REMOTE_CACHE_CHECK_BACKGROUND, NULL, false },
	{ "7.6.1", CAP_REMOTE_CACHE_CHECK_BACKGROUND, NULL, true },
	{ "8.0.0", CAP_REMOTE_CACHE_CHECK_BACKGROUND, NULL, false },
	{ "7.6.1", CAP_REMOTE_CACHE_FAIL_AT_ACTION, NULL, false },
	{ "8.0.0", CAP_REMOTE_CACHE_FAIL_AT_ACTION, NULL, true },
	{ "4.2.3", CAP_REPOSITORY_DISABLE_DOWNLOAD, "experimental_repository_disable_download", true },
	{ "4.0.0", CAP_REPOSITORY_DISABLE_DOWNLOAD, NULL, false },
	{ "7.0.0", CAP_REPOSITORY_DISABLE_DOWNLOAD, "repository_disable_download", true },
	{ "no_version", CAP_REPOSITORY_DISABLE_DOWNLOAD, NULL, false },
};

static void test_caps(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cap_cases) / sizeof(cap_cases[0]); i++) {
		const struct cap_case *t = &cap_cases[i];
		struct bazel_version v = ver(t->version);
		const char *f = bazel_flag(&v, t->cap);
		bool h = bazel_has(&v, t->cap);
		if (h != t->has || (t->flag ? !f || strcmp(f, t->flag) : f != NULL))
			fail_msg("case %zu (%s %s): has %d flag %s", i, t->version, bazel_cap_name(t->cap), h,
				 f ? f : "(null)");
	}
	struct bazel_version old = ver("6.6.0");
	assert_string_equal(bazel_spelling(&old, CAP_EXECLOG_CACHEHIT_KEY), "remoteCacheHit");
	assert_null(bazel_flag(NULL, CAP_INJECT_REPOSITORY));
	assert_string_equal(bazel_flag(NULL, CAP_EXECLOG_JSON), "execution_log_json_file");
	/* every capability has a name and at least one row */
	size_t n;
	const struct bazel_cap_row *rows = bazel_cap_table(&n);
	for (int c = 0; c < CAP__MAX; c++) {
		assert_string_not_equal(bazel_cap_name((enum bazel_cap)c), "unknown capability");
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any = any || rows[i].cap == (enum bazel_cap)c;
		assert_true(any);
	}
	/* rows of one capability do not overlap */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			if (rows[i].cap != rows[j].cap)
				continue;
			const struct bazel_cap_row *a = &rows[i], *b = &rows[j];
			long long amin = a->min_major * 1000000LL + a->min_minor * 1000 + a->min_patch;
			long long bmin = b->min_major * 1000000LL + b->min_minor * 1000 + b->min_patch;
			long long amax = a->max_major < 0 ? 1LL << 60 : a->max_major * 1000000LL + a->max_minor * 1000 + a->max_patch;
			long long bmax = b->max_major < 0 ? 1LL << 60 : b->max_major * 1000000LL + b->max_minor * 1000 + b->max_patch;
			assert_true(amax <= bmin || bmax <= amin);
		}
}

static void test_describe(void **state)
{
	(void)state;
	struct bazel_version v = ver("bazel 8.0.0rc2");
	v.source = BV_SRC_BINARY;
	snprintf(v.origin, sizeof(v.origin), "/usr/bin/bazel --version");
	char buf[512];
	bazel_version_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "8.0.0rc2 (from /usr/bin/bazel --version)");
	v = ver("bazel 6.0.0-pre.20220112.2");
	bazel_version_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "6.0.0-pre.20220112.2 (from none)");
	v = ver("bazel no_version");
	bazel_version_describe(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "oldest"));
	assert_non_null(strstr(buf, "no_version"));
}

/* ---- Bazelisk resolution ---------------------------------------------------- */

static char tmpdir[] = "/tmp/fw-bv-XXXXXX";

static void put(const char *rel, const char *content)
{
	char *p = fw_asprintf("%s/%s", tmpdir, rel);
	char *dir = strdup(p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0700), 0);
	assert_int_equal(write_file_atomic(p, content, strlen(content), 0600), 0);
	free(dir);
	free(p);
}

static void resolve(const char *cwd_rel, char **env, bool known, const char *expect, const char *origin_part)
{
	char *cwd = fw_asprintf("%s/%s", tmpdir, cwd_rel);
	struct bazel_version v;
	assert_int_equal(bazelisk_resolve(NULL, cwd, env, &v), 0);
	assert_int_equal(v.source, BV_SRC_BAZELISK);
	if (v.known != known)
		fail_msg("cwd %s: known %d origin %s", cwd_rel, v.known, v.origin);
	if (known) {
		char got[64];
		snprintf(got, sizeof(got), "%u.%u.%u%s", v.major, v.minor, v.patch, v.pre);
		assert_string_equal(got, expect);
	}
	if (!strstr(v.origin, origin_part))
		fail_msg("origin [%s] lacks [%s]", v.origin, origin_part);
	free(cwd);
}

static void test_bazelisk(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	char *home = fw_asprintf("HOME=%s/home", tmpdir);
	put("home/.keep", "");
	put("ws/MODULE.bazel", "");
	put("ws/.bazelversion", "7.4.1\n");
	put("ws/pkg/sub/BUILD", "");
	char *env0[] = { home, NULL };
	resolve("ws/pkg/sub", env0, true, "7.4.1", "ws/.bazelversion");
	resolve("ws", env0, true, "7.4.1", ".bazelversion");

	char *env1[] = { home, (char *)"USE_BAZEL_VERSION=8.0.0rc2", NULL };
	resolve("ws/pkg", env1, true, "8.0.0rc2", "USE_BAZEL_VERSION");
	char *env2[] = { (char *)"USE_BAZEL_VERSION=myorg/7.1.0", home, NULL };
	resolve("ws", env2, true, "7.1.0", "USE_BAZEL_VERSION");
	char *env3[] = { (char *)"USE_BAZEL_VERSION=latest", home, NULL };
	resolve("ws", env3, false, NULL, "download");
	char *env4[] = { (char *)"USE_BAZEL_VERSION=latest-1", home, NULL };
	resolve("ws", env4, false, NULL, "latest-1");
	char *env5[] = { (char *)"USE_BAZEL_VERSION=7.x", home, NULL };
	resolve("ws", env5, false, NULL, "7.x");

	/* .bazeliskrc in the workspace beats .bazelversion; home's is next */
	put("ws/.bazeliskrc", "# comment\nexport USE_BAZEL_VERSION=\"6.3.0\"\n");
	resolve("ws/pkg", env0, true, "6.3.0", "ws/.bazeliskrc");
	resolve("ws/pkg", env1, true, "8.0.0rc2", "USE_BAZEL_VERSION");
	put("ws/.bazeliskrc", "BAZELISK_BASE_URL=x\n");
	put("home/.bazeliskrc", "USE_BAZEL_VERSION=5.4.1\n");
	resolve("ws/pkg", env0, true, "5.4.1", "home/.bazeliskrc");
	put("home/.bazeliskrc", "\n");

	/* fork prefix in .bazelversion; only the first line counts */
	put("ws/.bazelversion", "someorg/9.1.0\nignored\n");
	resolve("ws", env0, true, "9.1.0", ".bazelversion");
	put("ws/.bazelversion", "latest\n");
	resolve("ws", env0, false, NULL, "latest");

	/* a nested workspace without .bazelversion stops the search */
	put("ws/inner/WORKSPACE", "");
	resolve("ws/inner", env0, false, NULL, "latest release");

	/* fallback version */
	char *env6[] = { home, (char *)"USE_BAZEL_FALLBACK_VERSION=silent:7.0.0", NULL };
	resolve("ws/inner", env6, true, "7.0.0", "USE_BAZEL_FALLBACK_VERSION");

	/* no workspace at all */
	put("nows/x", "");
	resolve("nows", env0, false, NULL, "latest release");
	free(home);
}

/* ---- docs/COMPATIBILITY.md --------------------------------------------------- */

static void test_compat_doc(void **state)
{
	(void)state;
	char *md = NULL;
	assert_int_equal(bazel_compat_markdown(&md), 0);
	assert_non_null(strstr(md, "| credential helper | 5.4.0 | 7.0.0 | yes | `experimental_credential_helper` |"));
	const char *src = getenv("FLYWHEEL_SRCDIR");
	if (!src)
		skip();
	char *path = fw_asprintf("%s/docs/COMPATIBILITY.md", src);
	const char *regen = getenv("FLYWHEEL_REGEN_COMPAT");
	if (regen && strcmp(regen, "1") == 0) {
		assert_int_equal(write_file_atomic(path, md, strlen(md), 0644), 0);
	} else {
		char *have = NULL;
		int r = read_small_file(path, 1 << 20, false, &have, NULL);
		if (r < 0)
			fail_msg("%s: cannot read (%d); run scripts/gen-compat.sh", path, r);
		if (strcmp(have, md) != 0)
			fail_msg("%s differs from the version table; run scripts/gen-compat.sh", path);
		free(have);
	}
	free(path);
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_bazelisk),
		cmocka_unit_test(test_compat_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
