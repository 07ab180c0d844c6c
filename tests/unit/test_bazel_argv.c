/* test_bazel_argv.c - table-driven tests of Bazel command-line parsing and merging.
 *
 * Lists are written with '|' between words ("build|//a") so each case is one
 * line; "" is the empty list.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/bazel_argv.h"

static void split(const char *s, struct strv *out)
{
	strv_init(out);
	if (!s || !*s)
		return;
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, "|");
		assert_int_equal(strv_push_take(out, strndup(p, n)), 0);
		if (!p[n])
			break;
		p += n + 1;
	}
}

static char *join(const struct strv *v)
{
	size_t len = 1;
	for (size_t i = 0; i < v->n; i++)
		len += strlen(v->v[i]) + 1;
	char *s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			strncat(s, "|", len - strlen(s) - 1);
		strncat(s, v->v[i], len - strlen(s) - 1);
	}
	return s;
}

/* ---- parse ------------------------------------------------------------------ */

struct parse_case {
	const char *in;
	const char *startup;
	const char *command; /* NULL: none */
	const char *args;
	const char *residue;
	bool dashdash;
	bool client_only;
	int rc;
};

static const struct parse_case parse_cases[] = {
	{ "build|//a", "", "build", "//a", "", false, false, 0 },
	{ "", "", NULL, "", "", false, false, 0 },
	{ "--version", "--version", NULL, "", "", false, true, 0 },
	{ "-h", "-h", NULL, "", "", false, true, 0 },
	{ "--help", "--help", NULL, "", "", false, true, 0 },
	{ "--batch|--version", "--batch|--version", NULL, "", "", false, true, 0 },
	{ "--output_base=/o|build|//a", "--output_base=/o", "build", "//a", "", false, false, 0 },
	{ "--output_base|/o|build|//a", "--output_base|/o", "build", "//a", "", false, false, 0 },
	{ "--output_user_root|/r|--bazelrc|/rc|test|//t:t", "--output_user_root|/r|--bazelrc|/rc", "test", "//t:t", "", false, false, 0 },
	{ "--host_jvm_args|-Xmx1g|build", "--host_jvm_args|-Xmx1g", "build", "", "", false, false, 0 },
	{ "--batch|build", "--batch", "build", "", "", false, false, 0 },
	{ "--nobatch|build", "--nobatch", "build", "", "", false, false, 0 },
	{ "--nohome_rc|--noworkspace_rc|info", "--nohome_rc|--noworkspace_rc", "info", "", "", false, false, 0 },
	{ "--max_idle_secs|5|shutdown", "--max_idle_secs|5", "shutdown", "", "", false, false, 0 },
	{ "--io_nice_level|3|--connect_timeout_secs|10|build", "--io_nice_level|3|--connect_timeout_secs|10", "build", "", "", false, false, 0 },
	{ "--server_javabase|/jdk|--digest_function|SHA256|build", "--server_javabase|/jdk|--digest_function|SHA256", "build", "", "", false, false, 0 },
	{ "--install_base|/ib|--failure_detail_out|/f|version", "--install_base|/ib|--failure_detail_out|/f", "version", "", "", false, false, 0 },
	{ "--local_startup_timeout_secs|9|--command_port|0|build", "--local_startup_timeout_secs|9|--command_port|0", "build", "", "", false, false, 0 },
	{ "--invocation_policy|x|--server_jvm_out|/j|build", "--invocation_policy|x|--server_jvm_out|/j", "build", "", "", false, false, 0 },
	{ "build|//a|--|//b|-//c", "", "build", "//a", "//b|-//c", true, false, 0 },
	{ "build|--|", "", "build", "", "", true, false, 0 },
	{ "run|//bin|--|--flag|--|x", "", "run", "//bin", "--flag|--|x", true, false, 0 },
	{ "build|--config|ci|//a", "", "build", "--config|ci|//a", "", false, false, 0 },
	{ "--output_base", "", NULL, "", "", false, false, -1 },
	{ "--bazelrc", "", NULL, "", "", false, false, -1 },
	{ "--batch", "--batch", NULL, "", "", false, false, 0 },
	{ "--|build", "--|build", NULL, "", "", false, false, 0 },
	{ "frobnicate|x", "", "frobnicate", "x", "", false, false, 0 },
	{ "build|--version", "", "build", "--version", "", false, false, 0 },
	{ "--watchfs|--output_base=/o b|build|//a b", "--watchfs|--output_base=/o b", "build", "//a b", "", false, false, 0 },
	{ "-output_base=/o|build", "-output_base=/o", "build", "", "", false, false, 0 },
	{ "--unknown_startup|build", "--unknown_startup", "build", "", "", false, false, 0 },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *t = &parse_cases[i];
		struct strv in;
		split(t->in, &in);
		/* "build|--|" has an empty last word meaning nothing: drop it */
		if (in.n && in.v[in.n - 1][0] == '\0') {
			free(in.v[--in.n]);
			in.v[in.n] = NULL;
		}
		struct bazel_cmdline c;
		bazel_cmdline_init(&c);
		struct fw_error err;
		fw_error_clear(&err);
		int r = bazel_cmdline_parse(in.n, in.v, &c, &err);
		if (t->rc < 0) {
			if (r >= 0)
				fail_msg("case %zu (%s): expected an error", i, t->in);
			assert_int_equal(err.exit_code, FW_EX_USAGE);
		} else {
			if (r != 0)
				fail_msg("case %zu (%s): rc %d", i, t->in, r);
			char *s = join(&c.startup), *a = join(&c.args), *res = join(&c.residue);
			if (strcmp(s, t->startup) || strcmp(a, t->args) || strcmp(res, t->residue) ||
			    (t->command ? !c.command || strcmp(c.command, t->command) : c.command != NULL) ||
			    c.has_dashdash != t->dashdash || c.client_only != t->client_only)
				fail_msg("case %zu (%s): startup [%s] command [%s] args [%s] residue [%s] dd %d co %d",
					 i, t->in, s, c.command ? c.command : "(null)", a, res, c.has_dashdash,
					 c.client_only);
			free(s);
			free(a);
			free(res);
		}
		bazel_cmdline_release(&c);
		strv_release(&in);
	}
}

