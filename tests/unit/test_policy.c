/* test_policy.c - the configuration layers and every validation rule, each with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flywheel/config.h"
#include "flywheel/policy.h"

struct world {
	const char *ini;      /* flywheel.ini content or NULL */
	const char *user;     /* user config.ini content or NULL */
	const char *envfile;  /* .env.flywheel.local content or NULL */
	const char *env[12];  /* NAME=VALUE, NULL-terminated */
	const char *opt_mode;
};

static char tmpdir[256];

static void write_text(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fw-test-policy-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 0);
	return 0;
}

/* Build a fresh workspace for w and load it.  Returns config_load's result. */
static int load_world(const struct world *w, struct config *c, struct fw_error *err, char *ws, size_t wslen)
{
	static unsigned counter;
	snprintf(ws, wslen, "%s/ws%u", tmpdir, counter++);
	assert_int_equal(mkdir(ws, 0700), 0);
	write_text(ws, "WORKSPACE", "");
	if (w->ini)
		write_text(ws, "flywheel.ini", w->ini);
	if (w->envfile)
		write_text(ws, ".env.flywheel.local", w->envfile);
	char xdg[600];
	snprintf(xdg, sizeof(xdg), "%s/xdg", ws);
	if (w->user) {
		char d[640];
		snprintf(d, sizeof(d), "%s/flywheel", xdg);
		assert_int_equal(mkdir(xdg, 0700), 0);
		assert_int_equal(mkdir(d, 0700), 0);
		write_text(d, "config.ini", w->user);
	}
	char xdgvar[700];
	snprintf(xdgvar, sizeof(xdgvar), "XDG_CONFIG_HOME=%s", xdg);
	char *envp[16];
	size_t n = 0;
	envp[n++] = xdgvar;
	for (size_t i = 0; w->env[i]; i++)
		envp[n++] = (char *)w->env[i];
	envp[n] = NULL;
	struct config_opts o = { .envp = envp, .cwd = ws, .opt_mode = w->opt_mode };
	config_init(c);
	return config_load(c, &o, err);
}

/* Load and build the plan; on error format the message into msg. */
static int run(const struct world *w, struct fw_plan *p, char *msg, size_t msglen)
{
	struct config c;
	struct fw_error err = { 0 };
	char ws[512];
	plan_init(p);
	int r = load_world(w, &c, &err, ws, sizeof(ws));
	if (r == 0) {
		struct policy_opts po = { .default_token_file = "/nonexistent/token" };
		r = policy_build(&c, &po, p, NULL, &err);
	}
	msg[0] = '\0';
	if (r < 0) {
		fw_error_format(&err, msg, msglen);
		assert_int_equal(err.exit_code, FW_EX_CONFIG);
		assert_null(strchr(msg, '\n'));
		assert_true(err.fix[0] != '\0');
	}
	config_release(&c);
	return r;
}

