/* test_allocfail.c - allocation-failure torture for every parser.
 *
 * Linked with -Wl,--wrap= for malloc, calloc, realloc, free, strdup, strndup,
 * vasprintf, sodium_malloc and sodium_free (tests/meson.build, this executable
 * only), so every allocation made by flywheel's code and by the statically
 * linked libraries (jansson, inih, libsodium) passes through the wrappers
 * below; jansson is also hooked through json_set_alloc_funcs so a shared
 * jansson is covered too.  For each parser and each n = 1, 2, ... the n-th
 * allocation fails; the parser must end in a clean error (negative return,
 * an fw_error with a message where the API has one) or a result identical to
 * the undisturbed run, and every allocation it made must be freed (the
 * wrappers keep a table of live blocks).  The loop ends when a run makes fewer
 * than n allocations: the parse completed.
 *
 * Not covered: allocations inside shared libraries that do not take an
 * allocator (protobuf-c's unpack in the capabilities and compact-log
 * decoders, libzstd); those libraries' own failure handling applies there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <execinfo.h>
#include <jansson.h>
#include <sodium.h>
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
#include "flywheel/execlog.h"
#include "flywheel/manifest.h"
#include "flywheel/narinfo.h"
#include "flywheel/reapi.h"
#include "flywheel/sign.h"
#include "flywheel/util.h"

#include "flywheel/banned.h"

/* ---- the wrappers ---------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__real_sodium_malloc(size_t n);
void __real_sodium_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);
void *__wrap_sodium_malloc(size_t n);
void __wrap_sodium_free(void *p);

static bool armed;          /* count and track allocations */
static unsigned long calls; /* allocations attempted while armed */
static unsigned long fail_at; /* 0: never fail */
static unsigned long injected;

#define LIVE_SLOTS (1u << 18)
static void *live[LIVE_SLOTS];
static const char *live_kind[LIVE_SLOTS];
static size_t n_live;
#define TOMBSTONE ((void *)1)

static size_t slot_of(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0xed5ad4bbu;
	x ^= x >> 11;
	return (size_t)x & (LIVE_SLOTS - 1);
}

static void live_add(void *p, const char *kind)
{
	if (!armed || !p)
		return;
	size_t i = slot_of(p);
	while (live[i] && live[i] != TOMBSTONE)
		i = (i + 1) & (LIVE_SLOTS - 1);
	live[i] = p;
	live_kind[i] = kind;
	n_live++;
}

/* Returns true when p was tracked (and removes it). */
static bool live_del(void *p)
{
	if (!p || !n_live)
		return false;
	size_t i = slot_of(p);
	for (size_t k = 0; k < LIVE_SLOTS && live[i]; k++, i = (i + 1) & (LIVE_SLOTS - 1))
		if (live[i] == p) {
			live[i] = TOMBSTONE;
			n_live--;
			return true;
		}
	return false;
}

static void live_reset(void)
{
	memset(live, 0, sizeof(live));
	n_live = 0;
}

/* true: this allocation must fail */
static bool should_fail(void)
{
	if (!armed)
		return false;
	calls++;
	if (fail_at && calls == fail_at) {
		injected++;
		if (getenv("ALLOCFAIL_TRACE")) { /* where the failure lands, for debugging */
			void *frames[16];
			armed = false;
			int n = backtrace(frames, 16);
			backtrace_symbols_fd(frames, n, 2);
			armed = true;
		}
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __real_malloc(n);
	live_add(p, "malloc");
	return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __real_calloc(n, m);
	live_add(p, "calloc");
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL; /* p stays valid, as with a real failure */
	}
	bool tracked = live_del(p);
	void *q = __real_realloc(p, n);
	if (!q && p && tracked)
		live_add(p, "realloc");
	else if (q && (tracked || !p))
		live_add(q, "realloc");
	return q;
}

void __wrap_free(void *p)
{
	live_del(p);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t l = strnlen(s, n);
	char *p = __wrap_malloc(l + 1);
	if (p) {
		memcpy(p, s, l);
		p[l] = '\0';
	}
	return p;
}

