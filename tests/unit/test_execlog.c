/* test_execlog.c - execution-log readers: both JSON spellings, split feeds,
 * compact logs written here with protobuf-c + zstd, build-event cross-check. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "spawn_min.pb-c.h"

#include "flywheel/execlog.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static char *fixture_path(const char *name)
{
	const char *src = getenv("FLYWHEEL_SRCDIR");
	return fw_asprintf("%s/tests/unit/data/execlog/%s", src ? src : ".", name);
}

/* ---- JSON ---------------------------------------------------------------- */

static int json_count_split(const char *text, size_t split, struct execlog_counts *ret)
{
	struct execlog_json *s = execlog_json_new();
	assert_non_null(s);
	size_t len = strlen(text);
	int r = 0;
	if (split == 0) {
		/* byte by byte */
		for (size_t i = 0; i < len && r == 0; i++)
			r = execlog_json_feed(s, text + i, 1);
	} else {
		if (split > len)
			split = len;
		r = execlog_json_feed(s, text, split);
		if (r == 0)
			r = execlog_json_feed(s, text + split, len - split);
	}
	if (r == 0)
		r = execlog_json_finish(s, ret);
	execlog_json_free(s);
	return r;
}

static void test_real_bazel_423_json(void **state)
{
	(void)state;
	_cleanup_free_ char *p = fixture_path("bazel-4.2.3-genrule.json");
	struct execlog_counts c;
	struct fw_error err = { 0 };
	enum execlog_format f;
	assert_int_equal(execlog_detect_format(p, &f, &err), 0);
	assert_int_equal(f, EXECLOG_JSON);
	assert_int_equal(execlog_read_file(p, EXECLOG_JSON, &c, &err), 0);
	assert_int_equal(c.spawns, 2);
	assert_int_equal(c.by_class[EXECLOG_LOCAL], 2);
	assert_int_equal(c.by_class[EXECLOG_REMOTE], 0);
	assert_int_equal(c.failed, 0);
}

/* Bazel 4.2.3 spelling ("remoteCacheHit"), 7.x spelling ("cacheHit"), nested
 * decoys named "runner", escapes, and a failed spawn. */
static const char *const mixed_json =
	"{\n  \"commandArgs\": [\"/bin/bash\", \"-c\", \"echo \\\"runner\\\": \\u003e x\"],\n"
	"  \"platform\": {\"properties\": [{\"name\": \"runner\", \"value\": \"remote\"}]},\n"
	"  \"nested\": {\"runner\": \"remote\"},\n"
	"  \"runner\": \"remote\",\n  \"remoteCacheHit\": false,\n  \"status\": \"\",\n  \"exitCode\": 0\n}"
	"{\n  \"runner\": \"remote cache hit\",\n  \"remoteCacheHit\": true,\n  \"exitCode\": 0\n}"
	"{\"runner\":\"remote\",\"cacheHit\":true,\"exitCode\":0}\n"
	"{\"runner\":\"remote\",\"cacheHit\":false,\"exitCode\":0}\n"
	"{\"runner\": \"disk cache hit\", \"cacheHit\": true}\n"
	"{\"runner\": \"processwrapper-sandbox\", \"remoteCacheHit\": false}\n"
	"{\"runner\": \"worker\"}\n"
	"{\"runner\": \"linux-sandbox\", \"status\": \"NON_ZERO_EXIT\", \"exitCode\": 1}\n"
	"{\"mnemonic\": \"Genrule\"}\n";

static void check_mixed(const struct execlog_counts *c)
{
	assert_int_equal(c->spawns, 9);
	assert_int_equal(c->by_class[EXECLOG_REMOTE], 2);
	assert_int_equal(c->by_class[EXECLOG_REMOTE_CACHE_HIT], 2);
	assert_int_equal(c->by_class[EXECLOG_DISK_CACHE_HIT], 1);
	assert_int_equal(c->by_class[EXECLOG_LOCAL], 3);
	assert_int_equal(c->by_class[EXECLOG_OTHER], 1);
	assert_int_equal(c->failed, 1);
}

