/* test_child.c - Bazel as a child: exit-status passthrough, signal forwarding,
 * stderr tail, quota retries, exec failures (fake bazel scripts). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "flywheel/child.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static char tmpdir[] = "/tmp/fw-child-XXXXXX";

static char *script(const char *name, const char *body, unsigned mode)
{
	char *path = fw_asprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, mode);
	return path;
}

static struct child_result res; /* large: keep it off the stack */

static int run(char *path, const char *arg, unsigned retries, struct fw_error *err)
{
	char *argv[] = { path, (char *)arg, NULL };
	struct child_opts o = { .argv = argv, .capture_stderr = true, .quota_retries = retries,
				.backoff_base_ms = 1, .backoff_max_ms = 4 };
	return child_run(&o, &res, err);
}

static void test_exit_status_passthrough(void **state)
{
	(void)state;
	_cleanup_free_ char *p = script("exit", "echo \"exiting $1\" >&2; exit \"$1\"", 0755);
	static const char *const codes[] = { "0", "1", "2", "3", "4", "8", "34", "36", "37", "125", "255" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(codes); i++) {
		struct fw_error err = { 0 };
		assert_int_equal(run(p, codes[i], 0, &err), 0);
		uint64_t want;
		assert_int_equal(parse_u64(codes[i], 255, &want), 0);
		assert_int_equal(res.status, (int)want);
		assert_int_equal(res.attempts, 1);
		assert_int_equal(res.signo, 0);
		char expect[32];
		snprintf(expect, sizeof(expect), "exiting %s\n", codes[i]);
		assert_string_equal(res.tail, expect);
	}
}

static void test_killed_by_signal(void **state)
{
	(void)state;
	_cleanup_free_ char *p = script("killself", "kill -TERM $$", 0755);
	struct fw_error err = { 0 };
	assert_int_equal(run(p, NULL, 0, &err), 0);
	assert_int_equal(res.status, 128 + SIGTERM);
	assert_int_equal(res.signo, SIGTERM);
}

static void test_signal_forwarding(void **state)
{
	(void)state;
	_cleanup_free_ char *ready = fw_asprintf("%s/ready", tmpdir);
	_cleanup_free_ char *body = fw_asprintf("trap 'echo got-int >&2; exit 42' INT\n"
						"trap 'echo got-term >&2; exit 43' TERM\n"
						"echo up > %s\nwhile :; do sleep 0.02; done",
						ready);
	_cleanup_free_ char *p = script("trap", body, 0755);
	static const struct {
		int sig;
		int status;
		const char *text;
	} t[] = { { SIGINT, 42, "got-int\n" }, { SIGTERM, 43, "got-term\n" } };
	for (size_t i = 0; i < FW_ARRAY_SIZE(t); i++) {
		unlink(ready);
		pid_t parent = getpid();
		pid_t killer = fork();
		assert_true(killer >= 0);
		if (killer == 0) {
			/* bounded wait for the fake bazel to be up, then signal flywheel */
			for (int k = 0; k < 1000 && access(ready, F_OK) != 0; k++)
				usleep(10000);
			kill(parent, t[i].sig);
			_exit(0);
		}
		struct fw_error err = { 0 };
		assert_int_equal(run(p, NULL, 0, &err), 0);
		int st;
		waitpid(killer, &st, 0);
		assert_int_equal(res.status, t[i].status);
		assert_int_equal(res.interrupted_by, t[i].sig);
		assert_string_equal(res.tail, t[i].text);
	}
	/* the signal mask is restored afterwards */
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	assert_false(sigismember(&cur, SIGINT));
	assert_false(sigismember(&cur, SIGCHLD));
}

static void test_child_gets_original_mask(void **state)
{
	(void)state;
	/* SigBlk of the child must not include SIGINT although the parent blocks it while waiting */
	_cleanup_free_ char *p = script("mask", "exec grep SigBlk /proc/self/status >&2", 0755);
	struct fw_error err = { 0 };
	assert_int_equal(run(p, NULL, 0, &err), 0);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.tail, "SigBlk:\t0000000000000000"));
}

static unsigned announced;
static uint64_t announced_ms;

static void announce(void *ud, unsigned attempt, unsigned retries, uint64_t wait_ms)
{
	(void)ud;
	assert_int_equal(attempt, announced + 1);
	assert_int_equal(retries, 3);
	assert_true(wait_ms <= 4);
	announced++;
	announced_ms += wait_ms;
}

