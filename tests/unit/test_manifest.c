/* test_manifest.c - flywheel-inputs/1 parsing, validation and deterministic writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/manifest.h"
#include "flywheel/banned.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEAD "{\"schema\":\"flywheel-inputs/1\",\"version\":3,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":["
#define ENTRY(name, sha, size, urls) "{\"name\":\"" name "\",\"sha256\":\"" sha "\",\"size\":" #size ",\"urls\":[" urls "]}"
#define U1 "\"https://m.example/a\""

static int parse(const char *text, struct manifest *m, struct fw_error *e)
{
	fw_error_clear(e);
	manifest_init(m);
	return manifest_parse(text, strlen(text), "test.json", m, e);
}

static void test_valid(void **state)
{
	(void)state;
	struct manifest m;
	struct fw_error e;
	const char *t = HEAD ENTRY("b.tar.gz", SHA_B, 10, U1 ",\"http://up.example/b.tar.gz\"") ","
		"{\"name\":\"a.zip\",\"sha256\":\"" SHA_A "\",\"size\":0,\"urls\":[" U1 "],"
		"\"status\":\"deferred\",\"canonical_urls\":[\"https://up.example/a.zip\"]}]}";
	assert_int_equal(parse(t, &m, &e), 0);
	assert_int_equal(m.version, 3);
	assert_int_equal(m.expires, 1893456000);
	assert_int_equal(m.n_inputs, 2);
	/* sorted by name */
	assert_string_equal(m.inputs[0].name, "a.zip");
	assert_int_equal(m.inputs[0].status, INPUT_DEFERRED);
	assert_string_equal(manifest_rule_urls(&m.inputs[0])->v[0], "https://up.example/a.zip");
	assert_string_equal(m.inputs[1].name, "b.tar.gz");
	assert_int_equal(m.inputs[1].status, INPUT_REQUIRED);
	assert_int_equal(m.inputs[1].urls.n, 2);
	assert_ptr_equal(manifest_rule_urls(&m.inputs[1]), &m.inputs[1].urls);
	assert_int_equal(m.inputs[1].size, 10);
	manifest_release(&m);
}

struct bad_case {
	const char *text;
	const char *in_subject; /* substring expected in the error subject */
	const char *in_what;    /* substring expected in the error text */
};

static const struct bad_case bad_cases[] = {
	{ "{", "test.json", "not valid JSON" },
	{ "[]", "test.json", "not a JSON object" },
	{ "{\"schema\":\"flywheel-inputs/2\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":[]}", "test.json", "schema" },
	{ "{\"schema\":\"flywheel-inputs/1\",\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":[]}", "test.json", "version" },
	{ "{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-01-01\",\"inputs\":[]}", "test.json", "expires" },
	{ "{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-02-30T00:00:00Z\",\"inputs\":[]}", "test.json", "expires" },
	{ "{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":[],\"x\":1}", "test.json", "unknown top-level" },
	{ "{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"version\":2,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":[]}", "test.json", "JSON" },
	{ HEAD ENTRY("../evil", SHA_A, 1, U1) "]}", "inputs[0]", "name starts with" },
	{ HEAD ENTRY("x..y", SHA_A, 1, U1) "]}", "inputs[0]", "contains '..'" },
	{ HEAD ENTRY("..", SHA_A, 1, U1) "]}", "inputs[0]", "starts with" },
	{ HEAD ENTRY(".hidden", SHA_A, 1, U1) "]}", "inputs[0]", "starts with '.'" },
	{ HEAD ENTRY("a/b", SHA_A, 1, U1) "]}", "inputs[0]", "path separator" },
	{ HEAD ENTRY("a b.tgz", SHA_A, 1, U1) "]}", "inputs[0]", "a space or a character" },
	{ HEAD ENTRY("x$(id).tgz", SHA_A, 1, U1) "]}", "inputs[0]", "a space or a character" },
	{ HEAD ENTRY("x;rm.tgz", SHA_A, 1, U1) "]}", "inputs[0]", "a space or a character" },
	{ HEAD ENTRY("x", SHA_A, 1, "\"https://${MIRROR}/x\"") "]}", "\"x\"", "placeholder" },
	{ HEAD ENTRY("", SHA_A, 1, U1) "]}", "inputs[0]", "empty" },
	{ HEAD ENTRY("x", "ABCD", 1, U1) "]}", "\"x\"", "sha256" },
	{ HEAD ENTRY("x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1, U1) "]}", "\"x\"", "lower-case" },
	{ HEAD ENTRY("x", SHA_A, -1, U1) "]}", "\"x\"", "size" },
	{ HEAD ENTRY("x", SHA_A, 1, ) "]}", "\"x\"", "urls" },
	{ HEAD ENTRY("x", SHA_A, 1, "\"ftp://a/b\"") "]}", "\"x\"", "not an http" },
	{ HEAD ENTRY("x", SHA_A, 1, "\"https://u:p@a/b\"") "]}", "\"x\"", "user information" },
	{ HEAD ENTRY("x", SHA_A, 1, "\"https://a/b c\"") "]}", "\"x\"", "space" },
	{ HEAD ENTRY("x", SHA_A, 1, U1 "," U1) "]}", "\"x\"", "twice" },
	{ HEAD ENTRY("x", SHA_A, 1, U1) "," ENTRY("x", SHA_B, 2, U1) "]}", "\"x\"", "listed twice" },
	{ HEAD "{\"name\":\"x\",\"sha256\":\"" SHA_A "\",\"size\":1,\"urls\":[" U1 "],\"status\":\"maybe\"}]}", "\"x\"", "status" },
	{ HEAD "{\"name\":\"x\",\"sha256\":\"" SHA_A "\",\"size\":1,\"urls\":[" U1 "],\"strip\":1}]}", "\"x\"", "unknown field" },
	{ HEAD "{\"name\":\"x\",\"sha256\":\"" SHA_A "\",\"size\":1}]}", "\"x\"", "urls" },
	{ HEAD "7]}", "inputs[0]", "not an object" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct manifest m;
		struct fw_error e;
		int r = parse(bad_cases[i].text, &m, &e);
		if (r == 0)
			fail_msg("case %zu parsed: %s", i, bad_cases[i].text);
		if (!strstr(e.subject, bad_cases[i].in_subject) || !strstr(e.what, bad_cases[i].in_what))
			fail_msg("case %zu: got \"%s: %s\", want subject ~%s what ~%s", i, e.subject, e.what,
				 bad_cases[i].in_subject, bad_cases[i].in_what);
		assert_int_equal(e.exit_code, FW_EX_DATAERR);
		assert_int_equal(m.n_inputs, 0);
	}
}

