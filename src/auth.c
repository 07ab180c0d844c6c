/* auth.c - token files, header lines, external credential helpers, rc files. */
#include "flywheel/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

/* Domain-separation key for credential identities (not a secret). */
static const unsigned char identity_key[crypto_generichash_KEYBYTES] = "flywheel credential identity 1";

/* sodium_malloc needs sodium_init (page size); it is idempotent and cheap. */
static void *secret_alloc(size_t n)
{
	if (sodium_init() < 0)
		return NULL;
	return sodium_malloc(n);
}

static char *secret_dup(const char *s, size_t n)
{
	char *p = secret_alloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void auth_secret_free(char *secret)
{
	/* sodium_free wipes before it frees */
	sodium_free(secret);
}

void auth_init(struct auth *a)
{
	memset(a, 0, sizeof(*a));
	/* failure shows later as a failed sodium_malloc */
	if (sodium_init() < 0)
		return;
}

void auth_release(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->h[i].name);
		auth_secret_free(a->h[i].value);
	}
	memset(a, 0, sizeof(*a));
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

int auth_add(struct auth *a, const char *name, const char *value, enum auth_scope scope,
	     const char *subject, struct fw_error *err)
{
	size_t nl = strlen(name), vl = strlen(value);
	if (nl == 0 || nl > AUTH_NAME_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "write the header as Name=Value", "header name is empty or too long");
	for (size_t i = 0; i < nl; i++)
		if (!is_token_char(name[i]))
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
					    "write the header as Name=Value with a plain HTTP header name",
					    "header name holds a character not allowed in HTTP header names");
	if (vl == 0 || vl > AUTH_VALUE_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "give a non-empty value of at most 8192 bytes",
				    "header value is empty or too long");
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
					    "remove newlines and control characters from the value",
					    "header value holds a control character");
	if (a->n >= AUTH_HEADERS_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "use at most 32 headers", "too many headers");
	char *n = fw_strdup(name);
	char *v = secret_dup(value, vl);
	if (!n || !v) {
		free(n);
		auth_secret_free(v);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, subject, NULL, "out of memory");
	}
	a->h[a->n++] = (struct auth_header){ .name = n, .value = v, .scope = scope };
	return 0;
}

int auth_add_header_line(struct auth *a, const char *line, enum auth_scope scope,
			 const char *subject, struct fw_error *err)
{
	size_t len = strlen(line);
	if (len > AUTH_NAME_MAX + AUTH_VALUE_MAX + 2)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "shorten the header", "header line is too long");
	const char *eq = strchr(line, '=');
	const char *colon = strchr(line, ':');
	const char *sep = eq && (!colon || eq < colon) ? eq : colon;
	if (!sep || sep == line)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "write it as Name=Value (for example Authorization=Bearer …)",
				    "header has no name");
	char name[AUTH_NAME_MAX + 1];
	size_t nl = (size_t)(sep - line);
	if (nl > AUTH_NAME_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "write the header as Name=Value", "header name is too long");
	memcpy(name, line, nl);
	name[nl] = '\0';
	const char *value = sep + 1;
	if (*sep == ':')
		while (*value == ' ' || *value == '\t')
			value++;
	return auth_add(a, name, value, scope, subject, err);
}

int auth_add_bearer(struct auth *a, const char *token, const char *subject, struct fw_error *err)
{
	size_t tl = strlen(token);
	if (tl == 0 || tl > AUTH_TOKEN_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "give a non-empty token of at most 8192 bytes", "token is empty or too long");
	size_t cap = tl + sizeof("Bearer ");
	char *v = secret_alloc(cap);
	if (!v)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, subject, NULL, "out of memory");
	memcpy(v, "Bearer ", 7);
	memcpy(v + 7, token, tl + 1);
	int r = auth_add(a, "Authorization", v, AUTH_SCOPE_ALL, subject, err);
	auth_secret_free(v);
	return r;
}

