/* test_audit.c - fetch events classified against a manifest, mirrors and the
 * WORKSPACE rules; the audit result round-trips into lock --from-audit input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flywheel/audit.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"

static const char manifest_json[] =
	"{\"schema\":\"flywheel-inputs/1\",\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"inputs\":["
	"{\"name\":\"a.tar.gz\",\"sha256\":\"" H1 "\",\"size\":1,"
	"\"urls\":[\"http://mirror.test:8080/fw/a.tar.gz\",\"https://up.invalid/a.tar.gz\"],"
	"\"canonical_urls\":[\"https://up.invalid/a.tar.gz\"]},"
	"{\"name\":\"b.tar.gz\",\"sha256\":\"2222222222222222222222222222222222222222222222222222222222222222\",\"size\":1,"
	"\"urls\":[\"http://mirror.test:8080/fw/b.tar.gz\"]},"
	"{\"name\":\"c.tar.gz\",\"sha256\":\"" H3 "\",\"size\":1,\"status\":\"candidate\","
	"\"urls\":[\"http://mirror.test:8080/fw/c.tar.gz\"]}]}";

static const char workspace[] =
	"load(\"@bazel_tools//tools/build_defs/repo:http.bzl\", \"http_archive\")\n"
	"# http_archive(name = \"commented\", urls = [\"https://x.invalid/z.tar.gz\"])\n"
	"http_archive(\n    name = \"third\",\n    sha256 = \"" H3 "\",\n"
	"    urls = [\"https://up.invalid/third-1.tar.gz\", 'https://alt.invalid/third-1.tar.gz'],\n"
	"    build_file_content = \"\"\"x = (\"paren\"\"\"\",\n)\n"
	"http_file(name = \"loose\", url = \"http://loose.invalid/l.bin\")\n";

static const char bep[] =
	"{\"id\":{\"started\":{}},\"started\":{}}\n"
	"{\"id\":{\"progress\":{}},\"children\":[{\"fetch\":{\"url\":\"https://up.invalid/third-1.tar.gz\"}}]}\n"
	"{\"id\":{\"fetch\":{\"url\":\"https://up.invalid/third-1.tar.gz\"}},\"fetch\":{\"success\":true}}\n"
	"{\"id\":{\"fetch\":{\"url\":\"http://mirror.test:8080/fw/b.tar.gz\"}},\"fetch\":{\"success\":true}}\n"
	"{\"id\":{\"fetch\":{\"url\":\"http://mirror.test:8080/fw/new.zip\"}},\"fetch\":{\"success\":true}}\n"
	"{\"id\":{\"fetch\":{\"url\":\"http://loose.invalid/l.bin\"}},\"fetch\":{}}\n"
	"{\"id\":{\"fetch\":{\"url\":\"http://loose.invalid/l.bin\"}},\"fetch\":{}}\n"
	"{\"id\":{\"buildFinished\":{}},\"finished\":{\"exitCode\":{\"name\":\"SUCCESS\"}}}";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/fw-audit-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_scan(void **state)
{
	(void)state;
	struct audit_rule *rules = NULL;
	size_t n = 0;
	assert_int_equal(audit_scan_workspace(workspace, strlen(workspace), &rules, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rules[0].name, "third");
	assert_string_equal(rules[0].sha256, H3);
	assert_int_equal(rules[0].urls.n, 2);
	assert_string_equal(rules[0].urls.v[1], "https://alt.invalid/third-1.tar.gz");
	assert_string_equal(rules[1].name, "loose");
	assert_null(rules[1].sha256);
	audit_rules_free(rules, n);
}

static void test_classify(void **state)
{
	(void)state;
	struct manifest m;
	struct fw_error err = { 0 };
	assert_int_equal(manifest_parse(manifest_json, strlen(manifest_json), "m.json", &m, &err), 0);
	char *bp = write_tmp(bep), *wp = write_tmp(workspace);
	struct audit_opts o = { .manifest = &m, .workspace_file = wp };
	struct audit_result r;
	assert_int_equal(audit_run(bp, &o, &r, &err), 0);
	assert_int_equal(r.events, 5);
	assert_int_equal(r.n_fetches, 4);
	assert_int_equal(r.fetches[0].cls, AUDIT_UPSTREAM);
	assert_string_equal(r.fetches[0].rule->name, "third");
	assert_int_equal(r.fetches[1].cls, AUDIT_PINNED);
	assert_string_equal(r.fetches[1].input, "b.tar.gz");
	assert_int_equal(r.fetches[2].cls, AUDIT_MIRROR); /* the manifest's mirror origin */
	assert_int_equal(r.fetches[3].cls, AUDIT_FAILED);
	assert_int_equal(r.fetches[3].attempts, 2);
	assert_string_equal(r.fetches[3].rule->name, "loose");
	assert_int_equal(r.served_without_fetch, 1); /* a.tar.gz; c is a candidate */
	assert_true(audit_outside_manifest(&r));

	char *json = NULL;
	assert_int_equal(audit_result_json(&r, bp, "m.json", &json), 0);
	assert_non_null(strstr(json, "\"schema\": \"flywheel-audit/1\""));
	char *jp = write_tmp(json);
	struct audit_adopt *a = NULL;
	size_t n = 0;
	assert_int_equal(audit_adopt_read(jp, &a, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].name, "third-1.tar.gz");
	assert_string_equal(a[0].repository, "third");
	assert_string_equal(a[0].sha256, H3);
	assert_int_equal(a[0].rule_urls.n, 2);
	assert_string_equal(a[1].name, "new.zip");
	assert_null(a[1].sha256);
	audit_adopt_free(a, n);
	audit_result_release(&r);

	/* --mirror prefixes and no manifest */
	const char *mirrors[] = { "https://up.invalid/" };
	struct audit_opts o2 = { .mirrors = mirrors, .n_mirrors = 1 };
	assert_int_equal(audit_run(bp, &o2, &r, &err), 0);
	assert_int_equal(r.fetches[0].cls, AUDIT_MIRROR);
	assert_int_equal(r.fetches[1].cls, AUDIT_UPSTREAM);
	assert_null(r.fetches[0].rule);
	audit_result_release(&r);

	unlink(bp);
	unlink(wp);
	unlink(jp);
	free(bp);
	free(wp);
	free(jp);
	free(json);
	manifest_release(&m);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct fw_error err = { 0 };
	struct audit_result r;
	struct audit_opts o = { 0 };
	char *bp = write_tmp("{\"id\":{}}\n{\"id\":{\"fetch\": broken\n");
	assert_int_equal(audit_run(bp, &o, &r, &err), -1);
	assert_int_equal(err.exit_code, FW_EX_DATAERR);
	assert_non_null(strstr(err.subject, ":2"));
	audit_result_release(&r);
	fw_error_clear(&err);
	assert_int_equal(audit_run("/nonexistent/bep.json", &o, &r, &err), -1);
	audit_result_release(&r);
	char *jp = write_tmp("{\"schema\":\"flywheel-audit/1\",\"uncovered\":[{\"name\":\"x\",\"url\":\"file:///etc/passwd\"}]}");
	struct audit_adopt *a = NULL;
	size_t n = 0;
	fw_error_clear(&err);
	assert_int_equal(audit_adopt_read(jp, &a, &n, &err), -1);
	unlink(bp);
	unlink(jp);
	free(bp);
	free(jp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
