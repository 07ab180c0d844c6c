/* test_auth.c - token files, header lines, identities, rc files, helpers. */
#include <errno.h>
#include <fcntl.h>
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

#include "flywheel/auth.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static char dir[] = "/tmp/fw-test-auth.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s", dir);
	/* small, known tree: remove file by file */
	const char *names[] = { "tok", "tok2", "big", "link", "empty", "two", "helper.sh", "rc/" AUTH_RCFILE_NAME, "rc" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(names); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(cmd);
	return 0;
}

static void put(const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static int read_tok(const char *name, char **tok, struct fw_error *err)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fw_error_clear(err);
	return auth_read_token_file(p, tok, err);
}

static void test_token_file_rules(void **state)
{
	struct fw_error err;
	char *tok = NULL;
	put("tok", "abc.def-123\n", 0600);
	assert_int_equal(read_tok("tok", &tok, &err), 0);
	assert_string_equal(tok, "abc.def-123");
	auth_secret_free(tok);
	put("tok2", "xyz", 0400);
	assert_int_equal(read_tok("tok2", &tok, &err), 0);
	auth_secret_free(tok);

	put("tok", "abc\n", 0644);
	assert_int_equal(read_tok("tok", &tok, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_AUTH);
	assert_non_null(strstr(err.what, "0644"));
	assert_null(strstr(err.what, "abc")); /* never the secret */
	put("tok", "abc\n", 0640);
	assert_int_equal(read_tok("tok", &tok, &err), -1);

	char target[256], link[256];
	snprintf(target, sizeof(target), "%s/tok2", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(read_tok("link", &tok, &err), -1);
	assert_non_null(strstr(err.what, "symbolic link"));

	put("empty", "\n\n", 0600);
	assert_int_equal(read_tok("empty", &tok, &err), -1);
	put("two", "a\nb\n", 0600);
	assert_int_equal(read_tok("two", &tok, &err), -1);
	char *big = malloc(AUTH_TOKEN_MAX + 10);
	memset(big, 'x', AUTH_TOKEN_MAX + 9);
	big[AUTH_TOKEN_MAX + 9] = 0;
	put("big", big, 0600);
	free(big);
	assert_int_equal(read_tok("big", &tok, &err), -1);
	assert_non_null(strstr(err.what, "too big"));
	assert_int_equal(read_tok("missing", &tok, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_CONFIG);
}

static void test_headers_and_identity(void **state)
{
	struct auth a, b;
	struct fw_error err = { 0 };
	auth_init(&a);
	auth_init(&b);
	assert_int_equal(auth_add_header_line(&a, "Authorization=Bearer t1", AUTH_SCOPE_ALL, "s", &err), 0);
	assert_int_equal(auth_add_header_line(&a, "X-Cache: only", AUTH_SCOPE_CACHE, "s", &err), 0);
	assert_string_equal(a.h[1].name, "X-Cache");
	assert_string_equal(a.h[1].value, "only");
	assert_int_equal(auth_count_for(&a, AUTH_SCOPE_CACHE), 2);
	assert_int_equal(auth_count_for(&a, AUTH_SCOPE_EXEC), 1);
	assert_int_equal(auth_add_header_line(&a, "=x", AUTH_SCOPE_ALL, "s", &err), -1);
	fw_error_clear(&err);
	assert_int_equal(auth_add_header_line(&a, "Bad Name=x", AUTH_SCOPE_ALL, "s", &err), -1);
	fw_error_clear(&err);
	assert_int_equal(auth_add(&a, "X", "a\nb", AUTH_SCOPE_ALL, "s", &err), -1);
	fw_error_clear(&err);

	char id1[AUTH_IDENTITY_HEX + 1], id2[AUTH_IDENTITY_HEX + 1], id3[AUTH_IDENTITY_HEX + 1];
	auth_identity(&a, AUTH_SCOPE_CACHE, id1);
	assert_int_equal(strlen(id1), AUTH_IDENTITY_HEX);
	assert_null(strstr(id1, "t1"));
	auth_identity(&b, AUTH_SCOPE_CACHE, id2);
	assert_string_equal(id2, "none");
	assert_int_equal(auth_add_bearer(&b, "t1", "s", &err), 0);
	assert_string_equal(b.h[0].value, "Bearer t1");
	auth_identity(&b, AUTH_SCOPE_EXEC, id2);
	auth_identity(&a, AUTH_SCOPE_EXEC, id3);
	assert_string_equal(id2, id3); /* same header, same identity */
	assert_string_not_equal(id1, id3); /* the cache-only header counts for the cache */
	auth_release(&a);
	auth_release(&b);
}

static void test_rcfile(void **state)
{
	struct auth a;
	struct fw_error err = { 0 };
	auth_init(&a);
	assert_int_equal(auth_add_header_line(&a, "Authorization=Bearer a b", AUTH_SCOPE_ALL, "s", &err), 0);
	assert_int_equal(auth_add_header_line(&a, "X-E=1", AUTH_SCOPE_EXEC, "s", &err), 0);
	char rcdir[256];
	snprintf(rcdir, sizeof(rcdir), "%s/rc", dir);
	assert_int_equal(mkdir(rcdir, 0755), 0);
	char *path = NULL;
	assert_int_equal(auth_write_rcfile(rcdir, &a, &path, &err), 0);
	struct stat st;
	assert_int_equal(stat(rcdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700); /* made private */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *text = NULL;
	assert_int_equal(read_small_file(path, 4096, true, &text, NULL), 0);
	assert_non_null(strstr(text, "build \"--remote_header=Authorization=Bearer a b\"\n"));
	assert_non_null(strstr(text, "build \"--remote_exec_header=X-E=1\"\n"));
	free(text);
	free(path);
	assert_int_equal(auth_add_header_line(&a, "X-Q=has\"quote", AUTH_SCOPE_ALL, "s", &err), 0);
	assert_int_equal(auth_write_rcfile(rcdir, &a, &path, &err), -1);
	assert_non_null(strstr(err.what, "cannot be quoted"));
	auth_release(&a);
}

static void test_external_helper(void **state)
{
	char helper[256];
	snprintf(helper, sizeof(helper), "%s/helper.sh", dir);
	put("helper.sh",
	    "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r req\ncase \"$req\" in *'\"uri\"'*) ;; *) exit 4 ;; esac\n"
	    "printf '{\"headers\":{\"Authorization\":[\"Bearer from-helper\"],\"X-Two\":[\"a\",\"b\"]}}'\n",
	    0700);
	struct auth a;
	struct fw_error err = { 0 };
	auth_init(&a);
	assert_int_equal(auth_add_from_helper(&a, helper, "https://cache.example/x", 5000, &err), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.h[0].value, "Bearer from-helper");
	assert_string_equal(a.h[1].value, "a, b");
	auth_release(&a);

	put("helper.sh", "#!/bin/sh\nexit 9\n", 0700);
	auth_init(&a);
	assert_int_equal(auth_add_from_helper(&a, helper, "u", 5000, &err), -1);
	assert_non_null(strstr(err.what, "exit 9"));
	fw_error_clear(&err);
	put("helper.sh", "#!/bin/sh\nsleep 30\n", 0700);
	uint64_t t0 = now_ns();
	assert_int_equal(auth_add_from_helper(&a, helper, "u", 300, &err), -1);
	assert_true(now_ns() - t0 < 10000000000ull);
	assert_non_null(strstr(err.what, "no answer"));
	fw_error_clear(&err);
	put("helper.sh", "#!/bin/sh\necho not json\n", 0700);
	assert_int_equal(auth_add_from_helper(&a, helper, "u", 5000, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_AUTH);
	fw_error_clear(&err);
	assert_int_equal(auth_add_from_helper(&a, "relative/helper", "u", 5000, &err), -1);
	auth_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_file_rules),
		cmocka_unit_test(test_headers_and_identity),
		cmocka_unit_test(test_rcfile),
		cmocka_unit_test(test_external_helper),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
