/* test_sign.c - Ed25519 keys, detached signatures, freeze and rollback refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/sign.h"
#include "flywheel/banned.h"

static char dir[256];

static void path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void put(const char *name, const char *text)
{
	char p[512];
	path(p, sizeof(p), name);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static char *get(const char *name)
{
	char p[512];
	path(p, sizeof(p), name);
	char *t = NULL;
	size_t n = 0;
	assert_int_equal(read_small_file(p, 65536, false, &t, &n), 0);
	return t;
}

static const char *manifest_text(unsigned version, const char *expires)
{
	static char buf[512];
	snprintf(buf, sizeof(buf),
		 "{\"schema\":\"flywheel-inputs/1\",\"version\":%u,\"expires\":\"%s\",\"inputs\":["
		 "{\"name\":\"a.tgz\",\"sha256\":\"%064d\",\"size\":1,\"urls\":[\"https://m/a.tgz\"]}]}",
		 version, expires, 0);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fw-test-sign.XXXXXX");
	assert_non_null(mkdtemp(dir));
	char p[512];
	path(p, sizeof(p), "state");
	setenv("XDG_STATE_HOME", p, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "%s", dir);
	/* remove the tree without a shell */
	const char *files[] = { "k1.key", "k1.pub", "k2.key", "k2.pub", "m.json", "m.json.sig", "x.key" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path(cmd, sizeof(cmd), files[i]);
		unlink(cmd);
	}
	return 0;
}

static void keygen(const char *file, const char *name)
{
	char p[512];
	struct fw_error e = { 0 };
	path(p, sizeof(p), file);
	if (sign_keygen(p, name, &e) < 0)
		fail_msg("keygen: %s: %s", e.subject, e.what);
}

static void load_pub(const char *file, struct sign_pubkey *k)
{
	char p[512];
	struct fw_error e = { 0 };
	path(p, sizeof(p), file);
	if (sign_pubkey_load(p, "test", k, &e) < 0)
		fail_msg("load %s: %s", file, e.what);
}

static void test_keygen_files(void **state)
{
	(void)state;
	keygen("k1", "k1");
	char p[512];
	struct stat st;
	path(p, sizeof(p), "k1.key");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *pub = get("k1.pub");
	assert_true(strncmp(pub, "k1:", 3) == 0);
	free(pub);
	/* never overwrites */
	struct fw_error e = { 0 };
	path(p, sizeof(p), "k1");
	assert_true(sign_keygen(p, "k1", &e) < 0);
	assert_non_null(strstr(e.what, "exists"));
	/* bad name */
	fw_error_clear(&e);
	assert_true(sign_keygen(p, "a/b", &e) < 0);
}