int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -1;
	char *p = __wrap_malloc((size_t)n + 1);
	if (!p)
		return -1;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	*ret = p;
	return n;
}

void *__wrap_sodium_malloc(size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __real_sodium_malloc(n);
	live_add(p, "sodium_malloc");
	return p;
}

void __wrap_sodium_free(void *p)
{
	live_del(p);
	__real_sodium_free(p);
}

static void *json_malloc_hook(size_t n)
{
	return __wrap_malloc(n);
}

static void json_free_hook(void *p)
{
	__wrap_free(p);
}

/* ---- the parsers under torture ------------------------------------------------ */

/* One parse.  Returns >= 0 on success (a digest of the result, compared with
 * the undisturbed run), negative on a clean error.  Must free everything. */
typedef long (*parse_fn)(void);

static char ws_dir[64];

static unsigned long empty_what;

static long err_result(int r, const struct fw_error *err, bool has_err)
{
	if (r >= 0)
		return r;
	if (has_err) {
		assert_true(fw_error_isset(err));
		/* known: jansson leaves json_error_t.text empty when it runs out of
		 * memory, and callers print it as "what is wrong"; counted, reported */
		if (!err->what[0])
			empty_what++;
	}
	return -1;
}

static long p_envfile_cb_count;
static int envfile_count(void *ud, const char *key, const char *value, unsigned line, struct fw_error *err)
{
	p_envfile_cb_count++;
	return 0;
}

static long p_envfile(void)
{
	static const char text[] = "# c\nexport BAZEL_REMOTE_CACHE=grpcs://c.example\nA='x y'\nB=\"q\\\"q\"\nC=\n";
	struct fw_error err = { 0 };
	p_envfile_cb_count = 0;
	int r = envfile_parse(text, sizeof(text) - 1, ".env.flywheel.local", envfile_count, NULL, &err);
	return r < 0 ? err_result(r, &err, true) : p_envfile_cb_count;
}

static long p_config(void)
{
	char *envp[] = { (char *)"BAZEL_REMOTE_INSTANCE_NAME=main/ci", (char *)"GF_BAZEL_JOBS=8",
			 (char *)"BAZEL_REMOTE_HEADER=x-a=b", NULL };
	struct config c;
	struct fw_error err = { 0 };
	config_init(&c);
	struct config_opts o = { .envp = envp, .cwd = ws_dir, .workspace = ws_dir, .no_user_file = true };
	int r = config_load(&c, &o, &err);
	long out = 0;
	if (r == 0) {
		const char *v = config_get(&c, CFG_REMOTE_CACHE);
		out = v ? (long)strlen(v) : 0;
	}
	config_release(&c);
	return r < 0 ? err_result(r, &err, true) : out;
}

static long p_endpoint(void)
{
	struct endpoint ep;
	enum ep_error e = endpoint_parse("grpcs://cache.example:8443", EP_CACHE_SCHEMES, &ep);
	if (e != EP_OK) {
		assert_int_equal(e, EP_E_NOMEM);
		return -1;
	}
	long out = ep.port;
	endpoint_release(&ep);
	e = endpoint_parse("http://[::1]:8080/cache/", EP_CACHE_SCHEMES, &ep);
	if (e != EP_OK) {
		assert_int_equal(e, EP_E_NOMEM);
		return -1;
	}
	out += ep.port;
	endpoint_release(&ep);
	return out;
}

static long p_argv(void)
{
	char *args[] = { (char *)"--output_base=/o", (char *)"build", (char *)"-c", (char *)"opt",
			 (char *)"//a/...", (char *)"--", (char *)"-//a/b" };
	struct bazel_cmdline c;
	struct fw_error err = { 0 };
	bazel_cmdline_init(&c);
	int r = bazel_cmdline_parse(FW_ARRAY_SIZE(args), args, &c, &err);
	long out = -1;
	if (r == 0) {
		struct bazel_opts st, cmd;
		bazel_opts_init(&st);
		bazel_opts_init(&cmd);
		struct strv argv;
		strv_init(&argv);
		if (bazel_opts_add(&st, BAZEL_OPT_DEFAULT, "t", "output_user_root", "/our") == 0 &&
		    bazel_opts_add(&cmd, BAZEL_OPT_REQUIRED, "t", "remote_cache", "grpcs://c") == 0 &&
		    bazel_opts_addf(&cmd, BAZEL_OPT_DEFAULT, "t", "jobs", "%d", 8) == 0) {
			r = bazel_argv_build(&c, &st, &cmd, 0, &argv, &err);
			if (r == 0)
				out = (long)argv.n;
			else
				err_result(r, &err, true);
		}
		strv_release(&argv);
		bazel_opts_release(&st);
		bazel_opts_release(&cmd);
	} else {
		err_result(r, &err, true);
	}
	bazel_cmdline_release(&c);
	return out;
}