/* ---- targets ---------------------------------------------------------------- */

struct target_case {
	const char *in;
	const char *targets;
	bool ambiguous;
};

static const struct target_case target_cases[] = {
	{ "build|//a|//b/...", "//a|//b/...", false },
	{ "build|--config|ci|//a", "//a", false },
	{ "build|--config=ci|//a", "//a", false },
	{ "build|--define|x=1|//a", "//a", false },
	{ "build|-c|opt|//a", "//a", false },
	{ "build|-copt|//a", "//a", false },
	{ "build|-j|4|//a", "//a", false },
	{ "build|-k|//a", "//a", false },
	{ "build|--keep_going|//a", "//a", false },
	{ "build|--nokeep_going|//a", "//a", false },
	{ "build|--remote_cache|grpc://x|//a", "//a", false },
	{ "build|--remote_upload_local_results|//a", "//a", false },
	{ "build|--noremote_accept_cached|//a", "//a", false },
	{ "build|--some_unknown_flag|//a", "//a", true },
	{ "build|--some_unknown_flag=1|//a", "//a", false },
	{ "build|--nosome_unknown_bool|//a", "//a", false },
	{ "build|--some_unknown_flag|--keep_going|//a", "//a", false },
	{ "build|--|//a|-//a/b", "//a|-//a/b", false },
	{ "build|//x|--|//a", "//x|//a", false },
	{ "build|--target_pattern_file=f", "", true },
	{ "test|--test_output|errors|//t:all", "//t:all", false },
	{ "test|--test_env|A=1|--test_arg|x|//t", "//t", false },
	{ "run|//bin|arg1|arg2", "//bin", false },
	{ "run|//bin|--|arg1", "//bin", false },
	{ "run|--|//bin|arg", "//bin", false },
	{ "query|deps(//a)", "deps(//a)", true },
	{ "cquery|//a|--output|files", "//a", true },
	{ "coverage|--instrumentation_filter|//x|//t", "//t", false },
	{ "build", "", false },
	{ "--output_base|/o|build|//a", "//a", false },
	{ "build|--platforms|//p:linux|//a", "//a", false },
	{ "build|--credential_helper|h=/p|//a", "//a", false },
	{ "build|--experimental_credential_helper|/p|//a", "//a", false },
};