static void test_json_both_spellings_every_split(void **state)
{
	(void)state;
	struct execlog_counts c;
	size_t len = strlen(mixed_json);
	for (size_t split = 0; split <= len; split++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(json_count_split(mixed_json, split, &c), 0);
		check_mixed(&c);
	}
}

static void test_json_array_wrapper(void **state)
{
	(void)state;
	struct execlog_counts c;
	assert_int_equal(json_count_split("[{\"runner\":\"remote\"},\n{\"runner\":\"local\"}]\n", 5, &c), 0);
	assert_int_equal(c.spawns, 2);
	assert_int_equal(c.by_class[EXECLOG_REMOTE], 1);
	assert_int_equal(c.by_class[EXECLOG_LOCAL], 1);
	assert_int_equal(json_count_split("", 0, &c), 0);
	assert_int_equal(c.spawns, 0);
}

static void test_json_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"runner\": \"remote\"",          /* cut short */
		"{\"runner\": \"remo",              /* cut inside a string */
		"{\"runner\": \"remote\"}}",        /* unbalanced */
		"{\"runner\": \"remote\"} x {}",    /* stray text between objects */
		"\"runner\"",                       /* not an object */
		"[{\"runner\":\"remote\"}",         /* array not closed */
		"[{}] {}",                          /* text after the array */
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		struct execlog_counts c;
		assert_int_equal(json_count_split(bad[i], 3, &c), -EBADMSG);
	}
}

static void test_classify(void **state)
{
	(void)state;
	static const struct {
		const char *runner;
		bool hit;
		enum execlog_class want;
	} t[] = {
		{ "remote", false, EXECLOG_REMOTE },
		{ "remote", true, EXECLOG_REMOTE_CACHE_HIT },
		{ "remote cache hit", false, EXECLOG_REMOTE_CACHE_HIT },
		{ "disk cache hit", true, EXECLOG_DISK_CACHE_HIT },
		{ "linux-sandbox", false, EXECLOG_LOCAL },
		{ "darwin-sandbox", false, EXECLOG_LOCAL },
		{ "local", false, EXECLOG_LOCAL },
		{ "worker", false, EXECLOG_LOCAL },
		{ "multiplex-worker", false, EXECLOG_LOCAL },
		{ "", false, EXECLOG_OTHER },
		{ "remotely", false, EXECLOG_OTHER },
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(t); i++)
		assert_int_equal(execlog_classify(t[i].runner, strlen(t[i].runner), t[i].hit), t[i].want);
}

