/* bazel_argv.c - parse Bazel's command line and merge injected options.
 *
 * The tables here are data about Bazel's option parser:
 *  - startup_unary: startup options the client accepts as "--opt value"
 *    (checked against 4.2.3's src/main/cpp/startup_options.cc and
 *    bazel_startup_options.cc: RegisterUnaryStartupFlag); any other startup
 *    option is nullary.
 *  - cmd_opts: command options flywheel injects or must recognise.  Bazel
 *    lets every non-boolean option take its value as the next word, so an
 *    option missing here and written "--opt word" makes target listing
 *    ambiguous (reported, never guessed away).
 *  - commands: which option groups each command accepts and gets.
 */
#include "flywheel/bazel_argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/banned.h"

/* ---- commands --------------------------------------------------------------
 *
 * From 4.2.3's sources: RemoteModule.getCommandOptions gives RemoteOptions and
 * AuthAndTLSOptions to build, fetch, query, sync and test; commands that
 * inherit from build (run, aquery, cquery via test, coverage via test,
 * print_action, info, clean, config) get them too; BazelRepositoryModule gives
 * RepositoryOptions to every command.  "Accepts" is not "should get":
 *  - info, clean: accept build options but run no action; they get startup
 *    options only, so they answer about (or clean) the same output base the
 *    build uses, and an info never fails on a remote flag.
 *  - query: loads packages and may fetch repositories, runs no action: it gets
 *    repository options and the credential helper (for downloads, 6.3+), no
 *    remote cache.
 *  - fetch, sync: fetch only; they accept remote options (a remote
 *    downloader would use them) but not --jobs or --spawn_strategy.
 *  - mod, vendor (7+): repository options only.
 *  - version, help, shutdown, license and every unknown command: startup
 *    options only (shutdown must reach the same server, so startup options
 *    still matter); an unknown name gets no command options because we do not
 *    know what it accepts.
 */
#define SC_BUILD (BAZEL_SCOPE_REMOTE | BAZEL_SCOPE_AUTH | BAZEL_SCOPE_REPO | BAZEL_SCOPE_EXEC | BAZEL_SCOPE_BEP)

static const struct bazel_command_info commands[] = {
	{ "build", SC_BUILD, "builds: remote, repository and execution options" },
	{ "test", SC_BUILD | BAZEL_SCOPE_TEST, "inherits build; also --test_env" },
	{ "coverage", SC_BUILD | BAZEL_SCOPE_TEST, "inherits test; also --test_env" },
	{ "run", SC_BUILD, "inherits build" },
	{ "cquery", SC_BUILD, "inherits test's options: same configuration as the build, so the analysis cache is shared" },
	{ "aquery", SC_BUILD, "inherits build: same configuration as the build" },
	{ "print_action", SC_BUILD, "inherits build" },
	{ "fetch", BAZEL_SCOPE_REMOTE | BAZEL_SCOPE_AUTH | BAZEL_SCOPE_REPO, "fetches repositories; no execution options" },
	{ "sync", BAZEL_SCOPE_REMOTE | BAZEL_SCOPE_AUTH | BAZEL_SCOPE_REPO, "fetches repositories; no execution options" },
	{ "query", BAZEL_SCOPE_AUTH | BAZEL_SCOPE_REPO, "may fetch repositories, runs no action: no remote cache" },
	{ "mod", BAZEL_SCOPE_REPO, "Bzlmod graph; may fetch" },
	{ "vendor", BAZEL_SCOPE_REPO, "vendors repositories" },
	{ "info", 0, "startup options only: answers for the same output base" },
	{ "clean", 0, "startup options only: cleans the same output base" },
	{ "shutdown", 0, "startup options only: reaches the same server" },
	{ "version", 0, "startup options only" },
	{ "help", 0, "startup options only" },
	{ "license", 0, "startup options only" },
	{ "config", 0, "startup options only" },
	{ "canonicalize-flags", 0, "startup options only" },
	{ "dump", 0, "startup options only" },
	{ "analyze-profile", 0, "startup options only" },
	{ "mobile-install", 0, "startup options only (not supported by flywheel)" },
};

