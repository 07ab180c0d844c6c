/* test_endpoint.c - endpoint URLs, instance names, denylist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "flywheel/endpoint.h"

static const struct {
	const char *url;
	unsigned allowed;
	enum ep_error want;
	const char *host;
	unsigned port;
	bool tls, loopback;
} cases[] = {
	{ "grpcs://cache.example.com", EP_CACHE_SCHEMES, EP_OK, "cache.example.com", 443, true, false },
	{ "grpcs://cache.example.com:8980", EP_CACHE_SCHEMES, EP_OK, "cache.example.com", 8980, true, false },
	{ "grpc://10.1.2.3:9092", EP_CACHE_SCHEMES, EP_OK, "10.1.2.3", 9092, false, false },
	{ "grpc://[2001:db8::1]:9092", EP_CACHE_SCHEMES, EP_OK, "2001:db8::1", 9092, false, false },
	{ "grpc://[::1]:9092", EP_CACHE_SCHEMES, EP_OK, "::1", 9092, false, true },
	{ "http://127.0.0.1:8080/cache", EP_CACHE_SCHEMES, EP_OK, "127.0.0.1", 8080, false, true },
	{ "http://127.8.9.10/cache", EP_CACHE_SCHEMES, EP_OK, "127.8.9.10", 80, false, true },
	{ "https://localhost/cache", EP_CACHE_SCHEMES, EP_OK, "localhost", 443, true, true },
	{ "https://LOCALHOST./c", EP_CACHE_SCHEMES, EP_OK, "LOCALHOST.", 443, true, true },
	{ "https://a.localhost/c", EP_CACHE_SCHEMES, EP_OK, "a.localhost", 443, true, true },
	{ "grpc://[::ffff:127.0.0.1]:1", EP_CACHE_SCHEMES, EP_OK, "::ffff:127.0.0.1", 1, false, true },
	{ "GRPCS://Cache.Example.com/", EP_CACHE_SCHEMES, EP_OK, "Cache.Example.com", 443, true, false },
	{ "unix:/run/cache.sock", EP_CACHE_SCHEMES, EP_OK, NULL, 0, false, true },
	{ "unix:///run/cache.sock", EP_EXEC_SCHEMES, EP_OK, NULL, 0, false, true },
	{ "", EP_CACHE_SCHEMES, EP_E_EMPTY, NULL, 0, false, false },
	{ "ftp://cache", EP_CACHE_SCHEMES, EP_E_SCHEME, NULL, 0, false, false },
	{ "cache.example.com:443", EP_CACHE_SCHEMES, EP_E_SCHEME, NULL, 0, false, false },
	{ "https://cache", EP_EXEC_SCHEMES, EP_E_SCHEME_ROLE, NULL, 0, false, false },
	{ "http://cache", EP_EXEC_SCHEMES, EP_E_SCHEME_ROLE, NULL, 0, false, false },
	{ "grpcs://user:pw@cache", EP_CACHE_SCHEMES, EP_E_USERINFO, NULL, 0, false, false },
	{ "https://token@cache/x", EP_CACHE_SCHEMES, EP_E_USERINFO, NULL, 0, false, false },
	{ "grpcs://${CACHE_HOST}", EP_CACHE_SCHEMES, EP_E_PLACEHOLDER, NULL, 0, false, false },
	{ "grpcs://cache}", EP_CACHE_SCHEMES, EP_E_PLACEHOLDER, NULL, 0, false, false },
	{ "grpcs://$(hostname)", EP_CACHE_SCHEMES, EP_E_PLACEHOLDER, NULL, 0, false, false },
	{ "grpcs://cache:0", EP_CACHE_SCHEMES, EP_E_PORT, NULL, 0, false, false },
	{ "grpcs://cache:65536", EP_CACHE_SCHEMES, EP_E_PORT, NULL, 0, false, false },
	{ "grpcs://cache:-1", EP_CACHE_SCHEMES, EP_E_PORT, NULL, 0, false, false },
	{ "grpcs://cache:44a", EP_CACHE_SCHEMES, EP_E_PORT, NULL, 0, false, false },
	{ "grpcs://cache:", EP_CACHE_SCHEMES, EP_E_PORT, NULL, 0, false, false },
	{ "grpcs://ca_che", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://-cache", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://cache..x", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://[::1", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://[nothex]:1", EP_CACHE_SCHEMES, EP_E_HOST, NULL, 0, false, false },
	{ "grpcs://cache/instance", EP_CACHE_SCHEMES, EP_E_PATH, NULL, 0, false, false },
	{ "https://cache/a/../b", EP_CACHE_SCHEMES, EP_E_PATH, NULL, 0, false, false },
	{ "unix:relative.sock", EP_CACHE_SCHEMES, EP_E_PATH, NULL, 0, false, false },
	{ "unix:/run/../etc/x", EP_CACHE_SCHEMES, EP_E_PATH, NULL, 0, false, false },
	{ "https://cache/x?token=1", EP_CACHE_SCHEMES, EP_E_QUERY, NULL, 0, false, false },
	{ "https://cache/x#frag", EP_CACHE_SCHEMES, EP_E_QUERY, NULL, 0, false, false },
	{ "https://cache /x", EP_CACHE_SCHEMES, EP_E_SPACE, NULL, 0, false, false },
	{ "https://cache\n", EP_CACHE_SCHEMES, EP_E_SPACE, NULL, 0, false, false },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct endpoint ep = { 0 };
		enum ep_error e = endpoint_parse(cases[i].url, cases[i].allowed, &ep);
		if (e != cases[i].want)
			fail_msg("case %zu '%s': got %s want %s", i, cases[i].url, ep_error_text(e),
				 ep_error_text(cases[i].want));
		if (e == EP_OK) {
			if (cases[i].host)
				assert_string_equal(ep.host, cases[i].host);
			assert_int_equal(ep.port, cases[i].port);
			assert_int_equal(ep.tls, cases[i].tls);
			if (ep.loopback != cases[i].loopback)
				fail_msg("case %zu '%s': loopback %d", i, cases[i].url, ep.loopback);
			endpoint_release(&ep);
		} else {
			assert_null(ep.url); /* untouched on failure */
			assert_true(strlen(ep_error_fix(e)) > 0);
		}
	}
}