/* ---- compact --------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

static void wbuf_put(struct wbuf *w, const void *d, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		assert_non_null(w->p);
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put_entry(struct wbuf *w, const Tools__Protos__ExecLogEntry *e)
{
	size_t n = tools__protos__exec_log_entry__get_packed_size(e);
	uint8_t hdr[10];
	size_t h = 0;
	uint64_t v = n;
	do {
		hdr[h] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			hdr[h] |= 0x80;
		h++;
	} while (v);
	wbuf_put(w, hdr, h);
	uint8_t *buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(tools__protos__exec_log_entry__pack(e, buf), n);
	wbuf_put(w, buf, n);
	free(buf);
}

static void put_file(struct wbuf *w, uint32_t id, const char *path)
{
	Tools__Protos__ExecLogEntry e = TOOLS__PROTOS__EXEC_LOG_ENTRY__INIT;
	Tools__Protos__ExecLogEntry__File f = TOOLS__PROTOS__EXEC_LOG_ENTRY__FILE__INIT;
	Tools__Protos__Digest d = TOOLS__PROTOS__DIGEST__INIT;
	d.hash = (char *)"87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";
	d.size_bytes = 2;
	f.path = (char *)path;
	f.digest = &d;
	e.id = id;
	e.type_case = TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_FILE;
	e.file = &f;
	put_entry(w, &e);
}

static void put_input_set(struct wbuf *w, uint32_t id, uint32_t *inputs, size_t n, uint32_t *trans,
			  size_t nt)
{
	Tools__Protos__ExecLogEntry e = TOOLS__PROTOS__EXEC_LOG_ENTRY__INIT;
	Tools__Protos__ExecLogEntry__InputSet s = TOOLS__PROTOS__EXEC_LOG_ENTRY__INPUT_SET__INIT;
	s.input_ids = inputs;
	s.n_input_ids = n;
	s.transitive_set_ids = trans;
	s.n_transitive_set_ids = nt;
	e.id = id;
	e.type_case = TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_INPUT_SET;
	e.input_set = &s;
	put_entry(w, &e);
}

static void put_spawn(struct wbuf *w, const char *runner, bool hit, uint32_t input_set, uint32_t output,
		      int exit_code)
{
	Tools__Protos__ExecLogEntry e = TOOLS__PROTOS__EXEC_LOG_ENTRY__INIT;
	Tools__Protos__ExecLogEntry__Spawn sp = TOOLS__PROTOS__EXEC_LOG_ENTRY__SPAWN__INIT;
	Tools__Protos__ExecLogEntry__Output out = TOOLS__PROTOS__EXEC_LOG_ENTRY__OUTPUT__INIT;
	Tools__Protos__ExecLogEntry__Output *outs[1] = { &out };
	char *args[] = { (char *)"/bin/bash", (char *)"-c", (char *)"echo a > x" };
	out.type_case = TOOLS__PROTOS__EXEC_LOG_ENTRY__OUTPUT__TYPE_OUTPUT_ID;
	out.output_id = output;
	sp.args = args;
	sp.n_args = 3;
	sp.outputs = outs;
	sp.n_outputs = 1;
	sp.runner = (char *)runner;
	sp.cache_hit = hit;
	sp.input_set_id = input_set;
	sp.mnemonic = (char *)"Genrule";
	sp.target_label = (char *)"//:a";
	sp.exit_code = exit_code;
	e.type_case = TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_SPAWN;
	e.spawn = &sp;
	put_entry(w, &e);
}

/* An entry of a kind the trimmed proto does not declare (RunfilesTree = 10):
 * it must be skipped, but its id still counts as seen. */
static void put_unknown_kind(struct wbuf *w, uint32_t id)
{
	uint8_t raw[] = { 0x08, (uint8_t)id, 0x52, 0x03, 0x0a, 0x01, 'r' };
	uint8_t len = sizeof(raw);
	wbuf_put(w, &len, 1);
	wbuf_put(w, raw, sizeof(raw));
}

static void build_compact(struct wbuf *w)
{
	Tools__Protos__ExecLogEntry e = TOOLS__PROTOS__EXEC_LOG_ENTRY__INIT;
	Tools__Protos__ExecLogEntry__Invocation inv = TOOLS__PROTOS__EXEC_LOG_ENTRY__INVOCATION__INIT;
	inv.hash_function_name = (char *)"SHA-256";
	inv.workspace_runfiles_directory = (char *)"_main";
	e.type_case = TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_INVOCATION;
	e.invocation = &inv;
	put_entry(w, &e);
	/* ids out of order: 9, 4, 6, then a set 2 over them, a set 11 over 2 */
	put_file(w, 9, "a.c");
	put_file(w, 4, "b.h");
	put_unknown_kind(w, 6);
	uint32_t in1[] = { 9, 4, 6 };
	put_input_set(w, 2, in1, 3, NULL, 0);
	uint32_t in2[] = { 9 };
	uint32_t tr2[] = { 2 };
	put_input_set(w, 11, in2, 1, tr2, 1);
	put_file(w, 3, "bazel-out/a.o");
	put_spawn(w, "remote", false, 11, 3, 0);
	put_file(w, 8, "bazel-out/b.o");
	put_spawn(w, "remote", false, 2, 8, 0);
	put_file(w, 7, "bazel-out/c.o");
	put_spawn(w, "remote cache hit", true, 2, 7, 0);
	put_file(w, 5, "bazel-out/d.o");
	put_spawn(w, "linux-sandbox", false, 11, 5, 1);
	/* a spawn whose input set (id 40) is missing from the log */
	put_file(w, 12, "bazel-out/e.o");
	put_spawn(w, "remote", false, 40, 12, 0);
}

