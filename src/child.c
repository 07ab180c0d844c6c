/* child.c - run Bazel as a child: signal forwarding, status passthrough,
 * stderr tail, quota retries. */
#include "flywheel/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

extern char **environ;

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

#define QUOTA_MARK "RESOURCE_EXHAUSTED"
#define QUOTA_MARK_LEN (sizeof(QUOTA_MARK) - 1)
#define PIPE_CHUNK 16384u

bool child_is_quota_failure(int status, bool resource_exhausted)
{
	return status == CHILD_BAZEL_EXIT_REMOTE_ERROR && resource_exhausted;
}

uint64_t child_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, uint32_t r)
{
	uint64_t d = base_ms;
	for (unsigned i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	uint64_t half = d / 2;
	return half + (half ? (uint64_t)r % (d - half + 1) : 0);
}

struct tail {
	char buf[CHILD_TAIL_MAX];
	size_t start, len;
	char carry[QUOTA_MARK_LEN]; /* end of the previous chunk, for a mark split across reads */
	size_t carry_len;
	bool mark;
};

__attribute__((noinline)) static void tail_add(struct tail *t, const char *p, size_t n)
{
	if (!t->mark) {
		char probe[2 * QUOTA_MARK_LEN];
		size_t head = n < QUOTA_MARK_LEN ? n : QUOTA_MARK_LEN;
		memcpy(probe, t->carry, t->carry_len);
		memcpy(probe + t->carry_len, p, head);
		if (memmem(probe, t->carry_len + head, QUOTA_MARK, QUOTA_MARK_LEN) ||
		    memmem(p, n, QUOTA_MARK, QUOTA_MARK_LEN))
			t->mark = true;
		size_t keep = QUOTA_MARK_LEN - 1;
		if (n >= keep) {
			memcpy(t->carry, p + n - keep, keep);
			t->carry_len = keep;
		} else {
			size_t old = t->carry_len + n > keep ? t->carry_len + n - keep : 0;
			memmove(t->carry, t->carry + old, t->carry_len - old);
			t->carry_len -= old;
			memcpy(t->carry + t->carry_len, p, n);
			t->carry_len += n;
		}
	}
	if (n >= CHILD_TAIL_MAX) {
		memcpy(t->buf, p + n - CHILD_TAIL_MAX, CHILD_TAIL_MAX);
		t->start = 0;
		t->len = CHILD_TAIL_MAX;
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t pos = (t->start + t->len) % CHILD_TAIL_MAX;
		size_t room = CHILD_TAIL_MAX - pos;
		size_t take = n - i < room ? n - i : room;
		memcpy(t->buf + pos, p + i, take);
		i += take;
		t->len += take;
		if (t->len > CHILD_TAIL_MAX) {
			t->start = (t->start + t->len - CHILD_TAIL_MAX) % CHILD_TAIL_MAX;
			t->len = CHILD_TAIL_MAX;
		}
	}
}

static void tail_copy(const struct tail *t, struct child_result *r)
{
	size_t first = CHILD_TAIL_MAX - t->start;
	if (first > t->len)
		first = t->len;
	memcpy(r->tail, t->buf + t->start, first);
	memcpy(r->tail + first, t->buf, t->len - first);
	r->tail_len = t->len;
	r->tail[t->len] = '\0';
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* our stderr is gone: keep reading so the child never blocks */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Forward a signal unless the terminal already sent it to the whole
 * foreground process group (the child included). */
static void forward(pid_t pid, const struct signalfd_siginfo *si, struct child_result *ret)
{
	if (si->ssi_code == SI_KERNEL)
		return;
	kill(pid, (int)si->ssi_signo);
	ret->interrupted_by = (int)si->ssi_signo;
}

/* One run of the program; fills status, signo, the tail.  sfd is the
 * signalfd for the forwarded signals and SIGCHLD. */
static int run_once(const struct child_opts *o, const sigset_t *orig_mask, int sfd, struct child_result *ret,
		    struct fw_error *err)
{
	int errpipe[2], outpipe[2] = { -1, -1 };
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "bazel", NULL, "pipe: %s", strerror(errno));
	if (o->capture_stderr && pipe2(outpipe, O_CLOEXEC) < 0) {
		int e = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "bazel", NULL, "pipe: %s", strerror(e));
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		if (outpipe[0] >= 0) {
			close(outpipe[0]);
			close(outpipe[1]);
		}
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "bazel", NULL, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		/* the child: undo every change to process state, then exec */
		if (outpipe[1] >= 0 && dup2(outpipe[1], STDERR_FILENO) < 0)
			_exit(FW_EX_OSERR);
		sigprocmask(SIG_SETMASK, orig_mask, NULL);
		execve(o->argv[0], o->argv, o->envp ? o->envp : environ);
		int e = errno;
		ssize_t w = write(errpipe[1], &e, sizeof(e));
		(void)w;
		_exit(e == ENOENT ? FW_EX_NOTFOUND : FW_EX_NOEXEC);
	}
	close(errpipe[1]);
	if (outpipe[1] >= 0)
		close(outpipe[1]);
	int exec_errno = 0;
	ssize_t n;
	do
		n = read(errpipe[0], &exec_errno, sizeof(exec_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(exec_errno)) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (outpipe[0] >= 0)
			close(outpipe[0]);
		bool missing = exec_errno == ENOENT || exec_errno == ENOTDIR;
		return fw_error_set(err, missing ? FW_CLASS_BAZEL_NOT_FOUND : FW_CLASS_INTERNAL,
				    missing ? FW_EX_NOTFOUND : FW_EX_NOEXEC, o->argv[0],
				    missing ? "set BAZEL_REAL to the real Bazel" : "check its permissions",
				    "cannot run Bazel: %s", strerror(exec_errno));
	}

	_cleanup_free_ struct tail *tp = calloc(1, sizeof(*tp));
	if (!tp) {
		kill(pid, SIGTERM);
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (outpipe[0] >= 0)
			close(outpipe[0]);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "bazel", NULL, "out of memory");
	}
	struct tail *t = tp;
	int status = -1;
	bool pipe_open = outpipe[0] >= 0;
	char buf[PIPE_CHUNK];
	while (status < 0 || pipe_open) {
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { outpipe[0], POLLIN, 0 } };
		/* once the child is gone, only drain what is already there: a
		 * grandchild holding the pipe must not hold flywheel */
		int timeout = status < 0 ? -1 : 0;
		int pr = poll(pfd, pipe_open ? 2 : 1, timeout);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pr == 0 && status >= 0)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					int st;
					pid_t w = waitpid(pid, &st, WNOHANG);
					if (w == pid) {
						if (WIFEXITED(st)) {
							status = WEXITSTATUS(st);
							ret->signo = 0;
						} else if (WIFSIGNALED(st)) {
							ret->signo = WTERMSIG(st);
							status = 128 + ret->signo;
						}
					}
				} else {
					forward(pid, &si, ret);
				}
			}
		}
		if (pipe_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(outpipe[0], buf, sizeof(buf));
			if (r > 0) {
				if (!o->quiet)
					write_all(STDERR_FILENO, buf, (size_t)r);
				tail_add(t, buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				pipe_open = false;
			}
		}
	}
	if (outpipe[0] >= 0)
		close(outpipe[0]);
	if (status < 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		ret->signo = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + ret->signo;
	}
	ret->status = status;
	ret->resource_exhausted = t->mark;
	tail_copy(t, ret);
	return 0;
}