static const struct bazel_command_info unknown_command = {
	"", 0, "unknown command: startup options only",
};

const struct bazel_command_info *bazel_command_lookup(const char *name)
{
	for (size_t i = 0; name && i < FW_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return &unknown_command;
}

unsigned bazel_command_scope(const char *name)
{
	return bazel_command_lookup(name)->scope;
}

const struct bazel_command_info *bazel_command_table(size_t *ret_n)
{
	*ret_n = FW_ARRAY_SIZE(commands);
	return commands;
}

/* ---- options -------------------------------------------------------------- */

enum opt_kind {
	OPT_BOOL,   /* --x, --nox, --x=true|false */
	OPT_VALUE,  /* single value; last one wins */
	OPT_MULTI,  /* accumulates; never a conflict */
	OPT_KEYED,  /* accumulates "key=..." values; last one wins per key */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	const char *canonical; /* set for an old name or alias */
};

static const char *const startup_unary[] = {
	"bazelrc", "command_port", "connect_timeout_secs", "digest_function",
	"experimental_cgroup_parent", "failure_detail_out", "host_jvm_args",
	"host_jvm_profile", "install_base", "install_md5", "invocation_policy",
	"io_nice_level", "local_startup_timeout_secs", "macos_qos_class",
	"max_idle_secs", "output_base", "output_user_root", "server_javabase",
	"server_jvm_out", "unix_digest_hash_attribute_name", "host_javabase",
};

static const struct opt_def startup_defs[] = {
	{ "bazelrc", OPT_MULTI, NULL },
	{ "host_jvm_args", OPT_MULTI, NULL },
};

static const struct opt_def cmd_defs[] = {
	/* remote and auth */
	{ "remote_cache", OPT_VALUE, NULL },
	{ "remote_executor", OPT_VALUE, NULL },
	{ "remote_instance_name", OPT_VALUE, NULL },
	{ "remote_upload_local_results", OPT_BOOL, NULL },
	{ "remote_accept_cached", OPT_BOOL, NULL },
	{ "remote_local_fallback", OPT_BOOL, NULL },
	{ "incompatible_remote_local_fallback_for_remote_cache", OPT_BOOL, NULL },
	{ "remote_timeout", OPT_VALUE, NULL },
	{ "remote_max_connections", OPT_VALUE, NULL },
	{ "remote_default_exec_properties", OPT_KEYED, NULL },
	{ "remote_header", OPT_MULTI, NULL },
	{ "remote_cache_header", OPT_MULTI, NULL },
	{ "remote_exec_header", OPT_MULTI, NULL },
	{ "remote_downloader_header", OPT_MULTI, NULL },
	{ "remote_download_outputs", OPT_VALUE, NULL },
	{ "remote_local_fallback_strategy", OPT_VALUE, NULL },
	{ "experimental_remote_downloader", OPT_VALUE, NULL },
	{ "remote_downloader", OPT_VALUE, NULL },
	{ "disk_cache", OPT_VALUE, NULL },
	{ "credential_helper", OPT_KEYED, NULL },
	{ "experimental_credential_helper", OPT_KEYED, "credential_helper" },
	{ "credential_helper_timeout", OPT_VALUE, NULL },
	{ "credential_helper_cache_duration", OPT_VALUE, NULL },
	{ "tls_certificate", OPT_VALUE, NULL },
	{ "tls_client_certificate", OPT_VALUE, NULL },
	{ "tls_client_key", OPT_VALUE, NULL },
	{ "google_credentials", OPT_VALUE, NULL },
	{ "google_default_credentials", OPT_BOOL, NULL },
	{ "experimental_circuit_breaker_strategy", OPT_VALUE, NULL },
	/* repository */
	{ "distdir", OPT_MULTI, NULL },
	{ "repository_cache", OPT_VALUE, NULL },
	{ "override_repository", OPT_KEYED, NULL },
	{ "inject_repository", OPT_KEYED, NULL },
	{ "downloader_config", OPT_VALUE, NULL },
	{ "experimental_downloader_config", OPT_VALUE, "downloader_config" },
	{ "repository_disable_download", OPT_BOOL, NULL },
	{ "experimental_repository_disable_download", OPT_BOOL, "repository_disable_download" },
	{ "repo_env", OPT_KEYED, NULL },
	{ "override_module", OPT_KEYED, NULL },
	{ "registry", OPT_MULTI, NULL },
	{ "enable_bzlmod", OPT_BOOL, NULL },
	{ "enable_workspace", OPT_BOOL, NULL },
	/* execution and evidence */
	{ "jobs", OPT_VALUE, NULL },
	{ "spawn_strategy", OPT_VALUE, NULL },
	{ "strategy", OPT_KEYED, NULL },
	{ "genrule_strategy", OPT_VALUE, NULL },
	{ "execution_log_json_file", OPT_VALUE, NULL },
	{ "execution_log_binary_file", OPT_VALUE, NULL },
	{ "execution_log_compact_file", OPT_VALUE, NULL },
	{ "experimental_execution_log_compact_file", OPT_VALUE, "execution_log_compact_file" },
	{ "experimental_execution_log_file", OPT_VALUE, NULL },
	{ "build_event_json_file", OPT_VALUE, NULL },
	{ "build_event_binary_file", OPT_VALUE, NULL },
	{ "build_event_text_file", OPT_VALUE, NULL },
	{ "bes_backend", OPT_VALUE, NULL },
	{ "bes_results_url", OPT_VALUE, NULL },
	{ "bes_instance_name", OPT_VALUE, NULL },
	{ "bes_header", OPT_MULTI, NULL },
	{ "profile", OPT_VALUE, NULL },
	/* common build options that take a value */
	{ "config", OPT_MULTI, NULL },
	{ "define", OPT_KEYED, NULL },
	{ "compilation_mode", OPT_VALUE, NULL },
	{ "cpu", OPT_VALUE, NULL },
	{ "host_cpu", OPT_VALUE, NULL },
	{ "crosstool_top", OPT_VALUE, NULL },
	{ "platforms", OPT_VALUE, NULL },
	{ "host_platform", OPT_VALUE, NULL },
	{ "extra_toolchains", OPT_MULTI, NULL },
	{ "extra_execution_platforms", OPT_MULTI, NULL },
	{ "copt", OPT_MULTI, NULL },
	{ "cxxopt", OPT_MULTI, NULL },
	{ "conlyopt", OPT_MULTI, NULL },
	{ "linkopt", OPT_MULTI, NULL },
	{ "host_copt", OPT_MULTI, NULL },
	{ "host_cxxopt", OPT_MULTI, NULL },
	{ "features", OPT_MULTI, NULL },
	{ "action_env", OPT_KEYED, NULL },
	{ "host_action_env", OPT_KEYED, NULL },
	{ "test_env", OPT_KEYED, NULL },
	{ "test_arg", OPT_MULTI, NULL },
	{ "test_filter", OPT_VALUE, NULL },
	{ "test_output", OPT_VALUE, NULL },
	{ "test_summary", OPT_VALUE, NULL },
	{ "test_timeout", OPT_VALUE, NULL },
	{ "test_size_filters", OPT_VALUE, NULL },
	{ "test_tag_filters", OPT_VALUE, NULL },
	{ "test_lang_filters", OPT_VALUE, NULL },
	{ "test_timeout_filters", OPT_VALUE, NULL },
	{ "test_sharding_strategy", OPT_VALUE, NULL },
	{ "runs_per_test", OPT_MULTI, NULL },
	{ "flaky_test_attempts", OPT_MULTI, NULL },
	{ "build_tag_filters", OPT_VALUE, NULL },
	{ "target_pattern_file", OPT_VALUE, NULL },
	{ "output_groups", OPT_MULTI, NULL },
	{ "aspects", OPT_MULTI, NULL },
	{ "instrumentation_filter", OPT_VALUE, NULL },
	{ "run_under", OPT_VALUE, NULL },
	{ "workspace_status_command", OPT_VALUE, NULL },
	{ "embed_label", OPT_VALUE, NULL },
	{ "symlink_prefix", OPT_VALUE, NULL },
	{ "local_cpu_resources", OPT_VALUE, NULL },
	{ "local_ram_resources", OPT_VALUE, NULL },
	{ "local_test_jobs", OPT_VALUE, NULL },
	{ "loading_phase_threads", OPT_VALUE, NULL },
	{ "java_runtime_version", OPT_VALUE, NULL },
	{ "java_language_version", OPT_VALUE, NULL },
	{ "tool_java_runtime_version", OPT_VALUE, NULL },
	{ "python_version", OPT_VALUE, NULL },
	{ "color", OPT_VALUE, NULL },
	{ "curses", OPT_VALUE, NULL },
	{ "output", OPT_VALUE, NULL },
	{ "output_file", OPT_VALUE, NULL },
	{ "universe_scope", OPT_VALUE, NULL },
	{ "query_file", OPT_VALUE, NULL },
	{ "tool_tag", OPT_VALUE, NULL },
	{ "ui_event_filters", OPT_MULTI, NULL },
	{ "show_progress_rate_limit", OPT_VALUE, NULL },
	{ "starlark_cpu_profile", OPT_VALUE, NULL },
	{ "invocation_id", OPT_VALUE, NULL },
	{ "build_metadata", OPT_MULTI, NULL },
	/* common booleans (bare "--x" never takes the next word) */
	{ "keep_going", OPT_BOOL, NULL },
	{ "verbose_failures", OPT_BOOL, NULL },
	{ "announce_rc", OPT_BOOL, NULL },
	{ "sandbox_debug", OPT_BOOL, NULL },
	{ "subcommands", OPT_BOOL, NULL },
	{ "build", OPT_BOOL, NULL },
	{ "build_tests_only", OPT_BOOL, NULL },
	{ "check_up_to_date", OPT_BOOL, NULL },
	{ "cache_test_results", OPT_BOOL, NULL },
	{ "test_keep_going", OPT_BOOL, NULL },
	{ "test_verbose_timeout_warnings", OPT_BOOL, NULL },
	{ "collect_code_coverage", OPT_BOOL, NULL },
	{ "show_timestamps", OPT_BOOL, NULL },
	{ "show_result", OPT_VALUE, NULL },
	{ "stamp", OPT_BOOL, NULL },
	{ "nostamp", OPT_BOOL, "stamp" },
	{ "progress_in_terminal_title", OPT_BOOL, NULL },
	{ "experimental_ui_debug_all_events", OPT_BOOL, NULL },
	{ "remote_cache_compression", OPT_BOOL, NULL },
	{ "incompatible_strict_action_env", OPT_BOOL, NULL },
	{ "expunge", OPT_BOOL, NULL },
	{ "expunge_async", OPT_BOOL, NULL },
	{ "async", OPT_BOOL, NULL },
	{ "show_make_env", OPT_BOOL, NULL },
	{ "nohup", OPT_BOOL, NULL },
};

/* Short options Bazel defines. */
static const struct {
	char c;
	const char *name;
} short_opts[] = {
	{ 'c', "compilation_mode" },
	{ 'j', "jobs" },
	{ 'k', "keep_going" },
	{ 's', "subcommands" },
};

static const struct opt_def *def_lookup(const struct opt_def *defs, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(defs[i].name) == len && memcmp(defs[i].name, name, len) == 0)
			return &defs[i];
	return NULL;
}

