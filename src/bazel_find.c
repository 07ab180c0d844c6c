/* bazel_find.c - find the real Bazel, and its version with one cached exec. */
#include "flywheel/bazel_find.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/banned.h"

#define BAZELISK_SCAN_MAX (64u * 1024 * 1024) /* larger files are not Bazelisk (Go, ~10 MB) */
#define BAZELISK_MARKER "github.com/bazelbuild/bazelisk"

void bazel_found_init(struct bazel_found *b)
{
	memset(b, 0, sizeof(*b));
	strv_init(&b->searched);
	b->searched.max = BAZEL_FIND_SEARCHED_MAX;
}

void bazel_found_release(struct bazel_found *b)
{
	if (!b)
		return;
	free(b->path);
	b->path = NULL;
	strv_release(&b->searched);
}

/* The running program, or, inside flywheel-net, the launcher that started it
 * (FLYWHEEL_SELF): either one on PATH as `bazel` would loop. */
static bool same_as_self(const struct stat *st)
{
	struct stat self;
	/* the path /proc/self/exe names, not the magic link itself: tools that run
	 * flywheel under an interpreter (valgrind) answer readlink with the program */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (stat(exe, &self) == 0 && self.st_dev == st->st_dev && self.st_ino == st->st_ino)
			return true;
	}
	const char *launcher = getenv("FLYWHEEL_SELF");
	return launcher && launcher[0] == '/' && stat(launcher, &self) == 0 && self.st_dev == st->st_dev &&
	       self.st_ino == st->st_ino;
}

static bool name_is_bazelisk(const char *path)
{
	const char *base = strrchr(path, '/');
	return strstr(base ? base + 1 : path, "bazelisk") != NULL;
}

enum cand { CAND_OK, CAND_MISSING, CAND_NOEXEC, CAND_SELF, CAND_NOTFILE };

static enum cand check_candidate(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return CAND_MISSING;
	if (!S_ISREG(st.st_mode))
		return CAND_NOTFILE;
	if (same_as_self(&st))
		return CAND_SELF;
	if (access(path, X_OK) < 0)
		return CAND_NOEXEC;
	return CAND_OK;
}

static const char *cand_text(enum cand c)
{
	switch (c) {
	case CAND_OK: return "found";
	case CAND_MISSING: return "does not exist";
	case CAND_NOEXEC: return "not executable";
	case CAND_SELF: return "is flywheel itself, skipped";
	case CAND_NOTFILE: return "not a regular file";
	}
	return "?";
}

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return fw_strdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return fw_asprintf("%s/%s", cwd, path);
}

/* Look name up on PATH; records every directory tried.  Returns a malloc'd
 * path of the first usable candidate, NULL when none. */
static char *path_lookup(char *const *envp, const char *name, struct strv *searched, enum cand *last)
{
	const char *path = env_lookup(envp, "PATH");
	*last = CAND_MISSING;
	if (!path) {
		strv_pushf(searched, "%s on PATH: PATH is not set", name);
		return NULL;
	}
	const char *p = path;
	while (*p || p == path) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *cand = n ? fw_asprintf("%.*s/%s", (int)n, p, name)
					      : fw_asprintf("./%s", name);
		if (!cand)
			return NULL;
		enum cand c = check_candidate(cand);
		if (c == CAND_OK) {
			strv_pushf(searched, "%s: found", cand);
			return absolute(cand);
		}
		if (c != CAND_MISSING) {
			*last = c;
			strv_pushf(searched, "%s: %s", cand, cand_text(c));
		}
		p += n;
		if (*p != ':')
			break;
		p++;
	}
	strv_pushf(searched, "%s on PATH: not found", name);
	return NULL;
}

/* An explicitly named Bazel (BAZEL_REAL, BAZEL_BIN, bazel_bin).
 * 1 found (ret->path set), 0 skipped (is flywheel), -1 error set. */
