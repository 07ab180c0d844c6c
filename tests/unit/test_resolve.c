/* test_resolve.c - c-ares resolution: /etc/hosts, literals, deadline, curl entries. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/resolve.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static void test_hosts_file_and_literals(void **state)
{
	struct resolve_query q[3] = {
		{ .host = "localhost", .port = 80 },
		{ .host = "127.0.0.1", .port = 81 },
		{ .host = "::1", .port = 82 },
	};
	struct fw_error err = { 0 };
	assert_int_equal(resolve_run(q, 3, now_ns() + 2000000000ull, &err), 0);
	assert_int_equal(q[0].status, 0); /* from /etc/hosts, no DNS server needed */
	assert_true(q[0].n >= 1);
	bool loop = false;
	for (size_t i = 0; i < q[0].n; i++)
		loop |= !strcmp(q[0].addrs[i], "127.0.0.1") || !strcmp(q[0].addrs[i], "::1");
	assert_true(loop);
	assert_true(q[1].literal && q[1].n == 1);
	assert_true(q[2].literal);

	char buf[256];
	assert_int_equal(resolve_curl_entry(&q[1], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "127.0.0.1:81:127.0.0.1");
	assert_int_equal(resolve_curl_entry(&q[2], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::1:82:[::1]");
	assert_int_equal(resolve_curl_entry(&q[1], buf, 8), -ENOSPC);
}

static void test_deadline(void **state)
{
	/* a name no hosts file has: whatever the network does, the deadline holds */
	struct resolve_query q = { .host = "no-such-host.flywheel-test.invalid", .port = 443 };
	struct fw_error err = { 0 };
	uint64_t t0 = now_ns();
	assert_int_equal(resolve_run(&q, 1, t0 + 300000000ull, &err), 0);
	uint64_t took = now_ns() - t0;
	assert_true(q.status < 0);
	assert_true(took < 3000000000ull); /* 300 ms budget; generous slack, never 30 s */
	assert_int_equal(resolve_curl_entry(&q, (char[64]){ 0 }, 64), -ENOENT);
	assert_int_equal(resolve_error(&q, "cache", 300, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_DNS);
	assert_non_null(strstr(err.what, "no-such-host"));
	assert_true(err.fix[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_file_and_literals),
		cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