static const char *canonical(const struct opt_def *d)
{
	return d->canonical ? d->canonical : d->name;
}

static bool is_startup_unary(const char *name, size_t len)
{
	for (size_t i = 0; i < FW_ARRAY_SIZE(startup_unary); i++)
		if (strlen(startup_unary[i]) == len && memcmp(startup_unary[i], name, len) == 0)
			return true;
	return false;
}

/* One parsed option occurrence. */
struct occ {
	char name[128];     /* canonical name; "" when the word is not an option */
	enum opt_kind kind;
	bool known;
	bool has_value;
	const char *value;  /* points into the argument words; NULL when none */
	bool negated;       /* --noX */
	size_t words;       /* 1 or 2 */
	bool ambiguous;     /* unknown "--x" followed by a non-option word */
};

/* Parse the option at words[i] (n words in all).  Returns false for a
 * non-option word (a target or "--"). */
static bool parse_occ(const struct opt_def *defs, size_t ndefs, bool startup,
		      char *const *words, size_t n, size_t i, struct occ *o)
{
	const char *w = words[i];
	memset(o, 0, sizeof(*o));
	o->words = 1;
	o->kind = OPT_VALUE;
	if (w[0] != '-' || strcmp(w, "--") == 0 || w[1] == '\0')
		return false;
	const char *body;
	size_t len;
	if (w[1] != '-') {
		/* short option: "-c opt", "-j4", "-k" */
		for (size_t k = 0; k < FW_ARRAY_SIZE(short_opts); k++) {
			if (startup || w[1] != short_opts[k].c)
				continue;
			const struct opt_def *d = def_lookup(defs, ndefs, short_opts[k].name, strlen(short_opts[k].name));
			snprintf(o->name, sizeof(o->name), "%s", short_opts[k].name);
			o->known = d != NULL;
			o->kind = d ? d->kind : OPT_VALUE;
			if (o->kind == OPT_BOOL)
				return true;
			o->has_value = true;
			if (w[2]) {
				o->value = w + 2;
			} else if (i + 1 < n) {
				o->value = words[i + 1];
				o->words = 2;
			}
			return true;
		}
		/* single-dash long option ("-output_base=x"): Bazel accepts it too */
		body = w + 1;
	} else {
		body = w + 2;
	}
	const char *eq = strchr(body, '=');
	len = eq ? (size_t)(eq - body) : strlen(body);
	const struct opt_def *d = def_lookup(defs, ndefs, body, len);
	bool negated = false;
	if (!d && len > 2 && body[0] == 'n' && body[1] == 'o' && !(startup && is_startup_unary(body, len))) {
		/* Bazel allows the "no" prefix only on booleans */
		const struct opt_def *nd = def_lookup(defs, ndefs, body + 2, len - 2);
		if (!nd || nd->kind == OPT_BOOL) {
			d = nd;
			negated = true;
			body += 2;
			len -= 2;
		}
	}
	if (d) {
		snprintf(o->name, sizeof(o->name), "%s", canonical(d));
		o->known = true;
		o->kind = d->kind;
	} else {
		snprintf(o->name, sizeof(o->name), "%.*s", (int)(len > 127 ? 127 : len), body);
		if (startup) {
			o->known = true; /* the client knows: unary from the table, else nullary */
			o->kind = is_startup_unary(body, len) ? OPT_VALUE : OPT_BOOL;
		} else {
			o->known = negated;
			o->kind = negated ? OPT_BOOL : OPT_VALUE;
		}
	}
	o->negated = negated;
	if (eq) {
		o->has_value = true;
		o->value = eq + 1;
		return true;
	}
	if (negated || o->kind == OPT_BOOL)
		return true;
	if (o->known) {
		o->has_value = true;
		if (i + 1 < n) {
			o->value = words[i + 1];
			o->words = 2;
		}
		return true;
	}
	/* unknown "--x": taken as nullary, like Bazel does for booleans */
	if (i + 1 < n && words[i + 1][0] != '-')
		o->ambiguous = true;
	return true;
}