static unsigned long jansson_dump_oom;

static long p_manifest(void)
{
	static const char text[] =
		"{\"schema\":\"flywheel-inputs/1\",\"version\":3,\"expires\":\"2099-01-01T00:00:00Z\",\"inputs\":["
		"{\"name\":\"b.tgz\",\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		"\"size\":10,\"urls\":[\"https://m/b\",\"https://u/b\"],\"canonical_urls\":[\"https://u/b\"]},"
		"{\"name\":\"a.tgz\",\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		"\"size\":11,\"urls\":[\"https://m/a\"],\"status\":\"deferred\"}]}";
	struct manifest m;
	struct fw_error err = { 0 };
	manifest_init(&m);
	int r = manifest_parse(text, sizeof(text) - 1, "m.json", &m, &err);
	long out = -1;
	if (r == 0) {
		char *w = NULL;
		r = manifest_write(&m, &w, &err);
		if (r == 0) {
			out = (long)strlen(w);
			/* jansson's dumper ignores a failed write of an object key (dump.c,
			 * do_dump: dump_string's result is not checked), so under memory
			 * pressure json_dumps can return text with a key missing.  Such
			 * text never parses as a manifest again (checked here); counted
			 * and reported as a third-party limit. */
			struct manifest again;
			manifest_init(&again);
			struct fw_error e2 = { 0 };
			bool was = armed;
			armed = false;
			if (manifest_parse(w, strlen(w), "again.json", &again, &e2) < 0) {
				jansson_dump_oom++;
				out = -1;
			}
			armed = was;
			manifest_release(&again);
		} else
			err_result(r, &err, true);
		free(w);
	} else {
		assert_int_equal(m.n_inputs, 0);
		err_result(r, &err, true);
	}
	manifest_release(&m);
	return out;
}