static const struct {
	struct world w;
	const char *message; /* substring of the one-line error */
} refused[] = {
	/* placeholders */
	{ { .env = { "BAZEL_REMOTE_CACHE=grpcs://${CACHE_HOST}", NULL } },
	  "BAZEL_REMOTE_CACHE from environment: holds an unexpanded placeholder" },
	{ { .env = { "BAZEL_REMOTE_INSTANCE_NAME=main}", NULL } },
	  "BAZEL_REMOTE_INSTANCE_NAME from environment: holds an unexpanded placeholder" },
	{ { .ini = "[remote]\ncache = grpcs://$(host)\n" }, "remote.cache from " },
	/* schemes */
	{ { .env = { "BAZEL_REMOTE_CACHE=ftp://cache.example", NULL } },
	  "BAZEL_REMOTE_CACHE from environment: 'ftp://cache.example': unknown URL scheme" },
	{ { .env = { "BAZEL_REMOTE_EXECUTOR=https://exec.example", NULL } },
	  "BAZEL_REMOTE_EXECUTOR from environment: 'https://exec.example': scheme not allowed here" },
	/* userinfo, redacted */
	{ { .env = { "BAZEL_REMOTE_CACHE=grpcs://bob:hunter2@cache.example", NULL } },
	  "BAZEL_REMOTE_CACHE from environment: '<redacted>': credentials in the URL" },
	/* loopback */
	{ { .env = { "BAZEL_REMOTE_CACHE=grpc://127.0.0.1:9092", NULL } },
	  "'grpc://127.0.0.1:9092' is a loopback address; loopback endpoints are refused unless GF_BAZEL_LOCAL_PROOF=port-forward" },
	{ { .env = { "BAZEL_REMOTE_CACHE=grpc://localhost:9092", "GF_BAZEL_LOCAL_PROOF=yes", NULL } },
	  "GF_BAZEL_LOCAL_PROOF from environment: unknown value 'yes'" },
	/* denylist */
	{ { .ini = "[remote]\ndenylist = old-cache.example, *.retired.example\n",
	    .env = { "BAZEL_REMOTE_CACHE=grpcs://old-cache.example", NULL } },
	  "BAZEL_REMOTE_CACHE from environment: 'grpcs://old-cache.example' is on the denylist" },
	{ { .ini = "[remote]\ndenylist = *.retired.example\n", .env = { "BAZEL_REMOTE_EXECUTOR=grpcs://x.retired.example", NULL } },
	  "is on the denylist" },
	/* instance names */
	{ { .env = { "BAZEL_REMOTE_INSTANCE_NAME=../other", NULL } },
	  "BAZEL_REMOTE_INSTANCE_NAME from environment: instance name holds '..'" },
	{ { .env = { "BAZEL_REMOTE_INSTANCE_NAME=a b", NULL } }, "instance name may only hold" },
	/* mode agreement */
	{ { .env = { "GF_BAZEL_SUBSTRATE_MODE=shared-cache-backed", NULL } },
	  "GF_BAZEL_SUBSTRATE_MODE from environment: cache mode needs a cache endpoint" },
	{ { .env = { "GF_BAZEL_SUBSTRATE_MODE=executor-backed", "BAZEL_REMOTE_CACHE=grpcs://c.example", NULL } },
	  "executor mode needs an executor endpoint" },
	{ { .env = { "GF_BAZEL_SUBSTRATE_MODE=turbo", NULL } }, "unknown mode 'turbo'" },
	{ { .opt_mode = "cache" }, "--mode from the command line: cache mode needs a cache endpoint" },
	/* upload policy and booleans */
	{ { .env = { "GF_BAZEL_CACHE_ROLE=writer", NULL } }, "GF_BAZEL_CACHE_ROLE from environment: unknown role 'writer'" },
	{ { .env = { "GF_BAZEL_REMOTE_UPLOAD=maybe", NULL } }, "'maybe' is not a boolean" },
	{ { .env = { "GF_BAZEL_JOBS=lots", NULL } }, "GF_BAZEL_JOBS from environment: 'lots' is not a number" },
	{ { .env = { "FLYWHEEL_FALLBACK=retry", NULL } }, "unknown value 'retry'" },
	/* headers */
	{ { .env = { "BAZEL_REMOTE_HEADER=Authorization", NULL } }, "BAZEL_REMOTE_HEADER from environment: a header is NAME=VALUE" },
	{ { .env = { "BAZEL_REMOTE_HEADER=Bad Name=x", NULL } }, "header name may only hold" },
	/* flywheel.ini may not hold secrets */
	{ { .ini = "[remote]\nheader = Authorization=Bearer abc\n" },
	  "remote.header from " },
	{ { .ini = "# policy\n[remote]\ninstance_name = main\nplatform = Bearer xyz\n" },
	  "flywheel.ini:4: secrets are not allowed in flywheel.ini" },
	{ { .ini = "[remote]\ntoken = abc\n" }, "secrets are not allowed in flywheel.ini" },
	/* ini syntax and unknown keys */
	{ { .ini = "[remote]\ncashe = grpcs://c.example\n" }, "remote.cashe from " },
	{ { .ini = "[remote]\ncache\n" }, "flywheel.ini:2: syntax error" },
	{ { .ini = "[remote]\ninstance_name = a\ninstance_name = b\n" }, "set twice in the same file" },
	{ { .user = "[bogus]\nx = 1\n" }, "bogus.x from " },
	/* the env file is data */
	{ { .envfile = "BAZEL_REMOTE_CACHE=$(touch /tmp/flywheel-pwned)\n" },
	  ".env.flywheel.local:1: value contains '$'" },
	{ { .envfile = "NOT_OURS=1\n" }, "NOT_OURS from " },
	/* executor cache split */
	{ { .env = { "GF_BAZEL_SUBSTRATE_MODE=executor", "BAZEL_REMOTE_EXECUTOR=grpcs://e.example",
		     "BAZEL_REMOTE_EXECUTOR_CACHE=grpcs://c.example", NULL } },
	  "BAZEL_REMOTE_EXECUTOR_CACHE from environment: a cache other than the executor's needs explicit permission" },
	/* repositories, TLS, paths, platform */
	{ { .env = { "GF_BAZEL_INJECT_REPOSITORIES=rules_cc=relative/dir", NULL } }, "bad entry 'rules_cc=relative/dir'" },
	{ { .env = { "GF_BAZEL_INJECT_REPOSITORIES=bad name=/x", NULL } }, "bad entry" },
	{ { .env = { "FLYWHEEL_TLS_CLIENT_CERT=/etc/c.pem", NULL } }, "mTLS needs a certificate and its key" },
	{ { .env = { "GF_BAZEL_REMOTE_EXECUTION_PLATFORM=a,b=c", NULL } }, "bad platform name" },
};

