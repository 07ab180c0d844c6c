/* test_envfile.c - .env.flywheel.local is data: accepted forms and refused shell syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "flywheel/envfile.h"

struct collected {
	char text[4096];
	size_t len;
};

static int collect(void *ud, const char *key, const char *value, unsigned line, struct fw_error *err)
{
	struct collected *c = ud;
	c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len, "%u:%s=[%s];", line, key, value);
	return 0;
}

static const struct {
	const char *input;
	const char *expect;
} good[] = {
	{ "A=b\n", "1:A=[b];" },
	{ "export A=b", "1:A=[b];" },
	{ "  export   A=b  # trailing comment\n", "1:A=[b];" },
	{ "# comment\n\nA=1\nB=2\n", "3:A=[1];4:B=[2];" },
	{ "A='x y $(z)'", "1:A=[x y $(z)];" },
	{ "A=\"x y\"", "1:A=[x y];" },
	{ "A=\"q\\\"q\\\\\\$\"", "1:A=[q\"q\\$];" },
	{ "A=", "1:A=[];" },
	{ "A=''", "1:A=[];" },
	{ "A=a#b", "1:A=[a#b];" },
	{ "A=grpcs://cache.example:443", "1:A=[grpcs://cache.example:443];" },
	{ "A=b\r\nB=c\r\n", "1:A=[b];2:B=[c];" },
	{ "\xef\xbb\xbf" "A=b", "1:A=[b];" },
	{ "_X9=v", "1:_X9=[v];" },
	{ "A=/path/with~tilde", "1:A=[/path/with~tilde];" },
	{ "A=\"it's\"", "1:A=[it's];" },
	{ "exportA=1", "1:exportA=[1];" },
};

static const struct {
	const char *input;
	const char *message; /* substring of the formatted error */
} bad[] = {
	{ "X=$(touch /tmp/pwned)", "X from .env.flywheel.local:1: value contains '$'" },
	{ "X=`touch /tmp/pwned`", "backquote" },
	{ "X=\"$(touch /tmp/pwned)\"", "inside double quotes" },
	{ "X=\"`id`\"", "backquote" },
	{ "X=$HOME", "'$'" },
	{ "X=${HOME}", "'$'" },
	{ "X=a;touch /tmp/p", "';', '&' or '|'" },
	{ "X=a && touch /tmp/p", "text after the value" },
	{ "X=a|b", "';', '&' or '|'" },
	{ "X=a>b", "redirection" },
	{ "X=a b", "text after the value" },
	{ "X= b", "space after '='" },
	{ "X =b", "space before '='" },
	{ "X='unterminated", "unterminated single quote" },
	{ "X=\"unterminated", "unterminated double quote" },
	{ "X='a'b", "text after the value" },
	{ "touch /tmp/pwned", "not an assignment" },
	{ "1X=2", "not an assignment" },
	{ "X", "not an assignment" },
	{ "X=~/token", "'~'" },
	{ "X=a\\ b", "backslash" },
	{ "X=*", "glob" },
	{ "X=(a)", "'(' or ')'" },
	{ "OK=1\nX=$(id)", ".env.flywheel.local:2" },
	{ "source other.env", "not an assignment" },
	{ ". ./other.env", "not an assignment" },
	{ "X=\"a\" ; id", "text after the value" },
};

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct collected c = { 0 };
		struct fw_error err = { 0 };
		int r = envfile_parse(good[i].input, strlen(good[i].input), ".env.flywheel.local", collect, &c, &err);
		if (r != 0 || strcmp(c.text, good[i].expect) != 0)
			fail_msg("case %zu '%s': r=%d got '%s' want '%s' (%s)", i, good[i].input, r, c.text,
				 good[i].expect, err.what);
	}
}

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct collected c = { 0 };
		struct fw_error err = { 0 };
		int r = envfile_parse(bad[i].input, strlen(bad[i].input), ".env.flywheel.local", collect, &c, &err);
		char msg[2048];
		fw_error_format(&err, msg, sizeof(msg));
		if (r >= 0 || err.exit_code != FW_EX_CONFIG || err.cls != FW_CLASS_CONFIG || !strstr(msg, bad[i].message))
			fail_msg("case %zu '%s': r=%d msg '%s' want '%s'", i, bad[i].input, r, msg, bad[i].message);
		/* one line, and a fix */
		if (strchr(msg, '\n') || !err.fix[0])
			fail_msg("case %zu: message not one line with a fix: '%s'", i, msg);
	}
}

static void test_limits(void **state)
{
	static char big[ENVFILE_MAX_SIZE + 2];
	memset(big, '#', sizeof(big));
	struct collected c = { 0 };
	struct fw_error err = { 0 };
	assert_true(envfile_parse(big, sizeof(big), "f", collect, &c, &err) < 0);
	assert_non_null(strstr(err.what, "too large"));

	char line[ENVFILE_MAX_LINE + 10];
	memset(line, 'a', sizeof(line));
	line[0] = 'X';
	line[1] = '=';
	struct fw_error err2 = { 0 };
	assert_true(envfile_parse(line, sizeof(line), "f", collect, &c, &err2) < 0);
	assert_non_null(strstr(err2.what, "too long"));

	const char nul[] = "X=a\0b";
	struct fw_error err3 = { 0 };
	assert_true(envfile_parse(nul, sizeof(nul) - 1, "f", collect, &c, &err3) < 0);
	assert_non_null(strstr(err3.what, "NUL"));
}

static int stop_at_b(void *ud, const char *key, const char *value, unsigned line, struct fw_error *err)
{
	if (strcmp(key, "B") == 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, key, "fix", "callback refused");
	return 0;
}

static void test_callback_error_stops(void **state)
{
	struct fw_error err = { 0 };
	const char *in = "A=1\nB=2\nC=$(x)";
	assert_true(envfile_parse(in, strlen(in), "f", stop_at_b, NULL, &err) < 0);
	assert_string_equal(err.what, "callback refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_error_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