/* ---- cmdline ---------------------------------------------------------------- */

void bazel_cmdline_init(struct bazel_cmdline *c)
{
	memset(c, 0, sizeof(*c));
	strv_init(&c->startup);
	strv_init(&c->args);
	strv_init(&c->residue);
}

void bazel_cmdline_release(struct bazel_cmdline *c)
{
	if (!c)
		return;
	strv_release(&c->startup);
	strv_release(&c->args);
	strv_release(&c->residue);
	free(c->command);
	c->command = NULL;
	c->has_dashdash = c->client_only = false;
}

static int oom(struct fw_error *err)
{
	return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "bazel command line", NULL,
			    "out of memory");
}

int bazel_cmdline_parse(size_t n, char *const *args, struct bazel_cmdline *c, struct fw_error *err)
{
	if (n > BAZEL_ARGS_MAX)
		return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, "bazel command line",
				    "pass targets in a --target_pattern_file", "more than %d arguments",
				    BAZEL_ARGS_MAX);
	size_t i = 0;
	int r = 0;
	for (; i < n && r == 0; i++) {
		const char *w = args[i];
		if (w[0] != '-' || strcmp(w, "--") == 0)
			break;
		if (strcmp(w, "--version") == 0 || strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0 ||
		    strcmp(w, "-help") == 0) {
			c->client_only = true;
			for (; i < n && r == 0; i++)
				r = strv_push(&c->startup, args[i]);
			break;
		}
		struct occ o;
		parse_occ(startup_defs, FW_ARRAY_SIZE(startup_defs), true, args, n, i, &o);
		r = strv_push(&c->startup, w);
		if (r == 0 && o.words == 2) {
			r = strv_push(&c->startup, args[++i]);
		} else if (r == 0 && o.has_value && !o.value) {
			bazel_cmdline_release(c);
			bazel_cmdline_init(c);
			return fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, w,
					    "give it a value, e.g. --output_base=/path",
					    "startup option needs a value");
		}
	}
	if (r == 0 && !c->client_only && i < n && strcmp(args[i], "--") != 0) {
		c->command = fw_strdup(args[i]);
		if (!c->command)
			r = -ENOMEM;
		i++;
		for (; i < n && r == 0; i++) {
			if (strcmp(args[i], "--") == 0) {
				c->has_dashdash = true;
				i++;
				break;
			}
			r = strv_push(&c->args, args[i]);
		}
		for (; i < n && r == 0; i++)
			r = strv_push(&c->residue, args[i]);
	} else if (r == 0 && !c->client_only) {
		/* no command ("bazel --batch" or "bazel -- x"): keep the rest as startup words */
		for (; i < n && r == 0; i++)
			r = strv_push(&c->startup, args[i]);
	}
	if (r < 0) {
		bazel_cmdline_release(c);
		bazel_cmdline_init(c);
		return oom(err);
	}
	return 0;
}