static void test_refused(void **state)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct fw_plan p;
		char msg[2048];
		int r = run(&refused[i].w, &p, msg, sizeof(msg));
		plan_release(&p);
		if (r == 0 || !strstr(msg, refused[i].message))
			fail_msg("case %zu: r=%d message '%s' want '%s'", i, r, msg, refused[i].message);
		if (strstr(msg, "hunter2") || strstr(msg, "abc") || strstr(msg, "xyz"))
			fail_msg("case %zu: secret in message '%s'", i, msg);
	}
}

static void test_modes(void **state)
{
	struct fw_plan p;
	char msg[1024];

	struct world none = { 0 };
	assert_int_equal(run(&none, &p, msg, sizeof(msg)), 0);
	assert_int_equal(p.mode, FW_MODE_LOCAL);
	assert_false(p.upload);
	plan_release(&p);

	struct world cache = { .env = { "BAZEL_REMOTE_CACHE=grpcs://c.example,grpcs://d.example:8980", NULL } };
	assert_int_equal(run(&cache, &p, msg, sizeof(msg)), 0);
	assert_int_equal(p.mode, FW_MODE_CACHE);
	assert_string_equal(p.cache_url, "grpcs://c.example");
	assert_int_equal(p.cache_candidates.n, 2);
	plan_release(&p);

	struct world loop = { .env = { "BAZEL_REMOTE_CACHE=grpc://127.0.0.1:1", "GF_BAZEL_LOCAL_PROOF=port-forward", NULL } };
	assert_int_equal(run(&loop, &p, msg, sizeof(msg)), 0);
	assert_int_equal(p.mode, FW_MODE_CACHE);
	plan_release(&p);

	struct world exec = { .env = { "GF_BAZEL_SUBSTRATE_MODE=executor-backed", "BAZEL_REMOTE_EXECUTOR=grpcs://e.example",
				       "BAZEL_REMOTE_CACHE=grpcs://c.example", "GF_BAZEL_JOBS=64", NULL } };
	assert_int_equal(run(&exec, &p, msg, sizeof(msg)), 0);
	assert_int_equal(p.mode, FW_MODE_EXECUTOR);
	assert_string_equal(p.cache_url, "grpcs://e.example"); /* the executor's own cache */
	assert_string_equal(p.platform, "gloriousflywheel-rbe-linux-x86_64");
	assert_int_equal(p.jobs, 64);
	plan_release(&p);

	struct world split = { .env = { "GF_BAZEL_SUBSTRATE_MODE=executor", "BAZEL_REMOTE_EXECUTOR=grpcs://e.example",
					"BAZEL_REMOTE_EXECUTOR_CACHE=grpcs://c.example",
					"GF_BAZEL_ALLOW_SEPARATE_EXECUTOR_CACHE=true", NULL } };
	assert_int_equal(run(&split, &p, msg, sizeof(msg)), 0);
	assert_string_equal(p.cache_url, "grpcs://c.example");
	plan_release(&p);

	/* an option beats the environment: local despite a cache */
	struct world opt = { .env = { "BAZEL_REMOTE_CACHE=grpcs://c.example", NULL }, .opt_mode = "local" };
	assert_int_equal(run(&opt, &p, msg, sizeof(msg)), 0);
	assert_int_equal(p.mode, FW_MODE_LOCAL);
	plan_release(&p);
}

