/* test_narinfo.c - nix.conf parsing, narinfo parsing, nix32, fingerprints and
 * Ed25519 signature verification (golden vectors made by real Nix 2.8). */
#include <errno.h>
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
#include <sodium.h>

#include "flywheel/narinfo.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

/* Made with Nix 2.8: `nix key generate-secret --key-name test-1`, `nix store
 * add-file` of a file holding "hello\n", `nix copy --to file://…?secret-key=…`. */
#define GOLD_KEY "test-1:KaGurkp74S8BsvShSo9pgfLFWqXNzTXfTfUQe21GMH4="
#define GOLD_PATH "/nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f"
#define GOLD_NARHASH "sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"
#define GOLD_NARHASH_HEX "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"
#define GOLD_NARHASH_SRI "sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM="
#define GOLD_SIG "test-1:PLE44jCvDr91F8QZFvKTKZ0oQR0gqfMFNZt462zpbbyNfTA3eWu4k43MYEz2WOJKikWf3yM44CC+JKjsNc/rAA=="

static const char gold_narinfo[] =
	"StorePath: " GOLD_PATH "\n"
	"URL: nar/04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw.nar\n"
	"Compression: none\n"
	"FileHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n"
	"FileSize: 120\n"
	"NarHash: " GOLD_NARHASH "\n"
	"NarSize: 120\n"
	"References: \n"
	"Sig: " GOLD_SIG "\n"
	"CA: fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq\n";

static char tmpdir[] = "/tmp/fw-narinfo-XXXXXX";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int verify_text(const char *text, const char *const *keys, size_t nkeys, char *key, size_t key_len)
{
	struct narinfo n;
	narinfo_init(&n);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_parse(text, strlen(text), &n, &err), 0);
	struct strv k;
	strv_init(&k);
	for (size_t i = 0; i < nkeys; i++)
		assert_int_equal(strv_push(&k, keys[i]), 0);
	int r = narinfo_verify(&n, "/nix/store", &k, key, key_len, &err);
	strv_release(&k);
	narinfo_release(&n);
	return r;
}