int bazel_argv_targets(const struct bazel_cmdline *c, struct strv *ret, bool *ret_ambiguous)
{
	bool amb = false;
	int r = 0;
	if (!c->command) {
		*ret_ambiguous = false;
		return 0;
	}
	bool run = strcmp(c->command, "run") == 0;
	if (strcmp(c->command, "query") == 0 || strcmp(c->command, "cquery") == 0 ||
	    strcmp(c->command, "aquery") == 0)
		amb = true;
	size_t positional = 0;
	for (size_t i = 0; i < c->args.n && r == 0; i++) {
		struct occ o;
		if (parse_occ(cmd_defs, FW_ARRAY_SIZE(cmd_defs), false, c->args.v, c->args.n, i, &o)) {
			if (o.ambiguous)
				amb = true;
			if (strcmp(o.name, "target_pattern_file") == 0)
				amb = true;
			i += o.words - 1;
			continue;
		}
		positional++;
		if (run && positional > 1)
			continue;
		r = strv_push(ret, c->args.v[i]);
	}
	for (size_t i = 0; i < c->residue.n && r == 0; i++) {
		if (run && (positional > 0 || i > 0))
			break;
		r = strv_push(ret, c->residue.v[i]);
	}
	if (r < 0)
		return r;
	*ret_ambiguous = amb;
	return 0;
}