static long p_sign(void)
{
	struct sign_pubkey k;
	struct fw_error err = { 0 };
	int r = sign_pubkey_parse("test:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "t.pub", &k, &err);
	if (r < 0)
		return err_result(r, &err, true);
	fw_error_clear(&err);
	const struct sign_pubkey *used = NULL;
	r = sign_verify("manifest", 8,
			"test:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
			"t.sig", &k, 1, &used, &err);
	/* never verifies; the error must still be clean */
	assert_true(r < 0);
	assert_true(fw_error_isset(&err));
	return 1;
}

static long p_eligibility(void)
{
	static const char text[] =
		"{\"classes\":[{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"//a/...\",\"//b:c\"],"
		"\"allowed_modes\":[\"executor\",\"cache\"],\"requirements\":[\"r\"],\"proof\":\"p.json\"},"
		"{\"name\":\"b\",\"status\":\"blocked\",\"labels\":[\"//a/x/...\"],\"allowed_modes\":[\"local\"],"
		"\"blockers\":[\"network\"],\"boundary\":\"x\"}]}";
	struct elig_manifest m;
	struct fw_error err = { 0 };
	eligibility_init(&m);
	int r = eligibility_parse(text, sizeof(text) - 1, "e.json", &m, &err);
	long out = -1;
	if (r == 0) {
		const char *t[] = { "//a/y:z" };
		struct elig_decision d;
		if (eligibility_check_targets(&m, t, 1, &d) == 0)
			out = (long)m.n_classes * 10 + d.eligible;
	} else {
		assert_int_equal(m.n_classes, 0);
		err_result(r, &err, true);
	}
	eligibility_release(&m);
	return out;
}

static long p_credhelper(void)
{
	static const char text[] = "{\"uri\":\"https://cache.example/ac/x\",\"other\":[1,{\"a\":null}]}";
	char *uri = NULL;
	int r = credhelper_parse_request(text, sizeof(text) - 1, &uri);
	long out = r == 0 ? (long)strlen(uri) : -1;
	free(uri);
	return out;
}

static long p_execlog_json(void)
{
	static const char text[] = "{\"runner\":\"remote\",\"remoteCacheHit\":false}"
				   "{\"runner\":\"linux-sandbox\",\"cacheHit\":false,\"exitCode\":1,"
				   "\"inputs\":[{\"path\":\"a\",\"digest\":{\"hash\":\"x\"}}]}";
	struct execlog_json *s = execlog_json_new();
	if (!s)
		return -1;
	int r = execlog_json_feed(s, text, 20);
	if (r == 0)
		r = execlog_json_feed(s, text + 20, sizeof(text) - 21);
	struct execlog_counts c;
	if (r == 0)
		r = execlog_json_finish(s, &c);
	execlog_json_free(s);
	return r == 0 ? (long)c.spawns * 10 + (long)c.by_class[EXECLOG_REMOTE] : -1;
}

static long p_bep(void)
{
	static const char l[] = "{\"id\":{\"buildMetrics\":{}},\"buildMetrics\":{\"actionSummary\":{"
				"\"runnerCount\":[{\"name\":\"total\",\"count\":6},{\"name\":\"remote\",\"count\":3}]}}}";
	struct bep_summary s;
	memset(&s, 0, sizeof(s));
	int r = bep_summary_add_line(&s, l, sizeof(l) - 1);
	return r == 0 ? (long)s.total : -1;
}

static long p_narinfo(void)
{
	static const char text[] =
		"StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\n"
		"URL: nar/x.nar\nCompression: none\n"
		"NarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 120\n"
		"References: 1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\n"
		"Sig: test-1:PLE44jCvDr91F8QZFvKTKZ0oQR0gqfMFNZt462zpbbyNfTA3eWu4k43MYEz2WOJKikWf3yM44CC+JKjsNc/rAA==\n";
	struct narinfo n;
	struct fw_error err = { 0 };
	narinfo_init(&n);
	int r = narinfo_parse(text, sizeof(text) - 1, &n, &err);
	long out = -1;
	if (r == 0) {
		char *fp = NULL;
		fw_error_clear(&err);
		r = narinfo_fingerprint(&n, "/nix/store", &fp, &err);
		if (r == 0)
			out = (long)strlen(fp);
		else
			err_result(r, &err, true);
		free(fp);
	} else {
		err_result(r, &err, true);
	}
	narinfo_release(&n);
	return out;
}

static long p_nixconf(void)
{
	static const char text[] = "substituters = https://cache.nixos.org https://c.example/\n"
				   "extra-trusted-public-keys = test-1:KaGurkp74S8BsvShSo9pgfLFWqXNzTXfTfUQe21GMH4=\n";
	struct narinfo_conf c;
	struct fw_error err = { 0 };
	narinfo_conf_init(&c);
	int r = narinfo_conf_parse(&c, text, "nix.conf", NULL, &err);
	long out = r == 0 ? (long)(c.substituters.n * 10 + c.trusted_keys.n) : err_result(r, &err, true);
	narinfo_conf_release(&c);
	return out;
}

/* json: the parser reads JSON with jansson, whose lexer drops a byte when
 * growing its string buffer fails (load.c lex_save ignores
 * strbuffer_append_byte's result), so a parse can succeed with a string one
 * byte short.  For those parsers a different successful result is counted
 * and reported as that third-party limit instead of failing the test. */
static const struct {
	const char *name;
	parse_fn fn;
	bool json;
} parsers[] = {
	{ "envfile", p_envfile, false },
	{ "config", p_config, false },
	{ "endpoint", p_endpoint, false },
	{ "bazel argv", p_argv, false },
	{ "manifest", p_manifest, true },
	{ "sign", p_sign, false },
	{ "eligibility", p_eligibility, true },
	{ "credential-helper request", p_credhelper, true },
	{ "execution log (JSON)", p_execlog_json, false },
	{ "build events", p_bep, true },
	{ "narinfo", p_narinfo, false },
	{ "nix.conf", p_nixconf, false },
};

static unsigned long jansson_lossy;

static void report_leaks(const char *name, unsigned long n)
{
	for (size_t i = 0; i < LIVE_SLOTS; i++)
		if (live[i] && live[i] != TOMBSTONE)
			print_error("%s: allocation failure %lu: %s block %p never freed\n", name, n, live_kind[i], live[i]);
}

static void test_allocfail(void **state)
{
	(void)state;
	json_set_alloc_funcs(json_malloc_hook, json_free_hook);
	assert_true(sodium_init() >= 0);
	snprintf(ws_dir, sizeof(ws_dir), "/tmp/fw-allocfail.XXXXXX");
	assert_non_null(mkdtemp(ws_dir));
	char ini[128], env[128];
	snprintf(ini, sizeof(ini), "%s/flywheel.ini", ws_dir);
	snprintf(env, sizeof(env), "%s/.env.flywheel.local", ws_dir);
	static const char ini_text[] = "[core]\nfallback = local\n[remote]\ncache = grpcs://cache.example\n"
				       "[trust]\nrelease = release:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
				       "[bazel]\ndistdir = a:b\n";
	assert_int_equal(write_file_atomic(ini, ini_text, sizeof(ini_text) - 1, 0600), 0);
	static const char env_text[] = "GF_BAZEL_REMOTE_UPLOAD=false\nBAZEL_REPOSITORY_CACHE=rc\n";
	assert_int_equal(write_file_atomic(env, env_text, sizeof(env_text) - 1, 0600), 0);

	unsigned long total_runs = 0, total_injected = 0, leaks = 0;
	for (size_t i = 0; i < FW_ARRAY_SIZE(parsers); i++) {
		/* the undisturbed run, counted */
		live_reset();
		calls = 0;
		fail_at = 0;
		armed = true;
		long want = parsers[i].fn();
		armed = false;
		unsigned long baseline = calls;
		assert_true(want >= 0);
		if (n_live) {
			report_leaks(parsers[i].name, 0);
			leaks += n_live;
		}
		unsigned long n;
		for (n = 1;; n++) {
			live_reset();
			calls = 0;
			fail_at = n;
			armed = true;
			long got = parsers[i].fn();
			armed = false;
			total_runs++;
			if (n_live) {
				report_leaks(parsers[i].name, n);
				leaks += n_live;
			}
			if (calls < n) /* nothing failed: the parse completed */
				break;
			total_injected++;
			if (got >= 0 && got != want && parsers[i].json) {
				jansson_lossy++;
			} else if (got >= 0 && got != want) {
				print_error("%s: allocation %lu failed but the parse succeeded with another result (%ld, want %ld)\n",
					    parsers[i].name, n, got, want);
				fail();
			}
		}
		printf("allocfail: %-26s %3lu allocations, each failed in turn: clean\n", parsers[i].name, baseline);
	}
	fail_at = 0;
	json_set_alloc_funcs(malloc, free);
	unlink(ini);
	unlink(env);
	rmdir(ws_dir);
	printf("allocfail: %zu parsers, %lu runs, %lu allocation failures injected, %lu leaks\n",
	       FW_ARRAY_SIZE(parsers), total_runs, total_injected, leaks);
	if (jansson_lossy)
		printf("allocfail: third-party: %lu runs where jansson's lexer lost a byte of a string to a failed "
		       "allocation and the parse still succeeded\n", jansson_lossy);
	if (empty_what)
		printf("allocfail: finding: %lu clean errors with an empty \"what is wrong\" (json_loadb out of memory: "
		       "jansson's error text is empty)\n", empty_what);
	if (jansson_dump_oom)
		printf("allocfail: third-party: %lu runs where json_dumps lost an object key to a failed allocation "
		       "(the written manifest does not parse, so it is refused, never misread)\n", jansson_dump_oom);
	assert_int_equal(leaks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocfail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