static void test_pubkey_lengths(void **state)
{
	(void)state;
	struct sign_pubkey k;
	struct fw_error e = { 0 };
	/* 32 zero bytes */
	assert_int_equal(sign_pubkey_parse("n:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "t", &k, &e), 0);
	assert_string_equal(k.name, "n");
	/* 31 and 33 bytes */
	assert_true(sign_pubkey_parse("n:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "t", &k, &e) < 0);
	fw_error_clear(&e);
	assert_true(sign_pubkey_parse("n:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "t", &k, &e) < 0);
	fw_error_clear(&e);
	assert_true(sign_pubkey_parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "t", &k, &e) < 0);
	fw_error_clear(&e);
	assert_true(sign_pubkey_parse("bad name:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "t", &k, &e) < 0);
	fw_error_clear(&e);
	assert_true(sign_pubkey_parse("n:AAAA!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "t", &k, &e) < 0);
}

static void sign_m(const char *key)
{
	char k[512], m[512], s[512];
	struct fw_error e = { 0 };
	path(k, sizeof(k), key);
	path(m, sizeof(m), "m.json");
	path(s, sizeof(s), "m.json.sig");
	if (sign_file(k, m, s, &e) < 0)
		fail_msg("sign: %s", e.what);
}

static int accept_m(const struct sign_pubkey *keys, size_t n, bool allow_unsigned, struct fw_error *e)
{
	char m[512];
	path(m, sizeof(m), "m.json");
	struct sign_policy p = { .keys = keys, .n_keys = n, .allow_unsigned = allow_unsigned, .record = true };
	struct manifest man;
	char signer[SIGN_NAME_MAX + 1];
	fw_error_clear(e);
	int r = sign_accept_manifest(m, &p, &man, signer, e);
	if (r == 0)
		manifest_release(&man);
	return r;
}

static void test_sign_verify_tamper(void **state)
{
	(void)state;
	keygen("k2", "k2");
	struct sign_pubkey keys[2];
	load_pub("k1.pub", &keys[0]);
	load_pub("k2.pub", &keys[1]);
	put("m.json", manifest_text(5, "2099-01-01T00:00:00Z"));
	struct fw_error e;

	/* unsigned: refused, unless allowed */
	assert_true(accept_m(keys, 2, false, &e) < 0);
	assert_non_null(strstr(e.what, "not signed"));
	assert_int_equal(accept_m(keys, 2, true, &e), 0);

	sign_m("k1.key");
	assert_int_equal(accept_m(keys, 2, false, &e), 0);

	/* secret key readable by others is refused */
	char k[512];
	path(k, sizeof(k), "k1.key");
	chmod(k, 0644);
	char m[512], s[512];
	path(m, sizeof(m), "m.json");
	path(s, sizeof(s), "m.json.sig");
	fw_error_clear(&e);
	assert_true(sign_file(k, m, s, &e) < 0);
	chmod(k, 0600);

	/* one flipped byte of the manifest */
	char *text = get("m.json");
	text[40] ^= 1;
	put("m.json", text);
	free(text);
	assert_true(accept_m(keys, 2, true, &e) < 0); /* allow_unsigned never excuses a bad signature */
	assert_non_null(strstr(e.what, "does not match"));
	put("m.json", manifest_text(5, "2099-01-01T00:00:00Z"));

	/* flipped signature bytes */
	char *sig = get("m.json.sig");
	char *b = strchr(sig, ':') + 5;
	*b = *b == 'A' ? 'B' : 'A';
	put("m.json.sig", sig);
	free(sig);
	assert_true(accept_m(keys, 2, false, &e) < 0);
	assert_non_null(strstr(e.what, "does not match"));

	/* truncated signature: exact length enforced */
	put("m.json.sig", "k1:AAAA\n");
	assert_true(accept_m(keys, 2, false, &e) < 0);
	assert_non_null(strstr(e.what, "64 bytes"));

	/* wrong key: signed by k1, only k2 trusted */
	sign_m("k1.key");
	assert_true(accept_m(&keys[1], 1, false, &e) < 0);
	assert_non_null(strstr(e.what, "not trusted"));

	/* a different key under the trusted name */
	struct sign_pubkey impostor = keys[1];
	snprintf(impostor.name, sizeof(impostor.name), "k1");
	assert_true(accept_m(&impostor, 1, false, &e) < 0);
	assert_non_null(strstr(e.what, "does not match"));

	/* no trusted keys at all, signature present */
	assert_true(accept_m(NULL, 0, false, &e) < 0);
	assert_int_equal(e.exit_code, FW_EX_CONFIG);
}

static void test_freeze_and_rollback(void **state)
{
	(void)state;
	struct sign_pubkey k;
	load_pub("k1.pub", &k);
	struct fw_error e;

	put("m.json", manifest_text(6, "2001-01-01T00:00:00Z"));
	sign_m("k1.key");
	assert_true(accept_m(&k, 1, false, &e) < 0);
	assert_non_null(strstr(e.what, "expired"));

	put("m.json", manifest_text(7, "2099-01-01T00:00:00Z"));
	sign_m("k1.key");
	assert_int_equal(accept_m(&k, 1, false, &e), 0);

	/* an older, correctly signed manifest is a rollback */
	put("m.json", manifest_text(6, "2099-01-01T00:00:00Z"));
	sign_m("k1.key");
	assert_true(accept_m(&k, 1, false, &e) < 0);
	assert_non_null(strstr(e.what, "lower than version 7"));

	/* same and newer versions pass */
	put("m.json", manifest_text(7, "2099-01-01T00:00:00Z"));
	sign_m("k1.key");
	assert_int_equal(accept_m(&k, 1, false, &e), 0);
	put("m.json", manifest_text(8, "2099-01-01T00:00:00Z"));
	sign_m("k1.key");
	assert_int_equal(accept_m(&k, 1, false, &e), 0);

	/* the remembered version is private */
	char *sd = NULL;
	assert_int_equal(sign_state_dir(&sd), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/manifest-versions", sd);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_files),
		cmocka_unit_test(test_pubkey_lengths),
		cmocka_unit_test(test_sign_verify_tamper),
		cmocka_unit_test(test_freeze_and_rollback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
