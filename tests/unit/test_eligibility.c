/* test_eligibility.c - manifest validation table, pattern coverage, decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/eligibility.h"
#include "flywheel/banned.h"

#define CLS(body) "{\"classes\": [" body "]}"
#define OK_CLASS "{\"name\":\"cc\",\"status\":\"proved\",\"labels\":[\"//examples/bazel/...\"],\"allowed_modes\":[\"cache\",\"executor\"]}"

static void test_validation_table(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *subject; /* substring of the error subject; NULL: valid */
		const char *what;    /* substring of the error text */
	} t[] = {
		{ CLS(OK_CLASS), NULL, NULL },
		{ "{\"schema\":\"rbe-target-eligibility/1\",\"classes\":[" OK_CLASS "],\"owner\":\"x\"}", NULL, NULL },
		{ "[]", "field \"(top level)\"", "not an object" },
		{ "{", "m.json:1", "" },
		{ "{\"classes\": []}", "field \"classes\"", "missing, empty" },
		{ "{\"schema\":\"other/1\",\"classes\":[" OK_CLASS "]}", "field \"schema\"", "not an rbe" },
		{ CLS("3"), "class #1 field \"classes\"", "not an object" },
		{ CLS("{\"status\":\"proved\"}"), "class #1 field \"name\"", "missing" },
		{ CLS("{\"name\":\"a b\",\"status\":\"proved\"}"), "class #1 field \"name\"", "not a valid class name" },
		{ CLS("{\"name\":\"x\",\"status\":\"proven\",\"labels\":[\"//a\"],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"status\"", "\"proven\" is not a status" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"labels\"", "missing or empty" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"foo:bar\"],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"labels\"", "not an absolute target pattern" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"//a/...:foo\"],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"labels\"", "not an absolute" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[7],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"labels\"", "entry 1 is not a string" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"//a\"]}"),
		  "class \"x\" field \"allowed_modes\"", "missing or empty" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"//a\"],\"allowed_modes\":[\"remote\"]}"),
		  "class \"x\" field \"allowed_modes\"", "\"remote\" is not a mode" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"//a\"],\"allowed_modes\":[\"cache\"],\"proof_required\":\"yes\"}"),
		  "class \"x\" field \"proof_required\"", "not a boolean" },
		{ CLS("{\"name\":\"x\",\"status\":\"blocked\",\"labels\":[\"//a\"],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"blockers\"", "missing for a blocked class" },
		{ CLS("{\"name\":\"x\",\"status\":\"candidate\",\"labels\":[\"//a\"],\"allowed_modes\":[\"cache\"]}"),
		  "class \"x\" field \"go_condition\"", "missing for a candidate class" },
		{ CLS("{\"name\":\"x\",\"status\":\"proved\",\"labels\":[\"//a\"],\"allowed_modes\":[\"cache\"],\"go_condition\":1}"),
		  "class \"x\" field \"go_condition\"", "not a string" },
		{ CLS(OK_CLASS "," OK_CLASS), "class \"cc\" field \"name\"", "used by class #1" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct elig_manifest m;
		eligibility_init(&m);
		struct fw_error err = { 0 };
		int r = eligibility_parse(t[i].json, strlen(t[i].json), "m.json", &m, &err);
		if (!t[i].subject) {
			if (r != 0)
				fail_msg("case %zu: %s: %s", i, err.subject, err.what);
			eligibility_release(&m);
			continue;
		}
		if (r == 0)
			fail_msg("case %zu accepted", i);
		if (!strstr(err.subject, t[i].subject) || !strstr(err.what, t[i].what))
			fail_msg("case %zu: got '%s' / '%s'", i, err.subject, err.what);
		assert_int_equal(err.exit_code, 65);
		assert_int_equal(m.n_classes, 0);
	}
}