static void test_upload_policy(void **state)
{
	struct fw_plan p;
	char msg[1024];
	struct {
		const char *upload, *role;
		bool want;
	} t[] = {
		{ NULL, NULL, false },
		{ "GF_BAZEL_REMOTE_UPLOAD=true", NULL, true },
		{ "GF_BAZEL_REMOTE_UPLOAD=true", "GF_BAZEL_CACHE_ROLE=read-only", false },
		{ "GF_BAZEL_REMOTE_UPLOAD=false", "GF_BAZEL_CACHE_ROLE=read-write", false },
		{ NULL, "GF_BAZEL_CACHE_ROLE=read-only", false },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct world w = { .env = { "BAZEL_REMOTE_CACHE=grpcs://c.example", t[i].upload ? t[i].upload : t[i].role,
					    t[i].upload ? t[i].role : NULL, NULL } };
		assert_int_equal(run(&w, &p, msg, sizeof(msg)), 0);
		if (p.upload != t[i].want)
			fail_msg("upload case %zu", i);
		plan_release(&p);
	}
}

static void test_fallback_default(void **state)
{
	struct fw_plan p;
	char msg[1024];
	struct world ci = { .env = { "CI=true", NULL } };
	assert_int_equal(run(&ci, &p, msg, sizeof(msg)), 0);
	assert_false(p.fallback_local);
	plan_release(&p);
	struct world dev = { 0 };
	assert_int_equal(run(&dev, &p, msg, sizeof(msg)), 0);
	assert_true(p.fallback_local);
	plan_release(&p);
	struct world forced = { .env = { "CI=true", "FLYWHEEL_FALLBACK=local", NULL } };
	assert_int_equal(run(&forced, &p, msg, sizeof(msg)), 0);
	assert_true(p.fallback_local);
	plan_release(&p);
}

static void test_layers(void **state)
{
	struct world w = {
		.ini = "[remote]\ninstance_name = from-repo\nplatform = repo-platform\njobs = 1\n[trust]\nci = ci:AAAA\n",
		.user = "[remote]\ninstance_name = from-user\njobs = 2\n",
		.envfile = "export GF_BAZEL_JOBS=3\nBAZEL_REMOTE_INSTANCE_NAME='from-envfile'\n",
		.env = { "BAZEL_REMOTE_INSTANCE_NAME=from-env", NULL },
	};
	struct config c;
	struct fw_error err = { 0 };
	char ws[512];
	assert_int_equal(load_world(&w, &c, &err, ws, sizeof(ws)), 0);
	assert_string_equal(config_get(&c, CFG_INSTANCE_NAME), "from-env");
	assert_int_equal(c.v[CFG_INSTANCE_NAME].layer, LAYER_ENV);
	assert_string_equal(config_get(&c, CFG_JOBS), "3");
	assert_int_equal(c.v[CFG_JOBS].layer, LAYER_ENVFILE);
	assert_string_equal(config_get(&c, CFG_PLATFORM), "repo-platform");
	assert_int_equal(c.v[CFG_PLATFORM].layer, LAYER_REPO);
	assert_int_equal(c.v[CFG_VERDICT_TTL].layer, LAYER_DEFAULT);
	char subj[512];
	config_subject(&c, CFG_JOBS, subj, sizeof(subj));
	assert_non_null(strstr(subj, "GF_BAZEL_JOBS from "));
	assert_non_null(strstr(subj, ".env.flywheel.local:1"));
	config_subject(&c, CFG_PLATFORM, subj, sizeof(subj));
	assert_non_null(strstr(subj, "remote.platform from "));
	assert_non_null(strstr(subj, "flywheel.ini:3"));
	assert_int_equal(c.n_trust, 1);
	assert_string_equal(c.trust[0].name, "ci");
	config_release(&c);
}

