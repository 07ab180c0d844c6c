/* fuzz_targets.h - one function per parser, shared by the libFuzzer targets
 * (tests/fuzz/fuzz_<name>.c) and the crash replayer (tests/unit/test_regress.c).
 *
 * Each fuzz_<name>(data, size) feeds arbitrary bytes to one parser and checks
 * the invariants that must hold for any input: the call returns (no crash, no
 * sanitizer report), an error leaves a filled fw_error, success leaves a
 * structure that can be used and released, and round trips are stable.
 * A broken invariant aborts (libFuzzer records the input as a crash).
 */
#ifndef FLYWHEEL_FUZZ_TARGETS_H
#define FLYWHEEL_FUZZ_TARGETS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/bazel_argv.h"
#include "flywheel/config.h"
#include "flywheel/credhelper.h"
#include "flywheel/eligibility.h"
#include "flywheel/endpoint.h"
#include "flywheel/envfile.h"
#include "flywheel/error.h"
#include "flywheel/execlog.h"
#include "flywheel/manifest.h"
#include "flywheel/narinfo.h"
#include "flywheel/reapi.h"
#include "flywheel/sign.h"
#include "flywheel/util.h"

#define FUZZ_INPUT_MAX (256u * 1024u)

#define FUZZ_CHECK(cond)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* A NUL-terminated copy (parsers taking C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return NULL;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error must be filled whenever a parser fails. */
static inline void fuzz_check_error(int r, const struct fw_error *err)
{
	if (r < 0) {
		FUZZ_CHECK(fw_error_isset(err));
		char line[2048];
		fw_error_format(err, line, sizeof(line));
		FUZZ_CHECK(strlen(line) > 0);
	}
}

/* ---- INI configuration (flywheel.ini) through config_load ---------------- */