int auth_read_token_file(const char *path, char **ret, struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, path,
					    "point the token setting at the real file, not a symlink",
					    "token file is a symbolic link");
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    "check GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE / remote.token_file",
				    "cannot open token file: %s", strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path, NULL,
				    "cannot stat token file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, path,
				    "store the token in a regular file", "token file is not a regular file");
	if (st.st_uid != geteuid())
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, path,
				    "chown the file to yourself (or copy it to a file you own, mode 0600)",
				    "token file is owned by uid %u, not by you (uid %u)",
				    (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400)
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, path,
				    "run: chmod 600 on the token file",
				    "token file has mode %04o; only 0600 or 0400 keep it private",
				    (unsigned)(st.st_mode & 07777));
	if (st.st_size > AUTH_TOKEN_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    "a token file holds one token of at most 8192 bytes",
				    "token file is too big (%lld bytes)", (long long)st.st_size);
	char *buf = secret_alloc(AUTH_TOKEN_MAX + 2);
	if (!buf)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, path, NULL, "out of memory");
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, AUTH_TOKEN_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			auth_secret_free(buf);
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path, NULL,
					    "cannot read token file: %s", strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > AUTH_TOKEN_MAX) {
			auth_secret_free(buf);
			return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
					    "a token file holds one token of at most 8192 bytes",
					    "token file is too big");
		}
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\n', len)) {
		auth_secret_free(buf);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    "put exactly one token on one line in the file",
				    len == 0 ? "token file is empty" : "token file holds more than one line");
	}
	*ret = buf;
	return 0;
}

int auth_add_token_file(struct auth *a, const char *path, struct fw_error *err)
{
	char *tok = NULL;
	int r = auth_read_token_file(path, &tok, err);
	if (r < 0)
		return r;
	r = auth_add_bearer(a, tok, path, err);
	auth_secret_free(tok);
	return r;
}

bool auth_header_applies(const struct auth_header *h, enum auth_scope role)
{
	return h->scope == AUTH_SCOPE_ALL || h->scope == role;
}

size_t auth_count_for(const struct auth *a, enum auth_scope role)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += auth_header_applies(&a->h[i], role);
	return n;
}

void auth_identity(const struct auth *a, enum auth_scope role, char ret[AUTH_IDENTITY_HEX + 1])
{
	if (auth_count_for(a, role) == 0) {
		snprintf(ret, AUTH_IDENTITY_HEX + 1, "none");
		return;
	}
	crypto_generichash_state st;
	unsigned char out[AUTH_IDENTITY_HEX / 2];
	crypto_generichash_init(&st, identity_key, sizeof(identity_key), sizeof(out));
	for (size_t i = 0; i < a->n; i++) {
		if (!auth_header_applies(&a->h[i], role))
			continue;
		/* lengths included so ("ab","c") and ("a","bc") differ */
		uint32_t ln[2] = { (uint32_t)strlen(a->h[i].name), (uint32_t)strlen(a->h[i].value) };
		crypto_generichash_update(&st, (const unsigned char *)ln, sizeof(ln));
		crypto_generichash_update(&st, (const unsigned char *)a->h[i].name, ln[0]);
		crypto_generichash_update(&st, (const unsigned char *)a->h[i].value, ln[1]);
	}
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_memzero(&st, sizeof(st));
	sodium_bin2hex(ret, AUTH_IDENTITY_HEX + 1, out, sizeof(out));
}

/* ---- external credential helper ------------------------------------------ */

static int helper_spawn(const char *helper, int *ret_io, pid_t *ret_pid)
{
	int sv_in[2], sv_out[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_in) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_out) < 0) {
		int e = errno;
		close(sv_in[0]);
		close(sv_in[1]);
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv_in[0]);
		close(sv_in[1]);
		close(sv_out[0]);
		close(sv_out[1]);
		return -e;
	}
	if (pid == 0) {
		/* own process group: a late helper is killed with its children */
		setpgid(0, 0);
		/* dup2 clears FD_CLOEXEC on the copies */
		if (dup2(sv_in[1], STDIN_FILENO) < 0 || dup2(sv_out[1], STDOUT_FILENO) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *const argv[] = { (char *)helper, (char *)"get", NULL };
		execv(helper, argv);
		_exit(127);
	}
	close(sv_in[1]);
	close(sv_out[1]);
	ret_io[0] = sv_in[0];
	ret_io[1] = sv_out[0];
	*ret_pid = pid;
	return 0;
}