static void test_paths_absolute(void **state)
{
	struct world w = { .ini = "[bazel]\nrepository_cache = cache/repo\ndistdir = d1:/abs/d2\n" };
	struct config c;
	struct fw_error err = { 0 };
	char ws[512];
	assert_int_equal(load_world(&w, &c, &err, ws, sizeof(ws)), 0);
	char want[600];
	snprintf(want, sizeof(want), "%s/cache/repo", ws);
	assert_string_equal(config_get(&c, CFG_REPOSITORY_CACHE), want);
	snprintf(want, sizeof(want), "%s/d1:/abs/d2", ws);
	assert_string_equal(config_get(&c, CFG_DISTDIR), want);
	config_release(&c);
}

static void test_secret_memory(void **state)
{
	struct world w = { .env = { "GF_REAPI_CREDENTIAL_HELPER_TOKEN=canary-secret", NULL } };
	struct config c;
	struct fw_error err = { 0 };
	char ws[512];
	assert_int_equal(load_world(&w, &c, &err, ws, sizeof(ws)), 0);
	assert_string_equal(config_get(&c, CFG_TOKEN), "canary-secret");
	config_release(&c);
	assert_null(c.v[CFG_TOKEN].value);
}

static void test_secrets_file(void **state)
{
	char path[600], envvar[700];
	snprintf(path, sizeof(path), "%s/secrets.env", tmpdir);
	snprintf(envvar, sizeof(envvar), "FLYWHEEL_SECRETS_FILE=%s", path);
	struct {
		const char *content;
		unsigned mode;
		const char *want_token; /* NULL: refused */
		const char *message;
	} t[] = {
		{ "GF_REAPI_CREDENTIAL_HELPER_TOKEN=\"tok\\$en\"\n", 0600, "tok$en", NULL },
		{ "GF_REAPI_CREDENTIAL_HELPER_TOKEN=tok\n", 0644, NULL, "is not a private file" },
		{ "BAZEL_REMOTE_CACHE=grpcs://x.example\n", 0600, NULL, "not a secret key" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unlink(path);
		write_text(tmpdir, "secrets.env", t[i].content);
		assert_int_equal(chmod(path, t[i].mode), 0);
		struct world w = { .env = { envvar, NULL } };
		struct config c;
		struct fw_error err = { 0 };
		char ws[512];
		int r = load_world(&w, &c, &err, ws, sizeof(ws));
		if (t[i].want_token) {
			assert_int_equal(r, 0);
			assert_string_equal(config_get(&c, CFG_TOKEN), t[i].want_token);
		} else {
			assert_true(r < 0);
			if (!strstr(err.what, t[i].message))
				fail_msg("secrets case %zu: '%s'", i, err.what);
		}
		config_release(&c);
	}
}

static void test_key_lookup(void **state)
{
	assert_int_equal(config_key_lookup("remote.cache"), CFG_REMOTE_CACHE);
	assert_int_equal(config_key_lookup("BAZEL_REMOTE_CACHE"), CFG_REMOTE_CACHE);
	assert_int_equal(config_key_lookup("BAZEL_BIN"), CFG_BAZEL_REAL);
	assert_int_equal(config_key_lookup("nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_upload_policy),
		cmocka_unit_test(test_fallback_default),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_paths_absolute),
		cmocka_unit_test(test_secret_memory),
		cmocka_unit_test(test_key_lookup),
		cmocka_unit_test(test_secrets_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