static void test_targets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
		const struct target_case *t = &target_cases[i];
		struct strv in, got;
		split(t->in, &in);
		strv_init(&got);
		struct bazel_cmdline c;
		bazel_cmdline_init(&c);
		struct fw_error err;
		fw_error_clear(&err);
		assert_int_equal(bazel_cmdline_parse(in.n, in.v, &c, &err), 0);
		bool amb = !t->ambiguous;
		assert_int_equal(bazel_argv_targets(&c, &got, &amb), 0);
		char *s = join(&got);
		if (strcmp(s, t->targets) != 0 || amb != t->ambiguous)
			fail_msg("case %zu (%s): targets [%s] ambiguous %d", i, t->in, s, amb);
		free(s);
		strv_release(&got);
		bazel_cmdline_release(&c);
		strv_release(&in);
	}
}

/* ---- merge ------------------------------------------------------------------ */

/* Injected lists: "R:name=value" (REQUIRED) or "D:name" (DEFAULT, no value),
 * separated by '|'.  fates: one letter per injected option, startup first:
 * K kept, S same, D dropped, C conflict. */
struct merge_case {
	const char *in;
	const char *startup;
	const char *cmd;
	unsigned flags;
	const char *out;       /* NULL: error expected */
	const char *fates;
	const char *err_subject;
};

#define RC "R:remote_cache=grpcs://c:443"
#define RU "R:remote_upload_local_results=false"
#define DT "D:remote_timeout=60"
#define OR "D:output_user_root=/our"
#define REC BAZEL_ARGV_RECORD_CONFLICTS