static int helper_parse(struct auth *a, const char *out, size_t len, const char *helper,
			struct fw_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(out, len, 0, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
				    "fix the helper: it must print {\"headers\": {\"Name\": [\"value\"]}}",
				    "credential helper printed something that is not a JSON object");
	}
	json_t *headers = json_object_get(root, "headers");
	int r = 0;
	if (headers && !json_is_object(headers))
		r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
				 "fix the helper: \"headers\" maps names to lists of strings",
				 "credential helper's \"headers\" is not an object");
	const char *name;
	json_t *vals;
	if (r == 0 && headers) {
		json_object_foreach(headers, name, vals) {
			if (!json_is_array(vals) || json_array_size(vals) == 0 || json_array_size(vals) > 16) {
				r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
						 "fix the helper: each header maps to a list of 1 to 16 strings",
						 "credential helper gave a header without a list of values");
				break;
			}
			size_t total = 0;
			for (size_t i = 0; i < json_array_size(vals); i++) {
				json_t *v = json_array_get(vals, i);
				if (!json_is_string(v)) {
					total = SIZE_MAX;
					break;
				}
				total += json_string_length(v) + 2;
			}
			if (total == SIZE_MAX || total > AUTH_VALUE_MAX) {
				r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
						 "fix the helper: header values are strings of at most 8192 bytes",
						 "credential helper gave an invalid header value");
				break;
			}
			char *joined = secret_alloc(total + 1);
			if (!joined) {
				r = fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, helper, NULL, "out of memory");
				break;
			}
			size_t off = 0;
			for (size_t i = 0; i < json_array_size(vals); i++) {
				json_t *v = json_array_get(vals, i);
				if (i) {
					memcpy(joined + off, ", ", 2);
					off += 2;
				}
				memcpy(joined + off, json_string_value(v), json_string_length(v));
				off += json_string_length(v);
			}
			joined[off] = '\0';
			r = auth_add(a, name, joined, AUTH_SCOPE_ALL, helper, err);
			auth_secret_free(joined);
			if (r < 0)
				break;
		}
	}
	/* jansson copies strings into its own heap: wipe them before freeing */
	if (headers && json_is_object(headers)) {
		json_object_foreach(headers, name, vals) {
			for (size_t i = 0; json_is_array(vals) && i < json_array_size(vals); i++) {
				json_t *v = json_array_get(vals, i);
				if (json_is_string(v))
					sodium_memzero((void *)json_string_value(v), json_string_length(v));
			}
		}
	}
	json_decref(root);
	return r;
}

