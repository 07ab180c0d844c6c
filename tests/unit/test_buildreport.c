/* test_buildreport.c - Bazel's process summary, the report line and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "flywheel/buildreport.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static void test_parse_summary(void **state)
{
	(void)state;
	struct buildreport_counts c;
	const char *s1 = "INFO: Analyzed target //:b (4 packages loaded).\n"
			 "INFO: 3 processes: 1 internal, 2 linux-sandbox.\n"
			 "INFO: Build completed successfully, 3 total actions\n";
	buildreport_parse_summary(s1, strlen(s1), &c);
	assert_true(c.found);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.internal, 1);
	assert_int_equal(c.by_class[EXECLOG_LOCAL], 2);
	const char *s2 = "\033[32mINFO: \033[0m10 processes: 2 remote cache hit, 4 internal, 4 remote.\n";
	buildreport_parse_summary(s2, strlen(s2), &c);
	assert_true(c.found);
	assert_int_equal(c.total, 10);
	assert_int_equal(c.by_class[EXECLOG_REMOTE_CACHE_HIT], 2);
	assert_int_equal(c.by_class[EXECLOG_REMOTE], 4);
	const char *s3 = "INFO: 1 process: 1 internal.\nINFO: 0 processes.\n";
	buildreport_parse_summary(s3, strlen(s3), &c);
	assert_true(c.found);
	assert_int_equal(c.total, 0);
	const char *s4 = "ERROR: build failed\n";
	buildreport_parse_summary(s4, strlen(s4), &c);
	assert_false(c.found);
}

static void test_report(void **state)
{
	(void)state;
	const char *tail = "INFO: 6 processes: 1 remote cache hit, 2 internal, 3 linux-sandbox.\n";
	struct buildreport_input in = {
		.mode = "cache", .endpoint = "grpc://cache:9092", .exit_status = 0, .attempts = 1,
		.elapsed_ms = 45000, .stderr_tail = tail, .stderr_tail_len = strlen(tail),
	};
	struct buildreport r;
	buildreport_build(&in, &r);
	assert_true(r.have_rate);
	assert_true(r.slow);
	assert_string_equal(r.likely_reason, "cache misses: 3 of 4 spawns ran");
	assert_non_null(strstr(r.summary, "mode cache (grpc://cache:9092), 6 processes, 1 remote cache hit, 3 local"));
	assert_non_null(strstr(r.summary, "remote cache hit rate 25%"));
	in.fallback_reason = "grpc://cache:9092: connection refused (connect)";
	buildreport_build(&in, &r);
	assert_non_null(strstr(r.likely_reason, "remote unusable, built locally"));
	in.fallback_reason = NULL;
	in.quota_wait_ms = 4000;
	in.attempts = 3;
	buildreport_build(&in, &r);
	assert_string_equal(r.likely_reason, "waited 4.0 s for remote quota");
	in.elapsed_ms = 100;
	buildreport_build(&in, &r);
	assert_false(r.slow);
	assert_string_equal(r.likely_reason, "");
	_cleanup_free_ char *text = buildreport_json(&in, &r);
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "flywheel-status/1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "actions"), "local")), 3);
	assert_true(json_real_value(json_object_get(j, "remote_cache_hit_rate")) > 0.24);
	assert_true(json_is_null(json_object_get(j, "likely_reason")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_summary),
		cmocka_unit_test(test_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
