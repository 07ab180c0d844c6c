/* test_verdict.c - the verdict cache: keys, TTLs, ownership, format. */
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

#include "flywheel/verdict.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static char base[] = "/tmp/fw-test-verdict.XXXXXX";
static char dir[300];

static int setup(void **state)
{
	if (!mkdtemp(base))
		return -1;
	snprintf(dir, sizeof(dir), "%s/cache/flywheel", base);
	return 0;
}

static int teardown(void **state)
{
	verdict_clear(dir);
	rmdir(dir);
	char p[320];
	snprintf(p, sizeof(p), "%s/cache", base);
	rmdir(p);
	rmdir(base);
	return 0;
}

static void test_keys(void **state)
{
	char a[VERDICT_KEY_HEX + 1], b[VERDICT_KEY_HEX + 1];
	verdict_key("grpc://h:1", "main", VERDICT_FOR_READ, "none", a);
	verdict_key("grpc://h:1", "main", VERDICT_FOR_READ, "none", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), VERDICT_KEY_HEX);
	verdict_key("grpc://h:1", "other", VERDICT_FOR_READ, "none", b);
	assert_string_not_equal(a, b);
	verdict_key("grpc://h:1", "main", VERDICT_FOR_UPLOAD, "none", b);
	assert_string_not_equal(a, b);
	verdict_key("grpc://h:1", "main", VERDICT_FOR_READ, "0123abcd", b);
	assert_string_not_equal(a, b);
	verdict_key("grpc://h:1", NULL, VERDICT_FOR_READ, "none", b);
	assert_string_not_equal(a, b);
}

static void test_store_lookup_ttl(void **state)
{
	struct fw_error err = { 0 };
	struct verdict v = { .state = VERDICT_HEALTHY, .latency_us = 1234, .stored = 1000000 };
	snprintf(v.url, sizeof(v.url), "grpc://h:1");
	snprintf(v.what, sizeof(v.what), "ok\nwith newline");
	assert_int_equal(verdict_store(dir, "k1", &v, &err), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	char p[400];
	snprintf(p, sizeof(p), "%s/verdict-k1", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	struct verdict got;
	assert_int_equal(verdict_lookup(dir, "k1", 300, 1000000 + 299, &got), 1);
	assert_int_equal(got.state, VERDICT_HEALTHY);
	assert_int_equal(got.latency_us, 1234);
	assert_string_equal(got.what, "ok with newline");
	assert_int_equal(verdict_lookup(dir, "k1", 300, 1000000 + 300, &got), 0);
	assert_int_equal(got.state, VERDICT_MISS);
	assert_int_equal(verdict_lookup(dir, "k1", 300, 1000000 - 100, &got), 0); /* from the future */

	struct verdict f = { .state = VERDICT_FAILED, .cls = FW_CLASS_TLS, .stored = 2000000 };
	snprintf(f.what, sizeof(f.what), "server certificate has expired");
	snprintf(f.fix, sizeof(f.fix), "renew it");
	assert_int_equal(verdict_store(dir, "k2", &f, &err), 0);
	assert_int_equal(verdict_lookup(dir, "k2", 300, 2000000 + 29, &got), 1);
	assert_int_equal(got.cls, FW_CLASS_TLS);
	assert_string_equal(got.fix, "renew it");
	assert_int_equal(verdict_lookup(dir, "k2", 300, 2000000 + 30, &got), 0);

	/* real clock */
	struct verdict now = { .state = VERDICT_HEALTHY };
	assert_int_equal(verdict_store(dir, "k3", &now, &err), 0);
	assert_int_equal(verdict_lookup(dir, "k3", 300, 0, &got), 1);
	assert_int_equal(verdict_lookup(dir, "missing", 300, 0, &got), 0);
}

static void test_untrusted_files(void **state)
{
	struct fw_error err = { 0 };
	struct verdict v = { .state = VERDICT_HEALTHY };
	assert_int_equal(verdict_store(dir, "k4", &v, &err), 0);
	char p[400];
	snprintf(p, sizeof(p), "%s/verdict-k4", dir);
	struct verdict got;
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(verdict_lookup(dir, "k4", 300, 0, &got), 0); /* others could have written it */
	const char *bad[] = {
		"garbage\n",
		"flywheel-verdict 1\nstate healthy\nclass none\n",                   /* no stored */
		"flywheel-verdict 1\nstate healthy\nstored 1\nclass tls\n",          /* healthy with a class */
		"flywheel-verdict 1\nstate maybe\nstored 1\nclass none\n",
		"flywheel-verdict 1\nstate failed\nstored x\nclass tls\n",
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		assert_int_equal(write_file_atomic(p, bad[i], strlen(bad[i]), 0600), 0);
		assert_int_equal(verdict_lookup(dir, "k4", 300, 2, &got), 0);
	}
	const char *good = "flywheel-verdict 1\nstate failed\nstored 1\nclass connect\nnewer_key x\n";
	assert_int_equal(write_file_atomic(p, good, strlen(good), 0600), 0);
	assert_int_equal(verdict_lookup(dir, "k4", 300, 2, &got), 1);
	assert_int_equal(got.cls, FW_CLASS_CONNECT);
}

static void test_dir(void **state)
{
	char *d = NULL;
	char *env1[] = { "XDG_CACHE_HOME=/x/c", "HOME=/h", NULL };
	assert_int_equal(verdict_dir(env1, &d), 0);
	assert_string_equal(d, "/x/c/flywheel");
	free(d);
	char *env2[] = { "XDG_CACHE_HOME=relative", "HOME=/h", NULL };
	assert_int_equal(verdict_dir(env2, &d), 0);
	assert_string_equal(d, "/h/.cache/flywheel");
	free(d);
	char *env3[] = { NULL };
	assert_int_equal(verdict_dir(env3, &d), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys), cmocka_unit_test(test_store_lookup_ttl),
		cmocka_unit_test(test_untrusted_files), cmocka_unit_test(test_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