static void check_compact(const struct execlog_counts *c)
{
	assert_int_equal(c->spawns, 5);
	assert_int_equal(c->by_class[EXECLOG_REMOTE], 3);
	assert_int_equal(c->by_class[EXECLOG_REMOTE_CACHE_HIT], 1);
	assert_int_equal(c->by_class[EXECLOG_LOCAL], 1);
	assert_int_equal(c->failed, 1);
	assert_int_equal(c->entries, 16);
	assert_int_equal(c->dangling_refs, 1);
	assert_int_equal(c->duplicate_ids, 0);
}

static void test_compact_split_feeds(void **state)
{
	(void)state;
	struct wbuf w = { 0 };
	build_compact(&w);
	for (size_t split = 0; split <= w.len; split++) {
		struct execlog_compact *s = execlog_compact_new();
		assert_non_null(s);
		struct execlog_counts c;
		if (split == 0) {
			for (size_t i = 0; i < w.len; i++)
				assert_int_equal(execlog_compact_feed(s, w.p + i, 1), 0);
		} else {
			assert_int_equal(execlog_compact_feed(s, w.p, split), 0);
			assert_int_equal(execlog_compact_feed(s, w.p + split, w.len - split), 0);
		}
		assert_int_equal(execlog_compact_finish(s, &c), 0);
		check_compact(&c);
		execlog_compact_free(s);
	}
	/* cut in the middle of an entry */
	struct execlog_compact *s = execlog_compact_new();
	struct execlog_counts c;
	assert_int_equal(execlog_compact_feed(s, w.p, w.len - 3), 0);
	assert_int_equal(execlog_compact_finish(s, &c), -EBADMSG);
	execlog_compact_free(s);
	/* garbage: a length prefix with an invalid message */
	s = execlog_compact_new();
	uint8_t junk[] = { 0x03, 0xff, 0xff, 0xff };
	assert_int_equal(execlog_compact_feed(s, junk, sizeof(junk)), -EBADMSG);
	execlog_compact_free(s);
	free(w.p);
}

