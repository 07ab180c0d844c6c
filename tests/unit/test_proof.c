/* test_proof.c - proof acceptance rules and proof-result.json, on fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "flywheel/proof.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static const char *const targets[] = { "//:hello", "//:hello_test" };
static const char *const command[] = { "/usr/bin/bazel", "build", "--remote_executor=grpc://127.0.0.1:1", "--", "//:hello" };

static void base(struct proof_input *in)
{
	memset(in, 0, sizeof(*in));
	in->targets = targets;
	in->n_targets = 2;
	in->command = command;
	in->n_command = 5;
	in->nonce = "00112233445566778899aabbccddeeff";
	in->attempts = 1;
	in->force_execution = true;
	in->executor_attached = true;
	in->cache_attached = true;
	in->executor = "grpc://127.0.0.1:1";
	in->cache = "grpc://127.0.0.1:1";
	in->platform = "gloriousflywheel-rbe-linux-x86_64";
	in->have_log = true;
	in->log_format = EXECLOG_JSON;
	in->counts.spawns = 4;
	in->counts.by_class[EXECLOG_REMOTE] = 3;
	in->counts.by_class[EXECLOG_REMOTE_CACHE_HIT] = 1;
	in->started = 1700000000;
	in->finished = 1700000042;
	in->flywheel_version = "0.1.0";
	in->bazel_version = "4.2.3 (from config)";
}

static void test_rules_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int bazel_exit;
		bool executor, forced, have_log;
		uint64_t remote, hits, local;
		bool accepted;
		const char *reason;
	} t[] = {
		{ "accepted", 0, true, true, true, 3, 1, 0, true, "accepted" },
		{ "bazel failed", 1, true, true, true, 3, 1, 0, false, "Bazel failed (exit 1)" },
		{ "bazel failed 34", 34, true, true, true, 0, 0, 0, false, "Bazel failed (exit 34)" },
		{ "cache only", 0, false, false, true, 0, 1, 3, false, "no executor was attached" },
		{ "not forced", 0, true, false, true, 3, 0, 0, false, "not forced" },
		{ "no log", 0, true, true, false, 0, 0, 0, false, "no usable execution log" },
		{ "all hits", 0, true, true, true, 0, 4, 0, false, "every spawn (4) was a cache hit" },
		{ "all local", 0, true, true, true, 0, 0, 4, false, "no spawn ran remotely" },
		{ "no spawns", 0, true, true, true, 0, 0, 0, false, "no spawn ran remotely (0 spawns" },
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(t); i++) {
		struct proof_input in;
		base(&in);
		in.bazel_exit = t[i].bazel_exit;
		in.executor_attached = t[i].executor;
		in.force_execution = t[i].forced;
		in.have_log = t[i].have_log;
		memset(&in.counts, 0, sizeof(in.counts));
		in.counts.by_class[EXECLOG_REMOTE] = t[i].remote;
		in.counts.by_class[EXECLOG_REMOTE_CACHE_HIT] = t[i].hits;
		in.counts.by_class[EXECLOG_LOCAL] = t[i].local;
		in.counts.spawns = t[i].remote + t[i].hits + t[i].local;
		struct proof_verdict v;
		proof_evaluate(&in, &v);
		if (v.accepted != t[i].accepted || !strstr(v.reason, t[i].reason))
			fail_msg("%s: accepted=%d reason '%s'", t[i].name, v.accepted, v.reason);
		if (t[i].have_log) {
			assert_int_equal(v.remote_processes, t[i].remote);
			assert_int_equal(v.cache_hit_processes, t[i].hits);
			assert_int_equal(v.local_processes, t[i].local);
		}
	}
}

static void test_bep_crosscheck_in_proof(void **state)
{
	(void)state;
	struct proof_input in;
	base(&in);
	in.have_bep = true;
	in.bep.has_runner_count = true;
	in.bep.total = 6;
	in.bep.internal = 2;
	in.bep.by_class[EXECLOG_REMOTE] = 3;
	in.bep.by_class[EXECLOG_REMOTE_CACHE_HIT] = 1;
	struct proof_verdict v;
	proof_evaluate(&in, &v);
	assert_true(v.accepted);
	assert_int_equal(v.disagreements, 0);
	/* Bazel's summary says fewer remote spawns than the log: refuse */
	in.bep.by_class[EXECLOG_REMOTE] = 1;
	in.bep.by_class[EXECLOG_LOCAL] = 2;
	proof_evaluate(&in, &v);
	assert_false(v.accepted);
	assert_non_null(strstr(v.reason, "more remote spawns than Bazel's own summary"));
	/* the log misses spawns Bazel counted: remote still only what the log shows */
	in.bep.by_class[EXECLOG_REMOTE] = 5;
	in.bep.by_class[EXECLOG_LOCAL] = 0;
	in.bep.total = 8;
	proof_evaluate(&in, &v);
	assert_true(v.accepted);
	assert_int_equal(v.remote_processes, 3);
	assert_int_equal(v.disagreements, 2);
}