static const struct merge_case merge_cases[] = {
	{ "build|//a", "", RC, 0, "build|--remote_cache=grpcs://c:443|//a", "K", NULL },
	{ "build|//a", OR, RC, 0, "--output_user_root=/our|build|--remote_cache=grpcs://c:443|//a", "KK", NULL },
	{ "--batch|build|//a", OR, "", 0, "--output_user_root=/our|--batch|build|//a", "K", NULL },
	{ "--output_user_root=/mine|build", OR, "", 0, "--output_user_root=/mine|build", "D", NULL },
	{ "--output_user_root|/mine|build", OR, "", 0, "--output_user_root|/mine|build", "D", NULL },
	{ "--output_user_root=/our|build", OR, "", 0, "--output_user_root=/our|build", "S", NULL },
	{ "--output_user_root=/mine|build", "R:output_user_root=/our", "", 0, NULL, "C", "--output_user_root" },
	{ "--bazelrc=/u|build", "R:bazelrc=/our.rc", "", 0, "--bazelrc=/our.rc|--bazelrc=/u|build", "K", NULL },
	{ "build|--remote_cache=grpc://other|//a", "", RC, 0, NULL, "C", "--remote_cache" },
	{ "build|--remote_cache|grpc://other|//a", "", RC, 0, NULL, "C", "--remote_cache" },
	{ "build|--remote_cache=|//a", "", RC, 0, NULL, "C", "--remote_cache" },
	{ "build|--remote_cache=grpcs://c:443|//a", "", RC, 0, "build|--remote_cache=grpcs://c:443|//a", "S", NULL },
	{ "build|--remote_cache=grpc://other|//a", "", "D:remote_cache=grpcs://c:443", 0, "build|--remote_cache=grpc://other|//a", "D", NULL },
	{ "build|--remote_cache=grpc://other|//a", "", RC, REC, "build|--remote_cache=grpc://other|//a", "C", NULL },
	{ "build|--|--remote_cache=grpc://other", "", RC, 0, "build|--remote_cache=grpcs://c:443|--|--remote_cache=grpc://other", "K", NULL },
	{ "build|//a", "", RU, 0, "build|--remote_upload_local_results=false|//a", "K", NULL },
	{ "build|--remote_upload_local_results|//a", "", RU, 0, NULL, "C", "--remote_upload_local_results" },
	{ "build|--remote_upload_local_results=true|//a", "", RU, 0, NULL, "C", "--remote_upload_local_results" },
	{ "build|--remote_upload_local_results=yes|//a", "", RU, 0, NULL, "C", "--remote_upload_local_results" },
	{ "build|--noremote_upload_local_results|//a", "", RU, 0, "build|--noremote_upload_local_results|//a", "S", NULL },
	{ "build|--remote_upload_local_results=0|//a", "", RU, 0, "build|--remote_upload_local_results=0|//a", "S", NULL },
	{ "build|--remote_upload_local_results=false|//a", "", RU, 0, "build|--remote_upload_local_results=false|//a", "S", NULL },
	{ "build|--noremote_upload_local_results|--remote_upload_local_results|//a", "", RU, 0, NULL, "C", "--remote_upload_local_results" },
	{ "build|--remote_upload_local_results|--noremote_upload_local_results|//a", "", RU, 0, "build|--remote_upload_local_results|--noremote_upload_local_results|//a", "S", NULL },
	{ "build|--remote_upload_local_results|//a", "", "D:remote_upload_local_results=false", 0, "build|--remote_upload_local_results|//a", "D", NULL },
	{ "build|--remote_timeout=5|//a", "", DT, 0, "build|--remote_timeout=5|//a", "D", NULL },
	{ "build|--remote_timeout|5|//a", "", DT, 0, "build|--remote_timeout|5|//a", "D", NULL },
	{ "build|//a", "", DT, 0, "build|--remote_timeout=60|//a", "K", NULL },
	{ "build|--jobs=8|//a", "", "D:jobs=4", 0, "build|--jobs=8|//a", "D", NULL },
	{ "build|-j|8|//a", "", "D:jobs=4", 0, "build|-j|8|//a", "D", NULL },
	{ "build|-j8|//a", "", "D:jobs=4", 0, "build|-j8|//a", "D", NULL },
	{ "build|-j|4|//a", "", "D:jobs=4", 0, "build|-j|4|//a", "S", NULL },
	{ "build|--spawn_strategy=local|//a", "", "R:spawn_strategy=remote", 0, NULL, "C", "--spawn_strategy" },
	{ "build|--spawn_strategy|remote|//a", "", "R:spawn_strategy=remote", 0, "build|--spawn_strategy|remote|//a", "S", NULL },
	{ "build|--remote_executor=grpc://x|//a", "", "R:remote_executor=grpcs://e", 0, NULL, "C", "--remote_executor" },
	{ "build|--remote_instance_name=other|//a", "", "R:remote_instance_name=main", 0, NULL, "C", "--remote_instance_name" },
	{ "build|--remote_local_fallback|//a", "", "R:remote_local_fallback=false", 0, NULL, "C", "--remote_local_fallback" },
	{ "build|--noremote_local_fallback|//a", "", "R:remote_local_fallback=false", 0, "build|--noremote_local_fallback|//a", "S", NULL },
	{ "build|--remote_accept_cached|//a", "", "R:remote_accept_cached=false", 0, NULL, "C", "--remote_accept_cached" },
	{ "build|//a", "", "D:remote_local_fallback|D:incompatible_remote_local_fallback_for_remote_cache", 0, "build|--remote_local_fallback|--incompatible_remote_local_fallback_for_remote_cache|//a", "KK", NULL },
	{ "build|--noremote_local_fallback|//a", "", "D:remote_local_fallback", 0, "build|--noremote_local_fallback|//a", "D", NULL },
	{ "build|--distdir=/u|//a", "", "D:distdir=/d1|D:distdir=/d2", 0, "build|--distdir=/d1|--distdir=/d2|--distdir=/u|//a", "KK", NULL },
	{ "build|--override_repository=rules_cc=/mine|//a", "", "D:override_repository=rules_cc=/ours", 0, "build|--override_repository=rules_cc=/mine|//a", "D", NULL },
	{ "build|--override_repository=other=/mine|//a", "", "D:override_repository=rules_cc=/ours", 0, "build|--override_repository=rules_cc=/ours|--override_repository=other=/mine|//a", "K", NULL },
	{ "build|--override_repository|rules_cc=/ours|//a", "", "D:override_repository=rules_cc=/ours", 0, "build|--override_repository|rules_cc=/ours|//a", "S", NULL },
	{ "build|--inject_repository=r=/u|//a", "", "R:inject_repository=r=/ours", 0, NULL, "C", "--inject_repository" },
	{ "build|--credential_helper=c.example=/mine|//a", "", "D:credential_helper=c.example=/fw", 0, "build|--credential_helper=c.example=/mine|//a", "D", NULL },
	{ "build|--credential_helper=other.example=/mine|//a", "", "D:credential_helper=c.example=/fw", 0, "build|--credential_helper=c.example=/fw|--credential_helper=other.example=/mine|//a", "K", NULL },
	{ "build|--experimental_credential_helper=c.example=/mine|//a", "", "D:credential_helper=c.example=/fw", 0, "build|--experimental_credential_helper=c.example=/mine|//a", "D", NULL },
	{ "build|--credential_helper=c.example=/mine|//a", "", "R:experimental_credential_helper=c.example=/fw", 0, NULL, "C", "--experimental_credential_helper" },
	{ "build|--downloader_config=/u|//a", "", "D:experimental_downloader_config=/fw", 0, "build|--downloader_config=/u|//a", "D", NULL },
	{ "build|--experimental_repository_disable_download|//a", "", "D:repository_disable_download", 0, "build|--experimental_repository_disable_download|//a", "S", NULL },
	{ "build|--norepository_disable_download|//a", "", "D:repository_disable_download", 0, "build|--norepository_disable_download|//a", "D", NULL },
	{ "build|--remote_default_exec_properties=gf.platform=x|//a", "", "D:remote_default_exec_properties=gf.platform=y", 0, "build|--remote_default_exec_properties=gf.platform=x|//a", "D", NULL },
	{ "build|--remote_default_exec_properties=OSFamily=linux|//a", "", "D:remote_default_exec_properties=gf.platform=y", 0, "build|--remote_default_exec_properties=gf.platform=y|--remote_default_exec_properties=OSFamily=linux|//a", "K", NULL },
	{ "test|--test_env=GF_RBE_CHROMIUM_EXECUTABLE=/u|//t", "", "D:test_env=GF_RBE_CHROMIUM_EXECUTABLE=/c", 0, "test|--test_env=GF_RBE_CHROMIUM_EXECUTABLE=/u|//t", "D", NULL },
	{ "test|--test_env=OTHER=1|//t", "", "D:test_env=GF_RBE_CHROMIUM_EXECUTABLE=/c", 0, "test|--test_env=GF_RBE_CHROMIUM_EXECUTABLE=/c|--test_env=OTHER=1|//t", "K", NULL },
	{ "build|--execution_log_json_file=/u|//a", "", "R:execution_log_json_file=/fw", 0, NULL, "C", "--execution_log_json_file" },
	{ "build|--experimental_execution_log_compact_file=/u|//a", "", "R:execution_log_compact_file=/fw", 0, NULL, "C", "--execution_log_compact_file" },
	{ "build|--build_event_json_file=/fw|//a", "", "R:build_event_json_file=/fw", 0, "build|--build_event_json_file=/fw|//a", "S", NULL },
	{ "--version", OR, RC, 0, "--version", "PP", NULL },
	{ "", OR, RC, 0, "", "PP", NULL },
	{ "--batch", OR, RC, 0, "--batch", "PP", NULL },
	{ "version", OR, "", 0, "--output_user_root=/our|version", "K", NULL },
	{ "build|//a|--|-//a/b", "", RC, 0, "build|--remote_cache=grpcs://c:443|//a|--|-//a/b", "K", NULL },
	{ "build|--|", "", RC, 0, "build|--remote_cache=grpcs://c:443|--", "K", NULL },
	{ "build|//a", "", "", 0, "build|//a", "", NULL },
	{ "build|--config=remote|//a", "", RC, 0, "build|--remote_cache=grpcs://c:443|--config=remote|//a", "K", NULL },
	{ "build|--remote_cache=x|--remote_cache=grpcs://c:443|//a", "", RC, 0, "build|--remote_cache=x|--remote_cache=grpcs://c:443|//a", "S", NULL },
	{ "build|--remote_cache=grpcs://c:443|--remote_cache=x|//a", "", RC, 0, NULL, "C", "--remote_cache" },
	{ "build|--remote_cache=x|--spawn_strategy=local", "", RC "|R:spawn_strategy=remote", REC, "build|--remote_cache=x|--spawn_strategy=local", "CC", NULL },
	{ "build|--remote_cache=x|--jobs=2", "", RC "|D:jobs=4|" DT, REC, "build|--remote_timeout=60|--remote_cache=x|--jobs=2", "CDK", NULL },
	{ "--output_user_root=/m|build|--remote_cache=x", OR, RC, REC, "--output_user_root=/m|build|--remote_cache=x", "DC", NULL },
	{ "build|--remote_cache_header=x=y|//a", "", RC, 0, "build|--remote_cache=grpcs://c:443|--remote_cache_header=x=y|//a", "K", NULL },
	{ "frob|x", OR, "", 0, "--output_user_root=/our|frob|x", "K", NULL },
	{ "build|--keep_going|--remote_cache|grpcs://c:443", "", RC, 0, "build|--keep_going|--remote_cache|grpcs://c:443", "S", NULL },
};