static char *write_zstd(const struct wbuf *w, size_t cut)
{
	size_t bound = ZSTD_compressBound(w->len);
	uint8_t *z = malloc(bound);
	assert_non_null(z);
	size_t zn = ZSTD_compress(z, bound, w->p, w->len, 3);
	assert_false(ZSTD_isError(zn));
	char *path = strdup("/tmp/fw-execlog-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, z, zn - cut), (ssize_t)(zn - cut));
	close(fd);
	free(z);
	return path;
}

static void test_compact_zstd_file(void **state)
{
	(void)state;
	struct wbuf w = { 0 };
	build_compact(&w);
	_cleanup_free_ char *path = write_zstd(&w, 0);
	struct fw_error err = { 0 };
	enum execlog_format f;
	assert_int_equal(execlog_detect_format(path, &f, &err), 0);
	assert_int_equal(f, EXECLOG_COMPACT);
	struct execlog_counts c;
	if (execlog_read_file(path, EXECLOG_COMPACT, &c, &err) != 0)
		fail_msg("%s: %s", err.subject, err.what);
	check_compact(&c);
	assert_int_equal(c.bytes, w.len);
	unlink(path);

	/* a zstd frame cut short is an error, not a smaller count */
	_cleanup_free_ char *cut = write_zstd(&w, 5);
	struct fw_error err2 = { 0 };
	assert_int_equal(execlog_read_file(cut, EXECLOG_COMPACT, &c, &err2), -1);
	assert_int_equal(err2.exit_code, FW_EX_DATAERR);
	unlink(cut);
	free(w.p);
}

/* ---- build events ------------------------------------------------------------ */

static void test_bep_crosscheck(void **state)
{
	(void)state;
	struct bep_summary b;
	memset(&b, 0, sizeof(b));
	const char *l1 = "{\"id\":{\"fetch\":{\"url\":\"https://x/a.tgz\"}},\"fetch\":{\"success\":true}}";
	const char *l2 = "{\"id\":{\"buildMetrics\":{}},\"buildMetrics\":{\"actionSummary\":{"
			 "\"actionsExecuted\":\"6\",\"runnerCount\":[{\"name\":\"total\",\"count\":6},"
			 "{\"name\":\"internal\",\"count\":2},{\"name\":\"remote\",\"count\":3,\"execKind\":\"Remote\"},"
			 "{\"name\":\"remote cache hit\",\"count\":1}]}}}";
	const char *l3 = "{\"id\":{\"buildFinished\":{}},\"finished\":{\"overallSuccess\":true,"
			 "\"exitCode\":{\"name\":\"SUCCESS\"}}}";
	assert_int_equal(bep_summary_add_line(&b, l1, strlen(l1)), 0);
	assert_int_equal(bep_summary_add_line(&b, l2, strlen(l2)), 0);
	assert_int_equal(bep_summary_add_line(&b, l3, strlen(l3)), 0);
	assert_true(b.has_runner_count);
	assert_int_equal(b.total, 6);
	assert_int_equal(b.internal, 2);
	assert_int_equal(b.by_class[EXECLOG_REMOTE], 3);
	assert_true(b.has_finished);
	assert_true(b.success);
	assert_int_equal(b.fetches, 1);

	struct execlog_counts c;
	memset(&c, 0, sizeof(c));
	c.spawns = 4;
	c.by_class[EXECLOG_REMOTE] = 3;
	c.by_class[EXECLOG_REMOTE_CACHE_HIT] = 1;
	char buf[512];
	assert_int_equal(execlog_crosscheck(&c, &b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* one remote spawn missing from the log */
	c.spawns = 3;
	c.by_class[EXECLOG_REMOTE] = 2;
	assert_int_equal(execlog_crosscheck(&c, &b, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "spawns: log 3, build events 4; remote: log 2, build events 3");
	/* no runner_count (Bazel 4.2.3): nothing to compare */
	struct bep_summary none;
	memset(&none, 0, sizeof(none));
	assert_int_equal(execlog_crosscheck(&c, &none, buf, sizeof(buf)), 0);

	const char *bad = "{\"finished\": ";
	assert_int_equal(bep_summary_add_line(&b, bad, strlen(bad)), -EBADMSG);
}

static void test_bep_file(void **state)
{
	(void)state;
	char path[] = "/tmp/fw-bep-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* a long irrelevant line, then the metrics without a trailing newline */
	size_t big = 3u * 1024u * 1024u;
	char *filler = malloc(big + 32);
	assert_non_null(filler);
	memset(filler, 'x', big + 32);
	memcpy(filler, "{\"progress\":\"", 13);
	memcpy(filler + big, "\"}\n", 3);
	assert_int_equal(write(fd, filler, big + 3), (ssize_t)(big + 3));
	const char *m = "{\"buildMetrics\":{\"actionSummary\":{\"runnerCount\":[{\"name\":\"total\",\"count\":2},"
			"{\"name\":\"linux-sandbox\",\"count\":2}]}}}";
	assert_int_equal(write(fd, m, strlen(m)), (ssize_t)strlen(m));
	close(fd);
	free(filler);
	struct bep_summary b;
	struct fw_error err = { 0 };
	assert_int_equal(bep_read_summary(path, &b, &err), 0);
	assert_true(b.has_runner_count);
	assert_int_equal(b.by_class[EXECLOG_LOCAL], 2);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_bazel_423_json),
		cmocka_unit_test(test_json_both_spellings_every_split),
		cmocka_unit_test(test_json_array_wrapper),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_compact_split_feeds),
		cmocka_unit_test(test_compact_zstd_file),
		cmocka_unit_test(test_bep_crosscheck),
		cmocka_unit_test(test_bep_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