static inline int fuzz_config(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	static char ws[64];
	if (!ws[0]) {
		snprintf(ws, sizeof(ws), "/tmp/fw-fuzz-config.%ld", (long)getpid());
		if (mkdir(ws, 0700) < 0 && errno != EEXIST)
			return 0;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/flywheel.ini", ws);
	if (write_file_atomic(path, data, size, 0600) < 0)
		return 0;
	char *envp[] = { NULL };
	struct config c;
	struct fw_error err;
	fw_error_clear(&err);
	config_init(&c);
	struct config_opts o = { .envp = envp, .cwd = ws, .workspace = ws, .no_user_file = true };
	int r = config_load(&c, &o, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		for (int k = 0; k < CFG__MAX; k++) {
			char subject[FW_ERROR_SUBJECT_MAX];
			config_subject(&c, (enum cfg_key)k, subject, sizeof(subject));
			(void)config_get(&c, (enum cfg_key)k);
		}
	config_release(&c);
	return 0;
}

/* ---- .env.flywheel.local ------------------------------------------------- */

static inline int fuzz_envfile_cb(void *ud, const char *key, const char *value, unsigned line,
				  struct fw_error *err)
{
	size_t *n = ud;
	FUZZ_CHECK(key && value && line > 0);
	FUZZ_CHECK(strlen(key) > 0 && strlen(key) <= ENVFILE_MAX_KEY);
	/* parsed as data: nothing a shell would expand survives unquoted */
	(*n)++;
	return 0;
}

static inline int fuzz_envfile(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	struct fw_error err;
	fw_error_clear(&err);
	size_t n = 0;
	int r = envfile_parse((const char *)data, size, ".env.flywheel.local", fuzz_envfile_cb, &n, &err);
	fuzz_check_error(r, &err);
	return 0;
}

/* ---- endpoint URLs and instance names ------------------------------------ */

static inline int fuzz_endpoint(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	static const unsigned masks[] = { EP_CACHE_SCHEMES, EP_EXEC_SCHEMES, EP_HTTP | EP_HTTPS };
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct endpoint ep;
		memset(&ep, 0, sizeof(ep));
		enum ep_error e = endpoint_parse(s, masks[i], &ep);
		FUZZ_CHECK(ep_error_text(e) != NULL);
		if (e == EP_OK) {
			FUZZ_CHECK(ep.url && strcmp(ep.url, s) == 0);
			FUZZ_CHECK(ep.scheme & masks[i]);
			FUZZ_CHECK(!has_placeholder(s));
			/* no userinfo: no '@' between "://" and the path */
			const char *auth = strstr(s, "://");
			if (auth && ep.scheme != EP_UNIX) {
				auth += 3;
				size_t alen = strcspn(auth, "/");
				FUZZ_CHECK(!memchr(auth, '@', alen));
			}
			FUZZ_CHECK(ep.scheme == EP_UNIX || (ep.host && strlen(ep.host) <= EP_HOST_MAX));
			char *deny[] = { ep.host ? ep.host : (char *)"x", NULL };
			(void)endpoint_denied(&ep, deny, 1);
			endpoint_release(&ep);
		}
	}
	const char *p = instance_name_problem(s);
	if (!p) {
		FUZZ_CHECK(!strstr(s, ".."));
		FUZZ_CHECK(strlen(s) <= 256);
		for (const char *c = s; *c; c++)
			FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-", *c));
	}
	free(s);
	return 0;
}

/* ---- Bazel argv model ---------------------------------------------------- */

static inline int fuzz_bazel_argv(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	/* NUL-separated words */
	struct strv words;
	strv_init(&words);
	size_t start = 0;
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == '\0') {
			char *w = fuzz_cstr(data + start, i - start);
			if (!w || strv_push_take(&words, w) < 0)
				break;
			start = i + 1;
		}
	struct bazel_cmdline c;
	struct fw_error err;
	fw_error_clear(&err);
	bazel_cmdline_init(&c);
	int r = bazel_cmdline_parse(words.n, words.v, &c, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		struct strv targets;
		strv_init(&targets);
		bool amb = false;
		(void)bazel_argv_targets(&c, &targets, &amb);
		strv_release(&targets);
		struct bazel_opts st, cmd;
		bazel_opts_init(&st);
		bazel_opts_init(&cmd);
		bazel_opts_add(&st, BAZEL_OPT_DEFAULT, "fuzz", "output_user_root", "/tmp/x");
		bazel_opts_add(&cmd, BAZEL_OPT_REQUIRED, "fuzz", "remote_cache", "grpcs://c.example");
		bazel_opts_add(&cmd, BAZEL_OPT_DEFAULT, "fuzz", "remote_upload_local_results", "false");
		bazel_opts_add(&cmd, BAZEL_OPT_DEFAULT, "fuzz", "jobs", "8");
		for (unsigned flags = 0; flags < 2; flags++) {
			struct strv out;
			strv_init(&out);
			fw_error_clear(&err);
			int b = bazel_argv_build(&c, &st, &cmd, flags, &out, &err);
			fuzz_check_error(b, &err);
			if (b == 0 && c.has_dashdash) {
				/* the residue is never touched: it ends the argv exactly */
				FUZZ_CHECK(out.n >= c.residue.n);
				for (size_t i = 0; i < c.residue.n; i++)
					FUZZ_CHECK(strcmp(out.v[out.n - c.residue.n + i], c.residue.v[i]) == 0);
			}
			strv_release(&out);
		}
		bazel_opts_release(&st);
		bazel_opts_release(&cmd);
	}
	bazel_cmdline_release(&c);
	strv_release(&words);
	return 0;
}

/* ---- inputs manifest: parse, write, parse again -------------------------- */

static inline int fuzz_manifest(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	struct manifest m;
	struct fw_error err;
	fw_error_clear(&err);
	manifest_init(&m);
	int r = manifest_parse((const char *)data, size, "fuzz.json", &m, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		char *text = NULL;
		FUZZ_CHECK(manifest_write(&m, &text, &err) == 0);
		struct manifest m2;
		manifest_init(&m2);
		fw_error_clear(&err);
		FUZZ_CHECK(manifest_parse(text, strlen(text), "again.json", &m2, &err) == 0);
		FUZZ_CHECK(m2.n_inputs == m.n_inputs && m2.version == m.version && m2.expires == m.expires);
		char *text2 = NULL;
		FUZZ_CHECK(manifest_write(&m2, &text2, &err) == 0);
		FUZZ_CHECK(strcmp(text, text2) == 0);
		for (size_t i = 0; i < m.n_inputs; i++) {
			FUZZ_CHECK(manifest_name_problem(m.inputs[i].name) == NULL);
			FUZZ_CHECK(m.inputs[i].size <= MANIFEST_SIZE_MAX);
		}
		free(text);
		free(text2);
		manifest_release(&m2);
	} else {
		FUZZ_CHECK(m.n_inputs == 0);
	}
	manifest_release(&m);
	return 0;
}