static void add_spec(struct bazel_opts *o, const char *spec)
{
	struct strv items;
	split(spec, &items);
	for (size_t i = 0; i < items.n; i++) {
		const char *it = items.v[i];
		enum bazel_strength s = it[0] == 'R' ? BAZEL_OPT_REQUIRED : BAZEL_OPT_DEFAULT;
		const char *nv = it + 2;
		const char *eq = strchr(nv, '=');
		char *name = eq ? strndup(nv, (size_t)(eq - nv)) : strdup(nv);
		assert_int_equal(bazel_opts_add(o, s, "test", name, eq ? eq + 1 : NULL), 0);
		free(name);
	}
	strv_release(&items);
}

static char fate_letter(enum bazel_fate f)
{
	switch (f) {
	case BAZEL_FATE_KEPT: return 'K';
	case BAZEL_FATE_SAME: return 'S';
	case BAZEL_FATE_DROPPED: return 'D';
	case BAZEL_FATE_CONFLICT: return 'C';
	case BAZEL_FATE_PENDING: return 'P';
	}
	return '?';
}

static void test_merge(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		const struct merge_case *t = &merge_cases[i];
		struct strv in, out;
		split(t->in, &in);
		if (in.n && in.v[in.n - 1][0] == '\0') {
			free(in.v[--in.n]);
			in.v[in.n] = NULL;
		}
		strv_init(&out);
		struct bazel_cmdline c;
		bazel_cmdline_init(&c);
		struct fw_error err;
		fw_error_clear(&err);
		assert_int_equal(bazel_cmdline_parse(in.n, in.v, &c, &err), 0);
		struct bazel_opts su, cm;
		bazel_opts_init(&su);
		bazel_opts_init(&cm);
		add_spec(&su, t->startup);
		add_spec(&cm, t->cmd);
		int r = bazel_argv_build(&c, &su, &cm, t->flags, &out, &err);
		char fates[16] = "";
		size_t k = 0;
		for (size_t j = 0; j < su.n && k < 15; j++)
			fates[k++] = fate_letter(su.v[j].fate);
		for (size_t j = 0; j < cm.n && k < 15; j++)
			fates[k++] = fate_letter(cm.v[j].fate);
		fates[k] = '\0';
		if (!t->out) {
			if (r >= 0)
				fail_msg("case %zu (%s): expected a conflict", i, t->in);
			assert_int_equal(err.exit_code, FW_EX_CONFIG);
			assert_int_equal(err.cls, FW_CLASS_CONFIG);
			if (strcmp(err.subject, t->err_subject) != 0)
				fail_msg("case %zu: subject [%s]", i, err.subject);
			assert_true(err.fix[0] != '\0');
		} else {
			if (r != 0)
				fail_msg("case %zu (%s): rc %d: %s", i, t->in, r, err.what);
			char *s = join(&out);
			if (strcmp(s, t->out) != 0)
				fail_msg("case %zu (%s): got [%s] want [%s]", i, t->in, s, t->out);
			free(s);
		}
		if (strcmp(fates, t->fates) != 0)
			fail_msg("case %zu (%s): fates [%s] want [%s]", i, t->in, fates, t->fates);
		/* a conflict or drop names the user's argument */
		for (size_t j = 0; j < cm.n; j++)
			if (cm.v[j].fate == BAZEL_FATE_CONFLICT || cm.v[j].fate == BAZEL_FATE_DROPPED)
				assert_non_null(cm.v[j].user_arg);
		bazel_opts_release(&su);
		bazel_opts_release(&cm);
		bazel_cmdline_release(&c);
		strv_release(&out);
		strv_release(&in);
	}
}

