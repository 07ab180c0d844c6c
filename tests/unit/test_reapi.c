/* test_reapi.c - GetCapabilities bytes: framing, decoding, checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/reapi.h"
#include "reapi_min.pb-c.h"
#include "flywheel/banned.h"

/* A ServerCapabilities as RemoteWorker answers it, packed with protobuf-c. */
static size_t make_caps(uint8_t *buf, bool ac, bool exec, int digest, int high_major)
{
	Build__Bazel__Remote__Execution__V2__ActionCacheUpdateCapabilities acu =
		BUILD__BAZEL__REMOTE__EXECUTION__V2__ACTION_CACHE_UPDATE_CAPABILITIES__INIT;
	Build__Bazel__Remote__Execution__V2__CacheCapabilities cc = BUILD__BAZEL__REMOTE__EXECUTION__V2__CACHE_CAPABILITIES__INIT;
	Build__Bazel__Remote__Execution__V2__ExecutionCapabilities ec =
		BUILD__BAZEL__REMOTE__EXECUTION__V2__EXECUTION_CAPABILITIES__INIT;
	Build__Bazel__Remote__Execution__V2__SemVer lo = BUILD__BAZEL__REMOTE__EXECUTION__V2__SEM_VER__INIT;
	Build__Bazel__Remote__Execution__V2__SemVer hi = BUILD__BAZEL__REMOTE__EXECUTION__V2__SEM_VER__INIT;
	Build__Bazel__Remote__Execution__V2__ServerCapabilities sc = BUILD__BAZEL__REMOTE__EXECUTION__V2__SERVER_CAPABILITIES__INIT;
	Build__Bazel__Remote__Execution__V2__DigestFunctionValue d[1] = { (Build__Bazel__Remote__Execution__V2__DigestFunctionValue)digest };
	acu.update_enabled = ac;
	cc.n_digest_functions = 1;
	cc.digest_functions = d;
	cc.action_cache_update_capabilities = &acu;
	ec.digest_function = (Build__Bazel__Remote__Execution__V2__DigestFunctionValue)digest;
	ec.exec_enabled = exec;
	lo.major = 2;
	hi.major = high_major;
	sc.cache_capabilities = &cc;
	sc.execution_capabilities = &ec;
	sc.low_api_version = &lo;
	sc.high_api_version = &hi;
	return build__bazel__remote__execution__v2__server_capabilities__pack(&sc, buf);
}

static void test_request_framing(void **state)
{
	uint8_t *b = NULL;
	size_t n = 0;
	assert_int_equal(reapi_caps_request("main", &b, &n), 0);
	/* 0x00, length 6, field 1 (0x0a) length 4 "main" */
	const uint8_t want[] = { 0, 0, 0, 0, 6, 0x0a, 4, 'm', 'a', 'i', 'n' };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	free(b);
	assert_int_equal(reapi_caps_request(NULL, &b, &n), 0);
	assert_int_equal(n, 5);
	free(b);
	char big[REAPI_INSTANCE_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(reapi_caps_request(big, &b, &n), -EINVAL);
}

static void test_unframe(void **state)
{
	const uint8_t *m;
	size_t ml;
	const uint8_t ok[] = { 0, 0, 0, 0, 2, 0x08, 0x01 };
	assert_int_equal(reapi_unframe(ok, sizeof(ok), &m, &ml), 0);
	assert_int_equal(ml, 2);
	assert_ptr_equal(m, ok + 5);
	const uint8_t short_[] = { 0, 0, 0, 0, 9, 1 };
	assert_int_equal(reapi_unframe(short_, sizeof(short_), &m, &ml), -EPROTO);
	const uint8_t comp[] = { 1, 0, 0, 0, 0 };
	assert_int_equal(reapi_unframe(comp, sizeof(comp), &m, &ml), -EPROTO);
	const uint8_t huge[] = { 0, 0x7f, 0, 0, 0 };
	assert_int_equal(reapi_unframe(huge, sizeof(huge), &m, &ml), -EFBIG);
	assert_int_equal(reapi_unframe(ok, 3, &m, &ml), -EPROTO);
}

static void test_decode_and_check(void **state)
{
	uint8_t buf[256];
	struct reapi_caps c;
	struct fw_error err = { 0 };
	size_t n = make_caps(buf, true, true, 1, 2);
	assert_int_equal(reapi_caps_decode(buf, n, &c), 0);
	assert_true(c.cache_sha256 && c.ac_update && c.exec_enabled && c.exec_sha256);
	assert_int_equal(c.low_api.major, 2);
	assert_int_equal(reapi_caps_check(&c, true, true, "s", &err), 0);

	n = make_caps(buf, false, false, 1, 2);
	assert_int_equal(reapi_caps_decode(buf, n, &c), 0);
	assert_int_equal(reapi_caps_check(&c, false, false, "s", &err), 0);
	assert_int_equal(reapi_caps_check(&c, false, true, "s", &err), -1);
	assert_int_equal(err.cls, FW_CLASS_CAPABILITIES);
	assert_non_null(strstr(err.what, "action cache"));
	fw_error_clear(&err);
	assert_int_equal(reapi_caps_check(&c, true, false, "s", &err), -1);
	assert_non_null(strstr(err.what, "execution is not enabled"));

	fw_error_clear(&err);
	n = make_caps(buf, true, true, 2 /* SHA1 */, 2);
	assert_int_equal(reapi_caps_decode(buf, n, &c), 0);
	assert_int_equal(reapi_caps_check(&c, false, false, "s", &err), -1);
	assert_non_null(strstr(err.what, "SHA256"));

	fw_error_clear(&err);
	n = make_caps(buf, true, true, 1, 1);
	assert_int_equal(reapi_caps_decode(buf, n, &c), 0);
	assert_int_equal(reapi_caps_check(&c, false, false, "s", &err), -1);
	assert_non_null(strstr(err.what, "2.x"));
}

static void test_decode_garbage(void **state)
{
	struct reapi_caps c;
	/* every prefix and a few corruptions of a valid message: no crash, no
	 * success on broken wire data */
	uint8_t buf[256];
	size_t n = make_caps(buf, true, true, 1, 2);
	for (size_t i = 0; i < n; i++) {
		(void)reapi_caps_decode(buf, i, &c);
		uint8_t copy[256];
		memcpy(copy, buf, n);
		copy[i] ^= 0xff;
		(void)reapi_caps_decode(copy, n, &c);
	}
	const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(reapi_caps_decode(junk, sizeof(junk), &c), -EPROTO);
}

static void test_metadata(void **state)
{
	char *a = NULL, *b = NULL;
	assert_int_equal(reapi_metadata_header("1.0", &a), 0);
	assert_int_equal(reapi_metadata_header("1.0", &b), 0);
	assert_true(strlen(a) > 20);
	assert_string_not_equal(a, b); /* a fresh invocation id each time */
	for (const char *p = a; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", *p));
	free(a);
	free(b);
	assert_string_equal(grpc_code_name(16), "UNAUTHENTICATED");
	assert_string_equal(grpc_code_name(7), "PERMISSION_DENIED");
	assert_string_equal(grpc_code_name(99), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_framing), cmocka_unit_test(test_unframe),
		cmocka_unit_test(test_decode_and_check), cmocka_unit_test(test_decode_garbage),
		cmocka_unit_test(test_metadata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