static void test_pattern_covers(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		bool want;
	} t[] = {
		{ "//a/...", "//a/b:c", true },
		{ "//a/...", "//a:c", true },
		{ "//a/...", "//a/b/...", true },
		{ "//a/...", "//ab:c", false },
		{ "//...", "//x/y:z", true },
		{ "//...", "@r//x:z", false },
		{ "@r//...", "@@r//x:z", true },
		{ "@//a:b", "//a:b", true },
		{ "//a:all", "//a:b", true },
		{ "//a:*", "//a/b:c", false },
		{ "//a:all", "//a/...", false },
		{ "//a/b", "//a/b:b", true },
		{ "//a/b:b", "//a/b", true },
		{ "//a/b:c", "//a/b:d", false },
		{ "//a/b:c", "//a/...", false },
		{ "//a/b/...:all", "//a/b/c:d", true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (elig_pattern_covers(t[i].a, t[i].b) != t[i].want)
			fail_msg("case %zu: %s covers %s", i, t[i].a, t[i].b);
}

static const char *const manifest =
	"{\"schema\":\"rbe-target-eligibility/1\",\"classes\":["
	"{\"name\":\"cc\",\"status\":\"proved\",\"labels\":[\"//examples/bazel/...\"],"
	" \"allowed_modes\":[\"local\",\"cache\",\"executor\"],\"requirements\":[\"hermetic cc toolchain\"],"
	" \"proof_required\":true},"
	"{\"name\":\"net\",\"status\":\"blocked\",\"labels\":[\"//examples/bazel/net/...\"],"
	" \"allowed_modes\":[\"local\",\"cache\"],\"blockers\":[\"tests open sockets\"]},"
	"{\"name\":\"gen\",\"status\":\"candidate\",\"labels\":[\"//tools:gen\"],"
	" \"allowed_modes\":[\"cache\",\"executor\"],\"go_condition\":\"two accepted proofs\"},"
	"{\"name\":\"docs\",\"status\":\"proved\",\"labels\":[\"//docs:all\"],\"allowed_modes\":[\"cache\"]}"
	"]}";

static void decide(const struct elig_manifest *m, const char *const *targets, size_t n, bool want,
		   const char *target, const char *reason)
{
	struct elig_decision d;
	assert_int_equal(eligibility_check_targets(m, targets, n, &d), 0);
	if (d.eligible != want)
		fail_msg("%s: eligible=%d (%s: %s)", targets[0], d.eligible, d.target, d.reason);
	if (target)
		assert_string_equal(d.target, target);
	if (reason && !strstr(d.reason, reason))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason);
}

static void test_decisions(void **state)
{
	(void)state;
	struct elig_manifest m;
	eligibility_init(&m);
	struct fw_error err = { 0 };
	assert_int_equal(eligibility_parse(manifest, strlen(manifest), "e.json", &m, &err), 0);
	assert_int_equal(m.n_classes, 4);
	assert_non_null(eligibility_find_class(&m, "gen"));
	assert_null(eligibility_find_class(&m, "nope"));

	const char *ok[] = { "//examples/bazel:hello", "//examples/bazel/lib:util", "-//examples/bazel/net/..." };
	decide(&m, ok, 3, true, NULL, NULL);
	const char *blocked[] = { "//examples/bazel:hello", "//examples/bazel/net:client_test" };
	decide(&m, blocked, 2, false, "//examples/bazel/net:client_test", "class \"net\" is blocked: tests open sockets");
	/* a pattern that includes a blocked class is ineligible as a whole */
	const char *wide[] = { "//examples/bazel/..." };
	decide(&m, wide, 1, false, "//examples/bazel/...", "\"net\" is blocked");
	const char *cand[] = { "//tools:gen" };
	decide(&m, cand, 1, false, "//tools:gen", "candidate, not proved (go condition: two accepted proofs)");
	const char *cacheonly[] = { "//docs:index" };
	decide(&m, cacheonly, 1, false, "//docs:index", "does not allow executor mode");
	const char *unknown[] = { "//other:x" };
	decide(&m, unknown, 1, false, "//other:x", "not in any class of e.json");
	const char *rel[] = { "hello" };
	decide(&m, rel, 1, false, "hello", "not an absolute target pattern");
	const char *none[] = { "-//examples/bazel/..." };
	decide(&m, none, 1, false, NULL, "no target patterns");
	eligibility_release(&m);
}

static void test_example_file_is_valid(void **state)
{
	(void)state;
	const char *src = getenv("FLYWHEEL_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/examples/eligibility/rbe-target-eligibility.json", src ? src : ".");
	struct elig_manifest m;
	eligibility_init(&m);
	struct fw_error err = { 0 };
	if (eligibility_load(path, &m, &err) != 0)
		fail_msg("%s: %s", err.subject, err.what);
	assert_true(m.n_classes >= 3);
	eligibility_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation_table),
		cmocka_unit_test(test_pattern_covers),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_example_file_is_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