/* The residue and every user word survive byte for byte, whatever is injected. */
static void test_residue_untouched(void **state)
{
	(void)state;
	char *words[] = { "--batch", "test", "--test_arg=a b", "//t:t", "--", "-x", "--remote_cache=y", "", "ü\t" };
	struct bazel_cmdline c;
	bazel_cmdline_init(&c);
	struct fw_error err;
	fw_error_clear(&err);
	assert_int_equal(bazel_cmdline_parse(9, words, &c, &err), 0);
	struct bazel_opts cm;
	bazel_opts_init(&cm);
	assert_int_equal(bazel_opts_add(&cm, BAZEL_OPT_REQUIRED, "t", "remote_cache", "grpcs://c"), 0);
	struct strv out;
	strv_init(&out);
	assert_int_equal(bazel_argv_build(&c, NULL, &cm, 0, &out, &err), 0);
	assert_int_equal(out.n, 10);
	assert_string_equal(out.v[2], "--remote_cache=grpcs://c");
	assert_string_equal(out.v[5], "--");
	assert_string_equal(out.v[7], "--remote_cache=y");
	assert_string_equal(out.v[8], "");
	assert_string_equal(out.v[9], "ü\t");
	strv_release(&out);
	bazel_opts_release(&cm);
	bazel_cmdline_release(&c);
}