static void test_quota_retries(void **state)
{
	(void)state;
	_cleanup_free_ char *count = fw_asprintf("%s/count", tmpdir);
	_cleanup_free_ char *body = fw_asprintf(
		"n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s\n"
		"if [ $n -le 2 ]; then echo \"ERROR: build failed: RESOURCE_EXHA\" >&2; "
		"echo \"USTED: quota exceeded\" >&2; exit 34; fi\necho done >&2; exit 0",
		count, count);
	_cleanup_free_ char *p = script("quota", body, 0755);
	char *argv[] = { p, NULL };
	announced = 0;
	struct child_opts o = { .argv = argv, .capture_stderr = true, .quota_retries = 3,
				.backoff_base_ms = 1, .backoff_max_ms = 4, .announce = announce };
	struct fw_error err = { 0 };
	unlink(count);
	/* a newline inside the word: not the quota mark, so no retry */
	assert_int_equal(child_run(&o, &res, &err), 0);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 34);

	_cleanup_free_ char *body2 = fw_asprintf(
		"n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s\n"
		"if [ $n -le 2 ]; then printf 'ERROR: RESOURCE_EXHA' >&2; sleep 0.05; "
		"printf 'USTED: quota exceeded\\n' >&2; exit 34; fi\necho done >&2; exit 0",
		count, count);
	_cleanup_free_ char *p2 = script("quota2", body2, 0755);
	argv[0] = p2; /* the mark split across two writes is still recognised */
	unlink(count);
	announced = 0;
	assert_int_equal(child_run(&o, &res, &err), 0);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.status, 0);
	assert_int_equal(announced, 2);
	assert_string_equal(res.tail, "done\n");
	assert_false(res.resource_exhausted);

	/* retries run out: the last quota failure is the result */
	_cleanup_free_ char *p3 = script("quota3", "echo RESOURCE_EXHAUSTED >&2; exit 34", 0755);
	assert_int_equal(run(p3, NULL, 2, &err), 0);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.status, 34);
	assert_true(res.resource_exhausted);

	/* RESOURCE_EXHAUSTED with another exit code is not retried */
	_cleanup_free_ char *p4 = script("quota4", "echo RESOURCE_EXHAUSTED >&2; exit 1", 0755);
	assert_int_equal(run(p4, NULL, 2, &err), 0);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 1);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(child_backoff_ms(1000, 60000, 1, 0), 500);
	assert_int_equal(child_backoff_ms(1000, 60000, 1, 500), 1000);
	assert_int_equal(child_backoff_ms(1000, 60000, 3, 0), 2000);
	assert_int_equal(child_backoff_ms(1000, 60000, 30, 0), 30000);
	for (uint32_t r = 0; r < 5000; r += 7) {
		uint64_t d = child_backoff_ms(2000, 60000, 2, r);
		assert_true(d >= 2000 && d <= 4000);
	}
}

static void test_long_stderr_tail(void **state)
{
	(void)state;
	_cleanup_free_ char *p = script("long", "head -c 200000 /dev/zero | tr '\\0' x >&2; echo END >&2", 0755);
	struct fw_error err = { 0 };
	int saved = dup(STDERR_FILENO);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(devnull, STDERR_FILENO);
	int r = run(p, NULL, 0, &err);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);
	assert_int_equal(r, 0);
	assert_int_equal(res.tail_len, CHILD_TAIL_MAX);
	assert_true(str_has_suffix(res.tail, "xxxxEND\n"));
}

static void test_exec_failures(void **state)
{
	(void)state;
	struct fw_error err = { 0 };
	_cleanup_free_ char *missing = fw_asprintf("%s/no-such-bazel", tmpdir);
	assert_int_equal(run(missing, NULL, 0, &err), -1);
	assert_int_equal(err.exit_code, 127);
	_cleanup_free_ char *noexec = script("noexec", "exit 0", 0644);
	struct fw_error err2 = { 0 };
	assert_int_equal(run(noexec, NULL, 0, &err2), -1);
	assert_int_equal(err2.exit_code, 126);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *argv[] = { (char *)"/bin/rm", (char *)"-rf", tmpdir, NULL };
	struct child_opts o = { .argv = argv };
	struct fw_error err = { 0 };
	return child_run(&o, &res, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_passthrough),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_signal_forwarding),
		cmocka_unit_test(test_child_gets_original_mask),
		cmocka_unit_test(test_quota_retries),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_long_stderr_tail),
		cmocka_unit_test(test_exec_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