static void test_result_json(void **state)
{
	(void)state;
	struct proof_input in;
	base(&in);
	in.class_name = "cc-hermetic";
	in.worker_image_digest = "sha256:abcd";
	in.evidence_dir = "/tmp/flywheel-proof-x";
	in.evidence[0].name = "execution-log.json";
	memset(in.evidence[0].sha256, 'a', 64);
	in.evidence[0].size = 1234;
	in.n_evidence = 1;
	struct proof_verdict v;
	proof_evaluate(&in, &v);
	_cleanup_free_ char *text = proof_result_json(&in, &v);
	assert_non_null(text);
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "gf-reapi-proof-result");
	assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
	assert_true(json_is_true(json_object_get(j, "accepted")));
	assert_true(json_is_true(json_object_get(j, "build_success")));
	assert_true(json_is_true(json_object_get(j, "force_execution")));
	assert_true(json_is_true(json_object_get(j, "executor_attached")));
	assert_true(json_is_true(json_object_get(j, "cache_attached")));
	assert_true(json_is_false(json_object_get(j, "cache_hits_only")));
	assert_int_equal(json_integer_value(json_object_get(j, "remote_processes")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "cache_hit_processes")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "local_processes")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "targets")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "command")), 5);
	assert_string_equal(json_string_value(json_object_get(j, "nonce")), in.nonce);
	assert_string_equal(json_string_value(json_object_get(j, "class")), "cc-hermetic");
	assert_string_equal(json_string_value(json_object_get(j, "worker_image_digest")), "sha256:abcd");
	assert_string_equal(json_string_value(json_object_get(j, "platform")), "gloriousflywheel-rbe-linux-x86_64");
	assert_string_equal(json_string_value(json_object_get(j, "started_at")), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(j, "finished_at")), "2023-11-14T22:14:02Z");
	assert_string_equal(json_string_value(json_object_get(j, "flywheel_version")), "0.1.0");
	assert_true(json_is_null(json_object_get(j, "instance_name")));
	json_t *ev = json_array_get(json_object_get(j, "evidence"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "name")), "execution-log.json");
	assert_int_equal(strlen(json_string_value(json_object_get(ev, "sha256"))), 64);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "execution_log"), "format")), "json");
	json_decref(j);
}

static void test_hash_file(void **state)
{
	(void)state;
	char path[] = "/tmp/fw-proof-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	char hex[65];
	uint64_t size = 0;
	struct fw_error err = { 0 };
	assert_int_equal(proof_hash_file(path, hex, &size, &err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
	unlink(path);
	assert_int_equal(proof_hash_file(path, hex, &size, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_table),
		cmocka_unit_test(test_bep_crosscheck_in_proof),
		cmocka_unit_test(test_result_json),
		cmocka_unit_test(test_hash_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
