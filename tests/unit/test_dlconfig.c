/* test_dlconfig.c - every downloader-config trap is one problem naming the
 * line; flywheel's own rendering of [mirrors] passes its own check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/dlconfig.h"

static const struct {
	const char *text;
	size_t problems;
	const char *first_subject; /* "t.cfg:N" */
	const char *needle;        /* in what */
} cases[] = {
	{ "# ok\nrewrite github.com/(.*) mirror.example/gh/$1\nallow mirror.example\nblock *\n", 0, NULL, NULL },
	{ "rewrite a/(.*)/(.*) https://m.example/$2/$1\n", 0, NULL, NULL },
	{ "rewrite (.*) https://m.example/$2\n", 1, "t.cfg:1", "group $2" },
	{ "rewrite (.*) https://m.example/$\n", 1, "t.cfg:1", "not a group reference" },
	{ "rewrite (.*) https://m.example/\\\n", 1, "t.cfg:1", "lone" },
	{ "rewrite a/(x https://m.example/\n", 1, "t.cfg:1", "does not compile" },
	{ "\nblock .*\n", 1, "t.cfg:2", "not a host name" },
	{ "rewrite (.*) http://m.example/$1\n", 1, "t.cfg:1", "plain http" },
	{ "rewrite (.*) https://m.example/$1\nblock *\n", 1, "t.cfg:1", "blocked and not allowed" },
	{ "rewrite (.*) https://a.m.example/$1\nblock m.example\nallow m.example\n", 0, NULL, NULL },
	{ "rewrite (.*) https://m.example/$1\nallow x\nblock m.example\n", 1, "t.cfg:1", "silently" },
	{ "frobnicate x\n", 1, "t.cfg:1", "unknown directive" },
	{ "allow a b\n", 1, "t.cfg:1", "exactly one" },
	{ "rewrite only-one\n", 1, "t.cfg:1", "pattern and a replacement" },
	{ "all_blocked_message a\nall_blocked_message b\n", 1, "t.cfg:2", "second" },
	{ "rewrite (?i)x/(.*) https://m.example/$1\n", 0, NULL, NULL },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fw_error p[8];
		size_t n = 99;
		int r = dlconfig_check_buf(cases[i].text, strlen(cases[i].text), "t.cfg", p, 8, &n);
		if (n != cases[i].problems)
			fail_msg("case %zu (%s): %zu problems, want %zu (%s)", i, cases[i].text, n, cases[i].problems,
				 n ? p[0].what : "");
		assert_int_equal(r, n ? -1 : 0);
		if (!n)
			continue;
		assert_string_equal(p[0].subject, cases[i].first_subject);
		assert_int_equal(p[0].exit_code, FW_EX_CONFIG);
		assert_int_equal(p[0].cls, FW_CLASS_CONFIG);
		if (!strstr(p[0].what, cases[i].needle))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, p[0].what, cases[i].needle);
		assert_true(p[0].fix[0] != '\0');
	}
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/fw-dlconfig-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "rewrite (.*) http://m/$1\nblock .*\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct fw_error err = { 0 };
	assert_int_equal(dlconfig_check(path, &err), -1);
	assert_int_equal(err.exit_code, 78);
	assert_non_null(strstr(err.subject, ":1"));
	assert_non_null(strstr(err.what, "and 1 more problem"));
	unlink(path);
	struct fw_error e2 = { 0 };
	assert_int_equal(dlconfig_check("/nonexistent/dl.cfg", &e2), -1);
	assert_int_equal(e2.exit_code, 78);
}

static void add_pair(struct config *c, const char *name, const char *value)
{
	c->mirrors = realloc(c->mirrors, (c->n_mirrors + 1) * sizeof(*c->mirrors));
	assert_non_null(c->mirrors);
	c->mirrors[c->n_mirrors++] = (struct cfg_pair){ strdup(name), strdup(value), strdup("flywheel.ini:9") };
}

static void test_render(void **state)
{
	(void)state;
	struct config c;
	config_init(&c);
	char *text = NULL;
	struct fw_error err = { 0 };
	assert_int_equal(dlconfig_render(&c, &text, &err), 0);
	assert_null(text);
	add_pair(&c, "upstream.invalid/flywheel", "http://127.0.0.1:8080/flywheel https://mirror.example/fw/");
	add_pair(&c, "allow", "extra.example, other.example");
	add_pair(&c, "downloader_config", "ignored.cfg");
	assert_int_equal(dlconfig_render(&c, &text, &err), 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "rewrite upstream\\.invalid/flywheel/(.*) 127.0.0.1:8080/flywheel/$1\n"));
	assert_non_null(strstr(text, "rewrite upstream\\.invalid/flywheel/(.*) https://mirror.example/fw/$1\n"));
	assert_non_null(strstr(text, "allow 127.0.0.1\n"));
	assert_non_null(strstr(text, "allow mirror.example\n"));
	assert_non_null(strstr(text, "allow extra.example\nallow other.example\n"));
	assert_non_null(strstr(text, "block *\n"));
	assert_non_null(strstr(text, "flywheel lock URL"));
	assert_null(strstr(text, "ignored.cfg"));
	/* flywheel's own output passes its own check */
	struct fw_error p[4];
	size_t n = 9;
	assert_int_equal(dlconfig_check_buf(text, strlen(text), "gen", p, 4, &n), 0);
	assert_int_equal(n, 0);
	free(text);

	char dir[] = "/tmp/fw-dlw-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[64];
	snprintf(sub, sizeof(sub), "%s/private", dir);
	char *path = NULL;
	assert_int_equal(dlconfig_write(&c, sub, &path, &err), 0);
	assert_non_null(path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
	free(path);

	add_pair(&c, "https://bad.example", "https://m.example/");
	assert_int_equal(dlconfig_render(&c, &text, &err), -1);
	assert_int_equal(err.exit_code, 78);
	assert_string_equal(err.subject, "flywheel.ini:9");
	config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