static void test_too_long(void **state)
{
	char url[EP_URL_MAX + 16];
	memset(url, 'a', sizeof(url));
	memcpy(url, "https://", 8);
	url[sizeof(url) - 1] = '\0';
	struct endpoint ep = { 0 };
	assert_int_equal(endpoint_parse(url, EP_CACHE_SCHEMES, &ep), EP_E_TOO_LONG);
}

static void test_denylist(void **state)
{
	char *deny[] = { "old-cache.example.com", "cache.example.com:9092", "*.retired.example" };
	struct {
		const char *url;
		bool denied;
	} t[] = {
		{ "grpcs://old-cache.example.com", true },
		{ "grpcs://OLD-CACHE.example.com:443", true },
		{ "grpc://cache.example.com:9092", true },
		{ "grpc://cache.example.com:9093", false },
		{ "grpcs://a.retired.example", true },
		{ "grpcs://retired.example", false },
		{ "grpcs://new-cache.example.com", false },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct endpoint ep;
		assert_int_equal(endpoint_parse(t[i].url, EP_CACHE_SCHEMES, &ep), EP_OK);
		if (endpoint_denied(&ep, deny, 3) != t[i].denied)
			fail_msg("denylist case %zu '%s'", i, t[i].url);
		endpoint_release(&ep);
	}
}

static void test_instance_names(void **state)
{
	const char *ok[] = { "main", "projects/x/instances/default", "a.b_c-d", "A9" };
	const char *bad[] = { "", "a..b", "../x", "/abs", "trail/", "a//b", "sp ace", "a$b", "ü", "a\\b" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_null(instance_name_problem(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!instance_name_problem(bad[i]))
			fail_msg("instance name '%s' accepted", bad[i]);
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	longname[299] = '\0';
	assert_non_null(instance_name_problem(longname));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_denylist),
		cmocka_unit_test(test_instance_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