/* ---- injected option lists ------------------------------------------------- */

const char *bazel_fate_name(enum bazel_fate f)
{
	switch (f) {
	case BAZEL_FATE_PENDING: return "pending";
	case BAZEL_FATE_KEPT: return "kept";
	case BAZEL_FATE_SAME: return "same-as-user";
	case BAZEL_FATE_DROPPED: return "dropped";
	case BAZEL_FATE_CONFLICT: return "conflict";
	}
	return "unknown";
}

void bazel_opts_init(struct bazel_opts *o)
{
	memset(o, 0, sizeof(*o));
}

void bazel_opts_release(struct bazel_opts *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].value);
		free(o->v[i].user_arg);
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}

int bazel_opts_add(struct bazel_opts *o, enum bazel_strength s, const char *why,
		   const char *name, const char *value)
{
	if (o->n >= BAZEL_OPTS_MAX)
		return -E2BIG;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct bazel_opt *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	struct bazel_opt *e = &o->v[o->n];
	memset(e, 0, sizeof(*e));
	e->name = fw_strdup(name);
	e->value = value ? fw_strdup(value) : NULL;
	if (!e->name || (value && !e->value)) {
		free(e->name);
		free(e->value);
		return -ENOMEM;
	}
	e->strength = s;
	e->why = why;
	o->n++;
	return 0;
}