static void test_command_table(void **state)
{
	(void)state;
	const unsigned remote = BAZEL_SCOPE_REMOTE;
	const char *with_remote[] = { "build", "test", "run", "coverage", "cquery", "aquery", "fetch", "sync", "print_action" };
	for (size_t i = 0; i < sizeof(with_remote) / sizeof(with_remote[0]); i++)
		assert_true(bazel_command_scope(with_remote[i]) & remote);
	const char *none[] = { "version", "help", "shutdown", "license", "info", "clean", "frobnicate", "" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(bazel_command_scope(none[i]), 0);
	assert_int_equal(bazel_command_scope("query") & remote, 0);
	assert_true(bazel_command_scope("query") & BAZEL_SCOPE_REPO);
	assert_true(bazel_command_scope("test") & BAZEL_SCOPE_TEST);
	assert_true(bazel_command_scope("coverage") & BAZEL_SCOPE_TEST);
	assert_int_equal(bazel_command_scope("build") & BAZEL_SCOPE_TEST, 0);
	assert_int_equal(bazel_command_scope("fetch") & BAZEL_SCOPE_EXEC, 0);
	assert_int_equal(bazel_command_scope(NULL), 0);
	size_t n;
	const struct bazel_command_info *t = bazel_command_table(&n);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++)
		assert_non_null(t[i].why);
}

static void test_limits(void **state)
{
	(void)state;
	struct bazel_opts o;
	bazel_opts_init(&o);
	int r = 0;
	for (int i = 0; i <= BAZEL_OPTS_MAX && r == 0; i++)
		r = bazel_opts_add(&o, BAZEL_OPT_DEFAULT, "t", "distdir", "/d");
	assert_int_equal(r, -E2BIG);
	assert_int_equal(o.n, BAZEL_OPTS_MAX);
	bazel_opts_release(&o);

	char **many = calloc(BAZEL_ARGS_MAX + 1, sizeof(char *));
	assert_non_null(many);
	for (size_t i = 0; i <= BAZEL_ARGS_MAX; i++)
		many[i] = (char *)"//a";
	struct bazel_cmdline c;
	bazel_cmdline_init(&c);
	struct fw_error err;
	fw_error_clear(&err);
	assert_true(bazel_cmdline_parse(BAZEL_ARGS_MAX + 1, many, &c, &err) < 0);
	assert_int_equal(err.exit_code, FW_EX_USAGE);
	free(many);
	bazel_cmdline_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_residue_untouched),
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