/* Sleep ms while still forwarding-awareness: a terminating signal ends the
 * wait.  Returns the signal or 0. */
static int wait_or_signal(int sfd, uint64_t ms)
{
	uint64_t end = now_ns() + ms * 1000000u;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= end)
			return 0;
		uint64_t left = (end - now) / 1000000u + 1;
		struct pollfd pfd = { sfd, POLLIN, 0 };
		int pr = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (pr > 0) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD)
				return (int)si.ssi_signo;
		}
	}
}

int child_run(const struct child_opts *o, struct child_result *ret, struct fw_error *err)
{
	if (!o || !o->argv || !o->argv[0] || !ret)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "child", NULL, "no program to run");
	memset(ret, 0, sizeof(*ret));
	unsigned retries = o->quota_retries > CHILD_QUOTA_RETRIES_MAX ? CHILD_QUOTA_RETRIES_MAX : o->quota_retries;
	uint64_t base = o->backoff_base_ms ? o->backoff_base_ms : 2000;
	uint64_t max = o->backoff_max_ms ? o->backoff_max_ms : 60000;
	if (max > CHILD_BACKOFF_MAX_MS)
		max = CHILD_BACKOFF_MAX_MS;
	if (base > max)
		base = max;

	sigset_t mask, orig;
	sigemptyset(&mask);
	for (size_t i = 0; i < FW_ARRAY_SIZE(forwarded); i++)
		sigaddset(&mask, forwarded[i]);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &orig) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "child", NULL, "sigprocmask: %s",
				    strerror(errno));
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &orig, NULL);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "child", NULL, "signalfd: %s", strerror(e));
	}
	uint64_t t0 = now_ns();
	int r = 0;
	for (unsigned attempt = 0;; attempt++) {
		r = run_once(o, &orig, sfd, ret, err);
		if (r < 0)
			break;
		ret->attempts++;
		if (ret->interrupted_by || attempt >= retries ||
		    !child_is_quota_failure(ret->status, ret->resource_exhausted))
			break;
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			rnd = (uint32_t)now_ns();
		uint64_t ms = child_backoff_ms(base, max, attempt + 1, rnd);
		if (o->announce)
			o->announce(o->userdata, attempt + 1, retries, ms);
		uint64_t w0 = now_ns();
		int sig = wait_or_signal(sfd, ms);
		ret->quota_wait_ms += (now_ns() - w0) / 1000000u;
		if (sig) {
			/* stopped while waiting: end as if the signal had ended Bazel */
			ret->interrupted_by = sig;
			ret->status = 128 + sig;
			break;
		}
	}
	ret->elapsed_ns = now_ns() - t0;
	close(sfd);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return r;
}