int bazel_opts_addf(struct bazel_opts *o, enum bazel_strength s, const char *why,
		    const char *name, const char *value_fmt, ...)
{
	char *v = NULL;
	va_list ap;
	va_start(ap, value_fmt);
	int n = vasprintf(&v, value_fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	int r = bazel_opts_add(o, s, why, name, v);
	free(v);
	return r;
}

char *bazel_opt_format(const struct bazel_opt *o)
{
	return o->value ? fw_asprintf("--%s=%s", o->name, o->value) : fw_asprintf("--%s", o->name);
}

/* ---- merging ---------------------------------------------------------------- */

/* "true"/"false" for a boolean occurrence; NULL when the value is not one. */
static const char *bool_norm(bool negated, const char *value)
{
	if (negated)
		return value ? NULL : "false";
	if (!value)
		return "true";
	bool b;
	if (parse_bool(value, &b) < 0)
		return NULL;
	return b ? "true" : "false";
}

static size_t key_len(const char *v)
{
	const char *eq = strchr(v, '=');
	return eq ? (size_t)(eq - v) : 0;
}

/* The user's last occurrence deciding about injected option inj, as the
 * text of the argument(s), and whether its value equals ours. */
static int find_user(const struct opt_def *defs, size_t ndefs, bool startup, const struct strv *words,
		     const struct bazel_opt *inj, char **ret_user, bool *ret_same)
{
	const struct opt_def *d = def_lookup(defs, ndefs, inj->name, strlen(inj->name));
	const char *name = d ? canonical(d) : inj->name;
	enum opt_kind kind = d ? d->kind : (startup ? (is_startup_unary(inj->name, strlen(inj->name)) ? OPT_VALUE : OPT_BOOL)
					 : (inj->value ? OPT_VALUE : OPT_BOOL));
	if (kind == OPT_MULTI)
		return 0;
	const char *ours = kind == OPT_BOOL ? bool_norm(false, inj->value) : inj->value;
	ssize_t last = -1;
	struct occ lo = { 0 };
	for (size_t i = 0; i < words->n; i++) {
		struct occ o;
		if (!parse_occ(defs, ndefs, startup, words->v, words->n, i, &o))
			continue;
		size_t at = i;
		i += o.words - 1;
		if (strcmp(o.name, name) != 0)
			continue;
		if (kind == OPT_KEYED) {
			const char *uv = o.value ? o.value : "";
			size_t uk = key_len(uv), ik = key_len(inj->value ? inj->value : "");
			if (uk != ik || strncmp(uv, inj->value ? inj->value : "", uk) != 0)
				continue;
		}
		last = (ssize_t)at;
		lo = o;
	}
	if (last < 0)
		return 0;
	const char *theirs = kind == OPT_BOOL ? bool_norm(lo.negated, lo.value) : lo.value;
	*ret_same = theirs && ours && strcmp(theirs, ours) == 0;
	*ret_user = lo.words == 2 ? fw_asprintf("%s %s", words->v[last], words->v[last + 1])
				  : fw_strdup(words->v[last]);
	return *ret_user ? 1 : -ENOMEM;
}

static int decide(const struct opt_def *defs, size_t ndefs, bool startup, const struct strv *user,
		  struct bazel_opts *inj, unsigned flags, bool *conflict, struct fw_error *err)
{
	for (size_t i = 0; inj && i < inj->n; i++) {
		struct bazel_opt *o = &inj->v[i];
		free(o->user_arg);
		o->user_arg = NULL;
		bool same = false;
		int r = find_user(defs, ndefs, startup, user, o, &o->user_arg, &same);
		if (r < 0)
			return oom(err);
		if (r == 0) {
			o->fate = BAZEL_FATE_KEPT;
			continue;
		}
		if (same) {
			o->fate = BAZEL_FATE_SAME;
			continue;
		}
		if (o->strength == BAZEL_OPT_DEFAULT) {
			o->fate = BAZEL_FATE_DROPPED;
			continue;
		}
		o->fate = BAZEL_FATE_CONFLICT;
		if (!*conflict && !(flags & BAZEL_ARGV_RECORD_CONFLICTS)) {
			_cleanup_free_ char *subject = fw_asprintf("--%s", o->name);
			_cleanup_free_ char *want = bazel_opt_format(o);
			_cleanup_free_ char *fix = fw_asprintf(
				"remove \"%s\" from the command line (flywheel sets %s), or choose another mode with --mode",
				o->user_arg, subject ? subject : o->name);
			fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject ? subject : o->name, fix,
				     "the command line gives \"%s\" but %s needs \"%s\"", o->user_arg,
				     o->why ? o->why : "flywheel", want ? want : o->name);
		}
		*conflict = true;
	}
	return 0;
}