static int try_explicit(char *const *envp, const char *what, const char *value,
			struct bazel_found *ret, struct fw_error *err)
{
	if (!strchr(value, '/')) {
		enum cand last;
		char *p = path_lookup(envp, value, &ret->searched, &last);
		if (p) {
			ret->path = p;
			return 1;
		}
		if (last == CAND_SELF)
			return 0;
		return fw_error_set(err, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOTFOUND, what,
				    "install it, or point the setting at the real Bazel's absolute path",
				    "\"%s\" is not on PATH", value);
	}
	enum cand c = check_candidate(value);
	strv_pushf(&ret->searched, "%s=%s: %s", what, value, cand_text(c));
	switch (c) {
	case CAND_OK:
		ret->path = absolute(value);
		if (!ret->path)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, what, NULL, "out of memory");
		return 1;
	case CAND_SELF:
		return 0;
	case CAND_NOEXEC:
	case CAND_NOTFILE:
		return fw_error_set(err, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOEXEC, what,
				    "point it at the real Bazel binary and make that executable",
				    "\"%s\" is %s", value, cand_text(c));
	case CAND_MISSING:
		break;
	}
	return fw_error_set(err, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOTFOUND, what,
			    "point it at the real Bazel binary, or unset it to search PATH",
			    "\"%s\" does not exist", value);
}

int bazel_find(char *const *envp, const char *config_bazel_bin, struct bazel_found *ret,
	       struct fw_error *err)
{
	struct {
		const char *what;
		const char *value;
	} explicit[] = {
		{ "BAZEL_REAL", env_lookup(envp, "BAZEL_REAL") },
		{ "BAZEL_BIN", env_lookup(envp, "BAZEL_BIN") },
		{ "bazel_bin (config)", config_bazel_bin },
	};
	/* BAZEL_BIN in the environment replaces the configured bazel_bin */
	if (explicit[1].value && *explicit[1].value)
		explicit[2].value = NULL;
	for (size_t i = 0; i < FW_ARRAY_SIZE(explicit); i++) {
		if (!explicit[i].value || !*explicit[i].value) {
			if (i < 2)
				strv_pushf(&ret->searched, "%s: not set", explicit[i].what);
			continue;
		}
		int r = try_explicit(envp, explicit[i].what, explicit[i].value, ret, err);
		if (r < 0)
			return r;
		if (r > 0) {
			ret->via = explicit[i].what;
			ret->is_bazelisk = name_is_bazelisk(ret->path);
			return 0;
		}
	}
	static const char *const names[] = { "bazelisk", "bazel" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(names); i++) {
		enum cand last;
		char *p = path_lookup(envp, names[i], &ret->searched, &last);
		if (p) {
			ret->path = p;
			ret->via = "PATH";
			ret->is_bazelisk = name_is_bazelisk(p);
			return 0;
		}
	}
	return fw_error_set(err, FW_CLASS_BAZEL_NOT_FOUND, FW_EX_NOTFOUND, "bazel",
			    "install Bazel or Bazelisk, or set BAZEL_BIN to the real Bazel",
			    "no real Bazel found (BAZEL_REAL, BAZEL_BIN, bazelisk and bazel on PATH; flywheel itself skipped)");
}

int bazel_exec_env(const struct bazel_found *b, struct strv *env)
{
	if (!b->is_bazelisk)
		return 0;
	static const char key[] = "BAZELISK_SKIP_WRAPPER=";
	for (size_t i = 0; i < env->n; i++) {
		if (str_has_prefix(env->v[i], key)) {
			char *v = fw_strdup("BAZELISK_SKIP_WRAPPER=true");
			if (!v)
				return -ENOMEM;
			free(env->v[i]);
			env->v[i] = v;
			return 0;
		}
	}
	return strv_push(env, "BAZELISK_SKIP_WRAPPER=true");
}

/* ---- version detection -------------------------------------------------- */

/* Whether the file holds Bazelisk's Go module path (its binaries carry it). */
static bool file_is_bazelisk(const char *path, const struct stat *st)
{
	if ((uint64_t)st->st_size > BAZELISK_SCAN_MAX)
		return false;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	static const char marker[] = BAZELISK_MARKER;
	const size_t ml = sizeof(marker) - 1;
	char buf[65536 + sizeof(marker)];
	size_t keep = 0;
	for (;;) {
		ssize_t n = read(fd, buf + keep, sizeof(buf) - keep);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		size_t len = keep + (size_t)n;
		if (memmem(buf, len, marker, ml))
			return true;
		keep = len < ml - 1 ? len : ml - 1;
		memmove(buf, buf + len - keep, keep);
	}
}

