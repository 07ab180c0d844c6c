/* test_credhelper.c - the credential-helper protocol answered from config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/credhelper.h"
#include "flywheel/banned.h"

static void test_parse_request(void **state)
{
	char *uri = NULL;
	const char *ok = "{\"uri\": \"grpcs://cache.example:443\"}";
	assert_int_equal(credhelper_parse_request(ok, strlen(ok), &uri), 0);
	assert_string_equal(uri, "grpcs://cache.example:443");
	free(uri);
	const char *bad[] = { "", "[]", "{}", "{\"uri\": 3}", "{\"uri\": \"\"}", "{\"uri\": \"a\\u0000b\"}",
			      "{\"uri\": \"a\", \"uri\": \"b\"}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(credhelper_parse_request(bad[i], strlen(bad[i]), &uri), -EINVAL);
}

static void load(struct config *c, char **env)
{
	struct fw_error err = { 0 };
	config_init(c);
	struct config_opts o = { .envp = env, .cwd = "/", .no_user_file = true };
	assert_int_equal(config_load(c, &o, &err), 0);
}

static void test_roles_and_scoping(void **state)
{
	char *env[] = { "BAZEL_REMOTE_CACHE=https://cache.example/c,grpcs://c2.example:8980",
			"BAZEL_REMOTE_EXECUTOR=grpcs://rbe.example", "HOME=/nonexistent", NULL };
	struct config c;
	load(&c, env);
	assert_int_equal(credhelper_uri_roles(&c, "https://cache.example/c/ac/abc"), 1);
	assert_int_equal(credhelper_uri_roles(&c, "https://CACHE.example:443/other"), 1);
	assert_int_equal(credhelper_uri_roles(&c, "grpcs://c2.example:8980"), 1);
	assert_int_equal(credhelper_uri_roles(&c, "grpcs://c2.example"), 0); /* other port */
	assert_int_equal(credhelper_uri_roles(&c, "grpcs://rbe.example:443"), 3);
	assert_int_equal(credhelper_uri_roles(&c, "https://github.com/x.tar.gz"), 0);
	/* ambiguous userinfo: no credentials rather than a guess */
	assert_int_equal(credhelper_uri_roles(&c, "https://user@evil.example@cache.example/"), 0);
	assert_int_equal(credhelper_uri_roles(&c, "https://user@cache.example/"), 1);
	assert_int_equal(credhelper_uri_roles(&c, "https://cache.example.evil.example/"), 0);
	config_release(&c);
}

static void test_response(void **state)
{
	struct auth a;
	struct fw_error err = { 0 };
	auth_init(&a);
	assert_int_equal(auth_add_bearer(&a, "tok\"en", "s", &err), 0);
	assert_int_equal(auth_add_header_line(&a, "X-Exec=e", AUTH_SCOPE_EXEC, "s", &err), 0);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(credhelper_response(&a, 1, &out, &len), 0);
	assert_string_equal(out, "{\"headers\":{\"Authorization\":[\"Bearer tok\\\"en\"]}}\n");
	assert_int_equal(len, strlen(out));
	auth_secret_free(out);
	assert_int_equal(credhelper_response(&a, 3, &out, &len), 0);
	assert_non_null(strstr(out, "\"X-Exec\":[\"e\"]"));
	auth_secret_free(out);
	assert_int_equal(credhelper_response(&a, 0, &out, &len), 0);
	assert_string_equal(out, "{\"headers\":{}}\n");
	auth_secret_free(out);
	auth_release(&a);
}

static void test_load_config(void **state)
{
	char *env[] = { "BAZEL_REMOTE_CACHE=grpcs://c.example", "GF_REAPI_CREDENTIAL_HELPER_TOKEN=t0k",
			"BAZEL_REMOTE_CACHE_HEADER=X-C=1", "HOME=/nonexistent", NULL };
	struct config c;
	load(&c, env);
	struct auth a;
	struct fw_error err = { 0 };
	auth_init(&a);
	assert_int_equal(auth_load_config(&c, NULL, &a, &err), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(auth_count_for(&a, AUTH_SCOPE_EXEC), 1);
	char k1[VERDICT_KEY_HEX + 1], k2[VERDICT_KEY_HEX + 1];
	assert_int_equal(auth_verdict_key(&c, "grpcs://c.example", NULL, 0, AUTH_SCOPE_CACHE, k1, &err), 0);
	assert_int_equal(auth_verdict_key(&c, "grpcs://c.example", NULL, 0, AUTH_SCOPE_EXEC, k2, &err), 0);
	assert_string_not_equal(k1, k2);
	auth_release(&a);
	config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_request), cmocka_unit_test(test_roles_and_scoping),
		cmocka_unit_test(test_response), cmocka_unit_test(test_load_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