static void test_roundtrip_deterministic(void **state)
{
	(void)state;
	struct manifest m;
	struct fw_error e;
	const char *t = HEAD ENTRY("z", SHA_B, 5, U1) "," ENTRY("a", SHA_A, 7, "\"http://x/a\"," U1) "]}";
	assert_int_equal(parse(t, &m, &e), 0);
	char *out1 = NULL, *out2 = NULL;
	assert_int_equal(manifest_write(&m, &out1, &e), 0);
	/* same content in another order writes the same bytes */
	struct manifest m2;
	const char *t2 = HEAD ENTRY("a", SHA_A, 7, "\"http://x/a\"," U1) "," ENTRY("z", SHA_B, 5, U1) "]}";
	assert_int_equal(parse(t2, &m2, &e), 0);
	assert_int_equal(manifest_write(&m2, &out2, &e), 0);
	assert_string_equal(out1, out2);
	assert_true(strstr(out1, "\"schema\": \"flywheel-inputs/1\"") < strstr(out1, "\"version\""));
	assert_true(strstr(out1, "\"name\": \"a\"") < strstr(out1, "\"name\": \"z\""));
	assert_int_equal(out1[strlen(out1) - 1], '\n');
	/* and it parses back to the same */
	struct manifest m3;
	assert_int_equal(parse(out1, &m3, &e), 0);
	char *out3 = NULL;
	assert_int_equal(manifest_write(&m3, &out3, &e), 0);
	assert_string_equal(out1, out3);
	free(out1);
	free(out2);
	free(out3);
	manifest_release(&m);
	manifest_release(&m2);
	manifest_release(&m3);
}

static void test_upsert(void **state)
{
	(void)state;
	struct manifest m;
	manifest_init(&m);
	struct manifest_input in = { .name = strdup("a"), .size = 1 };
	memcpy(in.sha256, SHA_A, 65);
	strv_push(&in.urls, "https://m/a");
	assert_int_equal(manifest_upsert(&m, &in), 0);
	assert_null(in.name);
	struct manifest_input in2 = { .name = strdup("a"), .size = 2 };
	memcpy(in2.sha256, SHA_B, 65);
	strv_push(&in2.urls, "https://m/a");
	assert_int_equal(manifest_upsert(&m, &in2), 0);
	assert_int_equal(m.n_inputs, 1);
	assert_int_equal(m.inputs[0].size, 2);
	assert_non_null(manifest_find(&m, "a"));
	assert_null(manifest_find(&m, "b"));
	manifest_release(&m);
}

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(manifest_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	char buf[32];
	manifest_format_time(1893456000, buf);
	assert_string_equal(buf, "2030-01-01T00:00:00Z");
	assert_true(manifest_parse_time("2030-01-01T00:00:00+01:00", &t) < 0);
	assert_true(manifest_parse_time("2030-13-01T00:00:00Z", &t) < 0);
	assert_true(manifest_parse_time("2030-01-01 00:00:00Z", &t) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_roundtrip_deterministic),
		cmocka_unit_test(test_upsert),
		cmocka_unit_test(test_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