/* Run `path --version`; stdout into out (NUL-terminated).  0 on exit 0,
 * -ETIMEDOUT, -EIO (non-zero exit or signal), -errno. */
static int run_version(const char *path, char *const *envp, char *out, size_t outlen)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(fds[0]);
		close(fds[1]);
		return e;
	}
	if (pid == 0) {
		setpgid(0, 0); /* so a timeout stops whatever it started too */
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(nul, 2) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *const argv[] = { (char *)path, (char *)"--version", NULL };
		static char *const empty_env[] = { NULL };
		execve(path, argv, envp ? envp : empty_env);
		_exit(127);
	}
	close(fds[1]);
	_cleanup_close_ int rfd = fds[0];
	size_t len = 0;
	uint64_t deadline = now_ns() + (uint64_t)BAZEL_VERSION_TIMEOUT_MS * 1000000u;
	bool timed_out = false;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pr == 0)
			continue;
		char tmp[1024];
		ssize_t n = read(rfd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n;
		if (len + take > outlen - 1)
			take = outlen - 1 - len; /* keep the head; the rest is drained */
		memcpy(out + len, tmp, take);
		len += take;
	}
	out[len] = '\0';
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return -ETIMEDOUT;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	return 0;
}

static char *default_cache_path(char *const *envp)
{
	const char *x = env_lookup(envp, "XDG_CACHE_HOME");
	if (x && x[0] == '/')
		return fw_asprintf("%s/flywheel/bazel-version", x);
	const char *home = env_lookup(envp, "HOME");
	if (home && home[0] == '/')
		return fw_asprintf("%s/.cache/flywheel/bazel-version", home);
	return NULL;
}

/* Cache lines: "1\t<dev>\t<ino>\t<size>\t<mtime ns>\t<bazelisk>\t<path>\t<output line>" */
static bool cache_lookup(const char *cache, const char *path, const struct stat *st,
			 char *out, size_t outlen, bool *ret_bazelisk)
{
	_cleanup_free_ char *data = NULL;
	if (!cache || read_small_file(cache, BAZEL_VERSION_CACHE_MAX, true, &data, NULL) < 0)
		return false;
	char want[512];
	snprintf(want, sizeof(want), "1\t%llu\t%llu\t%lld\t%lld\t", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec);
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rest = str_after(line, want);
		if (!rest || (rest[0] != '0' && rest[0] != '1') || rest[1] != '\t')
			continue;
		const char *p = rest + 2;
		size_t pl = strlen(path);
		if (strncmp(p, path, pl) != 0 || p[pl] != '\t')
			continue;
		*ret_bazelisk = rest[0] == '1';
		snprintf(out, outlen, "%s", p + pl + 1);
		return true;
	}
	return false;
}

static void cache_store(const char *cache, const char *path, const struct stat *st,
			const char *output, bool bazelisk)
{
	if (!cache || strchr(path, '\t') || strchr(path, '\n'))
		return;
	_cleanup_free_ char *dir = fw_strdup(cache);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir_p(dir, 0700) < 0)
		return;
	/* first line of the output only, no tabs */
	char line[256];
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(output, "\r\n"), output);
	for (char *q = line; *q; q++)
		if (*q == '\t')
			*q = ' ';
	_cleanup_free_ char *old = NULL;
	if (read_small_file(cache, BAZEL_VERSION_CACHE_MAX, true, &old, NULL) < 0)
		old = NULL;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (!f)
		return;
	fprintf(f, "1\t%llu\t%llu\t%lld\t%lld\t%d\t%s\t%s\n", (unsigned long long)st->st_dev,
		(unsigned long long)st->st_ino, (long long)st->st_size,
		(long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec, bazelisk ? 1 : 0,
		path, line);
	/* keep other binaries' entries (newest first), drop this path's old ones */
	int kept = 1;
	char *save = NULL;
	for (char *l = old ? strtok_r(old, "\n", &save) : NULL; l && kept < BAZEL_VERSION_CACHE_ENTRIES;
	     l = strtok_r(NULL, "\n", &save)) {
		char *t = l;
		int field = 0;
		while (field < 6 && (t = strchr(t, '\t')))
			t++, field++;
		if (!t || !str_has_prefix(l, "1\t"))
			continue;
		size_t pl = strlen(path);
		if (strncmp(t, path, pl) == 0 && t[pl] == '\t')
			continue;
		fprintf(f, "%s\n", l);
		kept++;
	}
	if (fclose(f) == 0 && blen <= BAZEL_VERSION_CACHE_MAX)
		(void)write_file_atomic(cache, buf, blen, 0600);
	free(buf);
}