/* ---- keys and signatures ------------------------------------------------- */

static inline int fuzz_sign(const uint8_t *data, size_t size)
{
	if (size > SIGN_FILE_MAX * 2)
		return 0;
	char *s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	struct sign_pubkey k;
	struct fw_error err;
	fw_error_clear(&err);
	int r = sign_pubkey_parse(s, "fuzz.pub", &k, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(sign_name_problem(k.name) == NULL);
	/* the input as a signature over a fixed text, with a fixed trusted key */
	static const struct sign_pubkey trusted = {
		.name = "fuzz",
		.pk = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
			0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
			0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a },
	};
	const struct sign_pubkey *used = NULL;
	fw_error_clear(&err);
	r = sign_verify("manifest", 8, s, "fuzz.sig", &trusted, 1, &used, &err);
	fuzz_check_error(r, &err);
	/* a random signature verifying would be a forgery */
	FUZZ_CHECK(r < 0);
	(void)sign_name_problem(s);
	free(s);
	return 0;
}

/* ---- REAPI Capabilities answer ------------------------------------------- */

static inline int fuzz_reapi(const uint8_t *data, size_t size)
{
	if (size > REAPI_MSG_MAX + 64)
		return 0;
	const uint8_t *msg = NULL;
	size_t mlen = 0;
	int r = reapi_unframe(data, size, &msg, &mlen);
	if (r == 0)
		FUZZ_CHECK(msg >= data && msg + mlen <= data + size && mlen <= REAPI_MSG_MAX);
	/* the raw bytes as a message too */
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *p = pass ? msg : data;
		size_t n = pass ? mlen : size;
		if (pass && r != 0)
			break;
		struct reapi_caps caps;
		memset(&caps, 0, sizeof(caps));
		if (reapi_caps_decode(p, n, &caps) == 0) {
			char buf[256];
			reapi_caps_describe(&caps, buf, sizeof(buf));
			for (int w = 0; w < 4; w++) {
				struct fw_error err;
				fw_error_clear(&err);
				int c = reapi_caps_check(&caps, w & 1, w & 2, "fuzz", &err);
				fuzz_check_error(c, &err);
			}
		}
	}
	return 0;
}

/* ---- execution log, JSON stream (fed in chunks split by the first byte) --- */

static inline int fuzz_execlog_json(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_INPUT_MAX)
		return 0;
	size_t chunk = (size_t)data[0] % 17 + 1;
	data++, size--;
	struct execlog_json *s = execlog_json_new();
	if (!s)
		return 0;
	int r = 0;
	for (size_t off = 0; off < size && r == 0; off += chunk)
		r = execlog_json_feed(s, data + off, size - off < chunk ? size - off : chunk);
	struct execlog_counts c;
	memset(&c, 0, sizeof(c));
	if (r == 0 && execlog_json_finish(s, &c) == 0) {
		uint64_t sum = 0;
		for (int i = 0; i < EXECLOG_CLASS__MAX; i++)
			sum += c.by_class[i];
		FUZZ_CHECK(sum == c.spawns);
	}
	execlog_json_free(s);
	return 0;
}

/* ---- execution log, compact (decompressed varint stream) ----------------- */

static inline int fuzz_execlog_compact(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_INPUT_MAX)
		return 0;
	size_t chunk = (size_t)data[0] * 3 + 1;
	data++, size--;
	struct execlog_compact *s = execlog_compact_new();
	if (!s)
		return 0;
	int r = 0;
	for (size_t off = 0; off < size && r == 0; off += chunk)
		r = execlog_compact_feed(s, data + off, size - off < chunk ? size - off : chunk);
	struct execlog_counts c;
	memset(&c, 0, sizeof(c));
	if (r == 0 && execlog_compact_finish(s, &c) == 0) {
		uint64_t sum = 0;
		for (int i = 0; i < EXECLOG_CLASS__MAX; i++)
			sum += c.by_class[i];
		FUZZ_CHECK(sum == c.spawns);
		FUZZ_CHECK(c.spawns <= c.entries);
	}
	execlog_compact_free(s);
	return 0;
}

/* ---- build event JSON file, line by line --------------------------------- */