int auth_add_from_helper(struct auth *a, const char *helper, const char *uri, uint64_t timeout_ms,
			 struct fw_error *err)
{
	if (!helper || helper[0] != '/')
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, helper ? helper : "credential helper",
				    "set remote.credential_helper (BAZEL_CREDENTIAL_HELPER) to an absolute path",
				    "credential helper path is not absolute");
	json_t *req = json_pack("{s:s}", "uri", uri ? uri : "");
	char *reqtext = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!reqtext)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, helper, NULL, "cannot encode request");

	int io[2] = { -1, -1 };
	pid_t pid = -1;
	int r = helper_spawn(helper, io, &pid);
	if (r < 0) {
		free(reqtext);
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper, NULL,
				    "cannot start credential helper: %s", strerror(-r));
	}
	uint64_t deadline = now_ns() + timeout_ms * 1000000u;
	size_t want = strlen(reqtext), sent = 0;
	char *out = secret_alloc(AUTH_HELPER_OUTPUT_MAX + 1);
	size_t len = 0;
	bool timed_out = false, too_big = false;
	while (out) {
		struct pollfd p[2] = {
			{ .fd = sent < want ? io[0] : -1, .events = POLLOUT },
			{ .fd = io[1], .events = POLLIN },
		};
		uint64_t now = now_ns();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		int pr = poll(p, 2, (int)((deadline - now) / 1000000u) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
			ssize_t n = send(io[0], reqtext + sent, want - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = want; /* helper does not read stdin; its answer decides */
			if (sent == want)
				shutdown(io[0], SHUT_WR);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(io[1], out + len, AUTH_HELPER_OUTPUT_MAX + 1 - len, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
			if (len > AUTH_HELPER_OUTPUT_MAX) {
				too_big = true;
				break;
			}
		}
	}
	free(reqtext);
	close(io[0]);
	close(io[1]);
	if (timed_out || too_big || !out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!out)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, helper, NULL, "out of memory");
	if (timed_out)
		r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
				 "check that the helper answers `get` without asking anything",
				 "credential helper gave no answer within %llu ms", (unsigned long long)timeout_ms);
	else if (too_big)
		r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper, NULL,
				 "credential helper printed more than %u bytes", AUTH_HELPER_OUTPUT_MAX);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, helper,
				 "run the helper by hand (echo '{\"uri\":\"…\"}' | HELPER get) and fix what it says",
				 WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "credential helper cannot be run"
										   : "credential helper failed (exit %d)",
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	else
		r = helper_parse(a, out, len, helper, err);
	auth_secret_free(out);
	return r;
}

/* ---- rc file for Bazel without credential helpers -------------------------- */

static int private_dir(const char *dir, struct fw_error *err)
{
	int r = mkdir_p(dir, 0700);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, NULL,
				    "cannot create private directory: %s", strerror(-r));
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir,
				    "use a real directory you own", "cannot open directory: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, NULL, "cannot stat: %s", strerror(errno));
	if (st.st_uid != geteuid())
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, dir,
				    "use a directory you own for flywheel's private files",
				    "directory is owned by uid %u, not by you", (unsigned)st.st_uid);
	if ((st.st_mode & 077) && fchmod(fd, 0700) < 0)
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, dir, NULL,
				    "cannot make directory private: %s", strerror(errno));
	return 0;
}

static const char *rc_flag(enum auth_scope s)
{
	return s == AUTH_SCOPE_CACHE ? "remote_cache_header" : s == AUTH_SCOPE_EXEC ? "remote_exec_header" : "remote_header";
}

int auth_write_rcfile(const char *dir, const struct auth *a, char **ret_path, struct fw_error *err)
{
	static const char head[] = "# flywheel: remote headers for a Bazel without credential helpers.\n"
				   "# Private (0600); rewritten on every run.\n";
	size_t cap = sizeof(head);
	for (size_t i = 0; i < a->n; i++) {
		const char *v = a->h[i].value;
		for (const char *p = v; *p; p++)
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
				return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, a->h[i].name,
						    "use a Bazel with credential helpers (5.4+), or a value without quotes and backslashes",
						    "header value cannot be quoted safely in a Bazel rc file");
		cap += strlen(a->h[i].name) + strlen(v) + 48;
	}
	int r = private_dir(dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = fw_asprintf("%s/%s", dir, AUTH_RCFILE_NAME);
	char *buf = secret_alloc(cap);
	if (!path || !buf) {
		auth_secret_free(buf);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, dir, NULL, "out of memory");
	}
	size_t off = (size_t)snprintf(buf, cap, "%s", head);
	for (size_t i = 0; i < a->n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "build \"--%s=%s=%s\"\n", rc_flag(a->h[i].scope),
					a->h[i].name, a->h[i].value);
	r = write_file_atomic(path, buf, off, 0600);
	auth_secret_free(buf);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, path, NULL,
				    "cannot write rc file: %s", strerror(-r));
	*ret_path = steal_ptr(&path);
	return 0;
}