static void use_config(const char *config_version, const char *why, struct bazel_version *ret)
{
	struct bazel_version v = { 0 };
	if (config_version && bazel_version_parse(config_version, &v) == 0 && v.known) {
		v.source = BV_SRC_CONFIG;
		snprintf(v.origin, sizeof(v.origin), "bazel_version in the configuration; %s", why);
		*ret = v;
		return;
	}
	struct bazel_version keep = *ret;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->raw, keep.raw, sizeof(ret->raw));
	ret->known = false;
	ret->source = BV_SRC_NONE;
	snprintf(ret->origin, sizeof(ret->origin), "%s%s", why,
		 config_version ? "; the configured bazel_version does not parse" : "; no bazel_version configured");
}

int bazel_detect_version(struct bazel_found *b, const char *workspace, char *const *envp,
			 const char *config_version, const char *cache_path,
			 struct bazel_version *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct stat st;
	if (!b->is_bazelisk && stat(b->path, &st) == 0) {
		_cleanup_free_ char *def = cache_path ? NULL : default_cache_path(envp);
		const char *cache = cache_path ? cache_path : def;
		char out[BAZEL_VERSION_OUTPUT_MAX];
		bool bazelisk = false;
		if (!cache_lookup(cache, b->path, &st, out, sizeof(out), &bazelisk)) {
			bazelisk = file_is_bazelisk(b->path, &st);
			out[0] = '\0';
			int r = bazelisk ? 0 : run_version(b->path, envp, out, sizeof(out));
			if (r == 0 && str_has_prefix(out, "Bazelisk"))
				bazelisk = true;
			if (r == -ETIMEDOUT) {
				char why[512];
				snprintf(why, sizeof(why), "%s --version did not answer within %d ms",
					 b->path, BAZEL_VERSION_TIMEOUT_MS);
				use_config(config_version, why, ret);
				return 0;
			}
			if (r < 0)
				out[0] = '\0';
			cache_store(cache, b->path, &st, out, bazelisk);
		}
		if (bazelisk) {
			b->is_bazelisk = true;
		} else {
			struct bazel_version v = { 0 };
			if (bazel_version_parse(out, &v) < 0)
				memset(&v, 0, sizeof(v));
			if (v.known) {
				v.source = BV_SRC_BINARY;
				snprintf(v.origin, sizeof(v.origin), "%s --version", b->path);
				*ret = v;
				return 0;
			}
			*ret = v;
			char why[512];
			snprintf(why, sizeof(why), "%s --version said \"%s\"", b->path,
				 v.raw[0] ? v.raw : "nothing");
			use_config(config_version, why, ret);
			return 0;
		}
	}
	if (!b->is_bazelisk) {
		char why[512];
		snprintf(why, sizeof(why), "cannot stat %s", b->path);
		use_config(config_version, why, ret);
		return 0;
	}
	struct bazel_version v = { 0 };
	if (bazelisk_resolve(workspace, NULL, envp, &v) < 0) {
		use_config(config_version, "Bazelisk's version files cannot be read", ret);
		return 0;
	}
	if (v.known) {
		*ret = v;
		return 0;
	}
	*ret = v;
	use_config(config_version, v.origin, ret);
	return 0;
}