static inline int fuzz_bep(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	struct bep_summary s;
	memset(&s, 0, sizeof(s));
	size_t start = 0;
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			(void)bep_summary_add_line(&s, (const char *)data + start, i - start);
			start = i + 1;
		}
	FUZZ_CHECK(s.n_runners <= BEP_RUNNERS_MAX);
	for (size_t i = 0; i < s.n_runners; i++)
		FUZZ_CHECK(strnlen(s.runners[i].name, BEP_RUNNER_NAME_MAX) < BEP_RUNNER_NAME_MAX);
	struct execlog_counts c;
	memset(&c, 0, sizeof(c));
	char buf[512];
	(void)execlog_crosscheck(&c, &s, buf, sizeof(buf));
	return 0;
}

/* ---- eligibility manifest ------------------------------------------------ */

static inline int fuzz_eligibility(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	struct elig_manifest m;
	struct fw_error err;
	fw_error_clear(&err);
	eligibility_init(&m);
	int r = eligibility_parse((const char *)data, size, "fuzz.json", &m, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		for (size_t i = 0; i < m.n_classes; i++) {
			FUZZ_CHECK(eligibility_find_class(&m, m.classes[i].name) != NULL);
			if (m.classes[i].labels.n) {
				const char *t[] = { m.classes[i].labels.v[0], "//x:y", "-//a/...", "rel" };
				struct elig_decision d;
				(void)eligibility_check_targets(&m, t, 4, &d);
				(void)eligibility_check_targets(&m, t, 1, &d);
			}
		}
	} else {
		FUZZ_CHECK(m.n_classes == 0);
	}
	eligibility_release(&m);
	return 0;
}

/* ---- credential-helper request ------------------------------------------- */

static inline int fuzz_credhelper(const uint8_t *data, size_t size)
{
	if (size > CREDHELPER_REQUEST_MAX + 64)
		return 0;
	char *uri = NULL;
	int r = credhelper_parse_request((const char *)data, size, &uri);
	if (r == 0) {
		FUZZ_CHECK(uri != NULL);
		FUZZ_CHECK(strlen(uri) <= CREDHELPER_URI_MAX);
		free(uri);
	} else {
		FUZZ_CHECK(r < 0);
	}
	return 0;
}

/* ---- narinfo and nix.conf ------------------------------------------------ */

static inline int fuzz_narinfo(const uint8_t *data, size_t size)
{
	if (size > NARINFO_BODY_MAX + 64)
		return 0;
	struct narinfo n;
	struct fw_error err;
	fw_error_clear(&err);
	narinfo_init(&n);
	int r = narinfo_parse((const char *)data, size, &n, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		char *fp = NULL;
		fw_error_clear(&err);
		if (narinfo_fingerprint(&n, "/nix/store", &fp, &err) == 0)
			free(fp);
		struct strv keys;
		strv_init(&keys);
		strv_push(&keys, "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=");
		char name[NARINFO_KEY_NAME_MAX];
		fw_error_clear(&err);
		int v = narinfo_verify(&n, "/nix/store", &keys, name, sizeof(name), &err);
		FUZZ_CHECK(v != NARINFO_SIG_OK); /* nobody forges cache.nixos.org's key by chance */
		strv_release(&keys);
	}
	narinfo_release(&n);
	/* the same bytes as a nix.conf (includes refused: no directory) */
	char *s = fuzz_cstr(data, size);
	if (s) {
		struct narinfo_conf c;
		narinfo_conf_init(&c);
		fw_error_clear(&err);
		r = narinfo_conf_parse(&c, s, "fuzz.conf", NULL, &err);
		fuzz_check_error(r, &err);
		narinfo_conf_release(&c);
		free(s);
	}
	return 0;
}

struct fuzz_target {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
};

static const struct fuzz_target fuzz_targets[] = {
	{ "config", fuzz_config },
	{ "envfile", fuzz_envfile },
	{ "endpoint", fuzz_endpoint },
	{ "bazel_argv", fuzz_bazel_argv },
	{ "manifest", fuzz_manifest },
	{ "sign", fuzz_sign },
	{ "reapi", fuzz_reapi },
	{ "execlog_json", fuzz_execlog_json },
	{ "execlog_compact", fuzz_execlog_compact },
	{ "bep", fuzz_bep },
	{ "eligibility", fuzz_eligibility },
	{ "credhelper", fuzz_credhelper },
	{ "narinfo", fuzz_narinfo },
};

#endif