static int push_kept(struct strv *out, const struct bazel_opts *inj)
{
	for (size_t i = 0; inj && i < inj->n; i++) {
		if (inj->v[i].fate != BAZEL_FATE_KEPT)
			continue;
		int r = strv_push_take(out, bazel_opt_format(&inj->v[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

int bazel_argv_build(const struct bazel_cmdline *c, struct bazel_opts *inject_startup,
		     struct bazel_opts *inject_cmd, unsigned flags, struct strv *ret_argv,
		     struct fw_error *err)
{
	_cleanup_strv_ struct strv out;
	strv_init(&out);
	bool inject = c->command && !c->client_only;
	bool conflict = false;
	int r = 0;
	if (inject) {
		r = decide(startup_defs, FW_ARRAY_SIZE(startup_defs), true, &c->startup, inject_startup,
			   flags, &conflict, err);
		if (r == 0)
			r = decide(cmd_defs, FW_ARRAY_SIZE(cmd_defs), false, &c->args, inject_cmd, flags,
				   &conflict, err);
		if (r < 0)
			return r;
		if (conflict && !(flags & BAZEL_ARGV_RECORD_CONFLICTS))
			return -1;
		r = push_kept(&out, inject_startup);
	}
	if (r == 0)
		r = strv_extend(&out, &c->startup);
	if (r == 0 && c->command)
		r = strv_push(&out, c->command);
	if (r == 0 && inject)
		r = push_kept(&out, inject_cmd);
	if (r == 0)
		r = strv_extend(&out, &c->args);
	if (r == 0 && c->has_dashdash)
		r = strv_push(&out, "--");
	if (r == 0)
		r = strv_extend(&out, &c->residue);
	if (r == 0)
		r = strv_extend(ret_argv, &out);
	if (r < 0)
		return r == -E2BIG ? fw_error_set(err, FW_CLASS_USAGE, FW_EX_USAGE, "bazel command line",
						  NULL, "too many arguments")
				   : oom(err);
	return 0;
}