static void test_nix32(void **state)
{
	(void)state;
	unsigned char empty[32];
	size_t got = 0;
	assert_int_equal(sodium_hex2bin(empty, sizeof(empty),
					"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64, NULL,
					&got, NULL), 0);
	char out[NARINFO_NARHASH_NIX32_LEN + 1];
	narinfo_nix32(empty, sizeof(empty), out);
	/* `nix hash to-base32 sha256:e3b0…` */
	assert_string_equal(out, "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");

	char h[80];
	assert_int_equal(narinfo_nar_hash_nix32(GOLD_NARHASH, h, sizeof(h)), 0);
	assert_string_equal(h, GOLD_NARHASH);
	assert_int_equal(narinfo_nar_hash_nix32("sha256:" GOLD_NARHASH_HEX, h, sizeof(h)), 0);
	assert_string_equal(h, GOLD_NARHASH);
	assert_int_equal(narinfo_nar_hash_nix32(GOLD_NARHASH_SRI, h, sizeof(h)), 0);
	assert_string_equal(h, GOLD_NARHASH);

	static const char *const bad[] = {
		"sha1:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
		"sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dq",   /* 51 */
		"sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqe",  /* 'e' is not nix32 */
		"sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc1",
		"sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(narinfo_nar_hash_nix32(bad[i], h, sizeof(h)), -EINVAL);
	assert_int_equal(narinfo_nar_hash_nix32(GOLD_NARHASH, h, 10), -ENOBUFS);

	assert_true(narinfo_hash_valid("1p9q0bz6f22dyxh4lw8xs08p4201vyq4"));
	assert_false(narinfo_hash_valid("1p9q0bz6f22dyxh4lw8xs08p4201vyq"));
	assert_false(narinfo_hash_valid("1p9q0bz6f22dyxh4lw8xs08p4201vyq4a"));
	assert_false(narinfo_hash_valid("1p9q0bz6f22dyxh4lw8xs08p4201vyqe"));
	assert_false(narinfo_hash_valid(NULL));
}

static void test_golden(void **state)
{
	(void)state;
	struct narinfo n;
	narinfo_init(&n);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_parse(gold_narinfo, strlen(gold_narinfo), &n, &err), 0);
	assert_string_equal(n.store_path, GOLD_PATH);
	assert_int_equal(n.nar_size, 120);
	assert_int_equal(n.references.n, 0);
	assert_int_equal(n.sigs.n, 1);
	char *fp = NULL;
	assert_int_equal(narinfo_fingerprint(&n, "/nix/store", &fp, &err), 0);
	assert_string_equal(fp, "1;" GOLD_PATH ";" GOLD_NARHASH ";120;");
	free(fp);
	/* under another store directory it is not a store path */
	assert_int_equal(narinfo_fingerprint(&n, "/gnu/store", &fp, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_EXTERNAL_INPUT);
	narinfo_release(&n);

	char key[64];
	const char *keys[] = { GOLD_KEY };
	assert_int_equal(verify_text(gold_narinfo, keys, 1, key, sizeof(key)), NARINFO_SIG_OK);
	assert_string_equal(key, "test-1");
	/* the signature holds for the hex spelling of the same NarHash */
	char *hex = fw_asprintf("StorePath: %s\nNarHash: sha256:%s\nNarSize: 120\nSig: %s\n", GOLD_PATH,
				GOLD_NARHASH_HEX, GOLD_SIG);
	assert_int_equal(verify_text(hex, keys, 1, key, sizeof(key)), NARINFO_SIG_OK);
	free(hex);
}

static void test_tampered_and_untrusted(void **state)
{
	(void)state;
	char key[64];
	const char *keys[] = { GOLD_KEY };
	/* tampered: NarSize changed after signing */
	char *t = fw_asprintf("StorePath: %s\nNarHash: %s\nNarSize: 121\nSig: %s\n", GOLD_PATH, GOLD_NARHASH, GOLD_SIG);
	assert_int_equal(verify_text(t, keys, 1, key, sizeof(key)), NARINFO_SIG_BAD);
	assert_string_equal(key, "test-1");
	free(t);
	/* tampered: a reference added */
	t = fw_asprintf("StorePath: %s\nNarHash: %s\nNarSize: 120\nReferences: 1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\n"
			"Sig: %s\n", GOLD_PATH, GOLD_NARHASH, GOLD_SIG);
	assert_int_equal(verify_text(t, keys, 1, key, sizeof(key)), NARINFO_SIG_BAD);
	free(t);
	/* a trusted key of the same name but other bytes */
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	char b64[sodium_base64_ENCODED_LEN(sizeof(pk), sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	char *other = fw_asprintf("test-1:%s", b64);
	const char *okeys[] = { other };
	assert_int_equal(verify_text(gold_narinfo, okeys, 1, key, sizeof(key)), NARINFO_SIG_BAD);
	free(other);
	/* signed by a key nobody trusts: fail closed */
	other = fw_asprintf("someone-else:%s", b64);
	const char *ukeys[] = { other };
	assert_int_equal(verify_text(gold_narinfo, ukeys, 1, key, sizeof(key)), NARINFO_SIG_UNTRUSTED);
	assert_string_equal(key, "test-1");
	/* no keys at all */
	assert_int_equal(verify_text(gold_narinfo, NULL, 0, key, sizeof(key)), NARINFO_SIG_UNTRUSTED);
	/* unsigned */
	t = fw_asprintf("StorePath: %s\nNarHash: %s\nNarSize: 120\n", GOLD_PATH, GOLD_NARHASH);
	assert_int_equal(verify_text(t, keys, 1, key, sizeof(key)), NARINFO_SIG_NONE);
	free(t);
	/* an untrusted signature first, then the trusted one: OK */
	t = fw_asprintf("StorePath: %s\nNarHash: %s\nNarSize: 120\nSig: other-1:%s\nSig: %s\n", GOLD_PATH, GOLD_NARHASH,
			"PLE44jCvDr91F8QZFvKTKZ0oQR0gqfMFNZt462zpbbyNfTA3eWu4k43MYEz2WOJKikWf3yM44CC+JKjsNc/rAA==",
			GOLD_SIG);
	assert_int_equal(verify_text(t, ukeys, 1, key, sizeof(key)), NARINFO_SIG_UNTRUSTED);
	assert_int_equal(verify_text(t, keys, 1, key, sizeof(key)), NARINFO_SIG_OK);
	free(t);
	/* a truncated signature never verifies */
	t = fw_asprintf("StorePath: %s\nNarHash: %s\nNarSize: 120\nSig: test-1:PLE44jCvDr91F8QZ\n", GOLD_PATH,
			GOLD_NARHASH);
	assert_int_equal(verify_text(t, keys, 1, key, sizeof(key)), NARINFO_SIG_BAD);
	free(t);
	/* a malformed trusted key is an error, not a silent skip */
	const char *mkeys[] = { "test-1:AAAA" };
	struct narinfo n;
	narinfo_init(&n);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_parse(gold_narinfo, strlen(gold_narinfo), &n, &err), 0);
	struct strv k;
	strv_init(&k);
	strv_push(&k, mkeys[0]);
	assert_int_equal(narinfo_verify(&n, "/nix/store", &k, key, sizeof(key), &err), -1);
	assert_int_equal(err.cls, FW_CLASS_CONFIG);
	strv_release(&k);
	narinfo_release(&n);
	free(other);
}

static void test_references_signed(void **state)
{
	(void)state;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	/* references listed out of order: the fingerprint sorts them */
	const char *text = "StorePath: /nix/store/y0misapf2x2sqkrjsjysr6wng31h9wkq-app\n"
			   "NarHash: sha256:" GOLD_NARHASH_HEX "\n"
			   "NarSize: 4096\n"
			   "References: zzmisapf2x2sqkrjsjysr6wng31h9wkq-lib 1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\n";
	struct narinfo n;
	narinfo_init(&n);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_parse(text, strlen(text), &n, &err), 0);
	char *fp = NULL;
	assert_int_equal(narinfo_fingerprint(&n, "/nix/store", &fp, &err), 0);
	assert_string_equal(fp, "1;/nix/store/y0misapf2x2sqkrjsjysr6wng31h9wkq-app;" GOLD_NARHASH ";4096;"
				"/nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f,"
				"/nix/store/zzmisapf2x2sqkrjsjysr6wng31h9wkq-lib");
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)fp, strlen(fp), sk);
	free(fp);
	narinfo_release(&n);

	char sb64[sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_ORIGINAL)];
	char pb64[sodium_base64_ENCODED_LEN(sizeof(pk), sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(sb64, sizeof(sb64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pb64, sizeof(pb64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	char *signed_text = fw_asprintf("%sSig: team-1:%s\n", text, sb64);
	char *k = fw_asprintf("team-1:%s", pb64);
	const char *keys[] = { GOLD_KEY, k };
	char key[64];
	assert_int_equal(verify_text(signed_text, keys, 2, key, sizeof(key)), NARINFO_SIG_OK);
	assert_string_equal(key, "team-1");
	free(signed_text);
	free(k);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"NarHash: sha256:x\nNarSize: 1\n",                                   /* no StorePath */
		"StorePath: /nix/store/a\nNarSize: 1\n",                             /* no NarHash */
		"StorePath: /nix/store/a\nNarHash: sha256:x\n",                      /* no NarSize */
		"StorePath: /nix/store/a\nStorePath: /nix/store/b\nNarHash: h\nNarSize: 1\n",
		"StorePath: /nix/store/a\nNarHash: h\nNarSize: -1\n",
		"StorePath: /nix/store/a\nNarHash: h\nNarSize: 1x\n",
		"StorePath: /nix/store/a\nNarHash: h\nNarSize: 1\nNarSize: 1\n",
		"StorePath /nix/store/a\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct narinfo n;
		narinfo_init(&n);
		struct fw_error err = { 0 };
		assert_int_equal(narinfo_parse(bad[i], strlen(bad[i]), &n, &err), -1);
		assert_int_equal(err.exit_code, FW_EX_DATAERR);
		narinfo_release(&n);
	}
	const char nul[] = "StorePath: /nix/store/a\0\nNarHash: h\nNarSize: 1\n";
	struct narinfo n;
	narinfo_init(&n);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_parse(nul, sizeof(nul) - 1, &n, &err), -1);
	narinfo_release(&n);
	/* a reference that is not a base name makes the fingerprint fail */
	const char *r = "StorePath: " GOLD_PATH "\nNarHash: " GOLD_NARHASH "\nNarSize: 1\nReferences: ../etc\n";
	narinfo_init(&n);
	assert_int_equal(narinfo_parse(r, strlen(r), &n, &err), 0);
	char *fp = NULL;
	assert_int_equal(narinfo_fingerprint(&n, "/nix/store", &fp, &err), -1);
	narinfo_release(&n);
}

static void test_conf_parse(void **state)
{
	(void)state;
	struct narinfo_conf c;
	narinfo_conf_init(&c);
	struct fw_error err = { 0 };
	const char *text = "# comment\n"
			   "substituters = https://a.example/ https://b.example?priority=10 # trailing\n"
			   "trusted-public-keys = k1:AAAA\n"
			   "extra-substituters = https://c.example https://a.example\n"
			   "extra-trusted-public-keys = k2:BBBB\n"
			   "max-jobs = 4\n"
			   "\n";
	assert_int_equal(narinfo_conf_parse(&c, text, "t.conf", NULL, &err), 0);
	assert_int_equal(c.substituters.n, 3);
	assert_string_equal(c.substituters.v[0], "https://a.example");
	assert_string_equal(c.substituters.v[1], "https://b.example");
	assert_string_equal(c.substituters.v[2], "https://c.example");
	assert_int_equal(c.trusted_keys.n, 2);
	assert_true(c.substituters_set && c.keys_set);
	/* a later plain setting replaces */
	assert_int_equal(narinfo_conf_parse(&c, "binary-caches = http://d.example\n", "u.conf", NULL, &err), 0);
	assert_int_equal(c.substituters.n, 1);
	assert_string_equal(c.substituters.v[0], "http://d.example");
	assert_int_equal(narinfo_conf_parse(&c, "binary-cache-public-keys =\n", "u.conf", NULL, &err), 0);
	assert_int_equal(c.trusted_keys.n, 0);
	/* malformed line: file:line in the error */
	assert_int_equal(narinfo_conf_parse(&c, "\nsubstituters https://x\n", "v.conf", NULL, &err), -1);
	assert_string_equal(err.subject, "v.conf:2");
	assert_int_equal(err.exit_code, FW_EX_CONFIG);
	/* include without a directory is refused */
	fw_error_clear(&err);
	assert_int_equal(narinfo_conf_parse(&c, "include other.conf\n", "NIX_CONFIG", NULL, &err), -1);
	narinfo_conf_release(&c);

	/* too many substituters */
	narinfo_conf_init(&c);
	char *many = fw_asprintf("substituters =");
	for (int i = 0; i <= NARINFO_SUBSTITUTERS_MAX; i++) {
		char *m = fw_asprintf("%s http://h%d.example", many, i);
		free(many);
		many = m;
	}
	fw_error_clear(&err);
	assert_int_equal(narinfo_conf_parse(&c, many, "w.conf", NULL, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_CONFIG);
	free(many);
	narinfo_conf_release(&c);
}

static void test_conf_load(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof(p), "%s/etc", tmpdir);
	assert_int_equal(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/home/.config/nix", tmpdir);
	assert_int_equal(mkdir_p(p, 0755), 0);

	snprintf(p, sizeof(p), "%s/etc/nix.conf", tmpdir);
	write_text(p, "substituters = https://sys.example\ntrusted-public-keys = sys-1:AAAA\n"
		      "include extra.conf\n!include missing.conf\n");
	snprintf(p, sizeof(p), "%s/etc/extra.conf", tmpdir);
	write_text(p, "extra-substituters = https://inc.example\n");
	snprintf(p, sizeof(p), "%s/home/.config/nix/nix.conf", tmpdir);
	write_text(p, "extra-trusted-public-keys = user-1:BBBB\n");

	char env[512];
	snprintf(env, sizeof(env), "%s/etc", tmpdir);
	setenv("NIX_CONF_DIR", env, 1);
	snprintf(env, sizeof(env), "%s/home/.config", tmpdir);
	setenv("XDG_CONFIG_HOME", env, 1);
	setenv("XDG_CONFIG_DIRS", "/nonexistent-xdg", 1);
	setenv("NIX_CONFIG", "extra-substituters = https://env.example\n", 1);
	unsetenv("NIX_USER_CONF_FILES");

	struct narinfo_conf c;
	narinfo_conf_init(&c);
	struct fw_error err = { 0 };
	assert_int_equal(narinfo_conf_load(NULL, &c, &err), 0);
	assert_int_equal(c.substituters.n, 3);
	assert_string_equal(c.substituters.v[0], "https://sys.example");
	assert_string_equal(c.substituters.v[1], "https://inc.example");
	assert_string_equal(c.substituters.v[2], "https://env.example");
	assert_int_equal(c.trusted_keys.n, 2);
	assert_string_equal(c.trusted_keys.v[1], "user-1:BBBB");
	assert_int_equal(c.files.n, 4); /* nix.conf, extra.conf, user nix.conf, NIX_CONFIG */
	narinfo_conf_release(&c);

	/* nothing configured: Nix's defaults */
	setenv("NIX_CONF_DIR", "/nonexistent-nix", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent-home", 1);
	unsetenv("NIX_CONFIG");
	narinfo_conf_init(&c);
	assert_int_equal(narinfo_conf_load(NULL, &c, &err), 0);
	assert_int_equal(c.substituters.n, 1);
	assert_string_equal(c.substituters.v[0], "https://cache.nixos.org");
	assert_false(c.substituters_set);
	assert_int_equal(c.files.n, 0);
	narinfo_conf_release(&c);

	/* an explicit file must exist */
	narinfo_conf_init(&c);
	assert_int_equal(narinfo_conf_load("/nonexistent-nix/nix.conf", &c, &err), -1);
	assert_int_equal(err.cls, FW_CLASS_CONFIG);
	narinfo_conf_release(&c);

	/* an include loop stops at the depth limit */
	snprintf(p, sizeof(p), "%s/loop.conf", tmpdir);
	write_text(p, "include loop.conf\n");
	narinfo_conf_init(&c);
	fw_error_clear(&err);
	assert_int_equal(narinfo_conf_load(p, &c, &err), -1);
	assert_non_null(strstr(err.what, "deeper"));
	narinfo_conf_release(&c);

	/* no nix.conf anywhere: the check is a skip, and ok */
	struct narinfo_report *r = calloc(1, sizeof(*r));
	struct narinfo_opts o = { 0 };
	assert_int_equal(narinfo_check_substituters(&o, r, &err), 0);
	assert_true(r->ok);
	assert_false(r->nix_configured);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->checks[0].status, NARINFO_SKIP);
	/* a malformed trusted key fails the config check */
	snprintf(p, sizeof(p), "%s/badkey.conf", tmpdir);
	write_text(p, "substituters =\ntrusted-public-keys = nocolon\n");
	o.nix_conf = p;
	assert_int_equal(narinfo_check_substituters(&o, r, &err), 0);
	assert_false(r->ok);
	assert_int_equal(r->checks[0].status, NARINFO_FAIL);
	assert_int_equal(r->checks[0].cls, FW_CLASS_CONFIG);
	/* no substituters: a warning, still ok */
	write_text(p, "substituters =\n");
	assert_int_equal(narinfo_check_substituters(&o, r, &err), 0);
	assert_true(r->ok);
	assert_int_equal(r->checks[0].status, NARINFO_WARN);
	/* a bad hash is a usage error */
	o.narinfo_hash = "nothash";
	fw_error_clear(&err);
	assert_int_equal(narinfo_check_substituters(&o, r, &err), -1);
	assert_int_equal(err.exit_code, FW_EX_USAGE);
	free(r);
}

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nix32),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_tampered_and_untrusted),
		cmocka_unit_test(test_references_signed),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_conf_parse),
		cmocka_unit_test(test_conf_load),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "%s", tmpdir);
	/* best effort: remove the few files this test wrote */
	static const char *const files[] = { "etc/nix.conf", "etc/extra.conf", "home/.config/nix/nix.conf",
					     "loop.conf", "badkey.conf" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, files[i]);
		unlink(cmd);
	}
	static const char *const dirs[] = { "home/.config/nix", "home/.config", "home", "etc", "" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, dirs[i]);
		rmdir(cmd);
	}
	return rc;
}
