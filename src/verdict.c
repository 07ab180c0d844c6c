/* verdict.c - the probe verdict cache: tiny text files in a private directory. */
#include "flywheel/verdict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

#define VERDICT_MAGIC "flywheel-verdict 1"
#define VERDICT_PREFIX "verdict-"

void verdict_key(const char *url, const char *instance, unsigned purpose, const char *identity,
		 char ret[VERDICT_KEY_HEX + 1])
{
	crypto_generichash_state st;
	unsigned char out[VERDICT_KEY_HEX / 2];
	const char *parts[3] = { url ? url : "", instance ? instance : "", identity ? identity : "none" };
	unsigned char pb = (unsigned char)purpose;

	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	for (size_t i = 0; i < FW_ARRAY_SIZE(parts); i++) {
		uint32_t l = (uint32_t)strlen(parts[i]);
		crypto_generichash_update(&st, (const unsigned char *)&l, sizeof(l));
		crypto_generichash_update(&st, (const unsigned char *)parts[i], l);
	}
	crypto_generichash_update(&st, &pb, 1);
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_bin2hex(ret, VERDICT_KEY_HEX + 1, out, sizeof(out));
}

extern char **environ;

int verdict_dir(char *const *envp, char **ret)
{
	const char *xdg = env_lookup(envp ? envp : environ, "XDG_CACHE_HOME");
	char *d = NULL;
	if (xdg && xdg[0] == '/')
		d = fw_asprintf("%s/flywheel", xdg);
	else {
		const char *home = env_lookup(envp ? envp : environ, "HOME");
		if (!home || home[0] != '/')
			return -ENOENT;
		d = fw_asprintf("%s/.cache/flywheel", home);
	}
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

static int64_t now_unix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static enum fw_class class_from_name(const char *s)
{
	for (int c = 0; c < FW_CLASS__MAX; c++)
		if (strcmp(fw_class_name((enum fw_class)c), s) == 0)
			return (enum fw_class)c;
	return FW_CLASS__MAX;
}

static void copy_field(char *dst, const char *src)
{
	snprintf(dst, VERDICT_TEXT_MAX, "%s", src);
}

static int parse_verdict(char *text, struct verdict *v)
{
	char *save = NULL;
	unsigned seen = 0;
	char *line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, VERDICT_MAGIC) != 0)
		return -EINVAL;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *sp = strchr(line, ' ');
		if (!sp)
			return -EINVAL;
		*sp = '\0';
		const char *k = line, *val = sp + 1;
		uint64_t n;
		if (strcmp(k, "state") == 0) {
			if (strcmp(val, "healthy") == 0)
				v->state = VERDICT_HEALTHY;
			else if (strcmp(val, "failed") == 0)
				v->state = VERDICT_FAILED;
			else
				return -EINVAL;
			seen |= 1;
		} else if (strcmp(k, "stored") == 0) {
			if (parse_u64(val, INT64_MAX, &n) < 0)
				return -EINVAL;
			v->stored = (int64_t)n;
			seen |= 2;
		} else if (strcmp(k, "latency_us") == 0) {
			if (parse_u64(val, UINT32_MAX, &n) < 0)
				return -EINVAL;
			v->latency_us = (uint32_t)n;
		} else if (strcmp(k, "class") == 0) {
			v->cls = class_from_name(val);
			if (v->cls == FW_CLASS__MAX)
				return -EINVAL;
			seen |= 4;
		} else if (strcmp(k, "url") == 0) {
			copy_field(v->url, val);
		} else if (strcmp(k, "what") == 0) {
			copy_field(v->what, val);
		} else if (strcmp(k, "fix") == 0) {
			copy_field(v->fix, val);
		}
		/* unknown keys: written by a newer flywheel, ignored */
	}
	if (seen != 7)
		return -EINVAL;
	if ((v->state == VERDICT_HEALTHY) != (v->cls == FW_CLASS_NONE))
		return -EINVAL;
	return 0;
}

int verdict_lookup(const char *dir, const char *key, uint64_t healthy_ttl_s, int64_t now_s,
		   struct verdict *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->state = VERDICT_MISS;
	if (!dir || !key)
		return 0;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/" VERDICT_PREFIX "%s", dir, key) >= (int)sizeof(path))
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size <= 0 || st.st_size >= VERDICT_FILE_MAX)
		return 0;
	char buf[VERDICT_FILE_MAX];
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	struct verdict v = { 0 };
	if (parse_verdict(buf, &v) < 0)
		return 0;
	int64_t now = now_s ? now_s : now_unix();
	uint64_t ttl = v.state == VERDICT_HEALTHY ? healthy_ttl_s : VERDICT_FAILED_TTL;
	if (v.stored > now + 5 || (uint64_t)(now - v.stored) >= ttl)
		return 0;
	*ret = v;
	return 1;
}

static void put_text(char *buf, size_t cap, size_t *off, const char *key, const char *val)
{
	if (*off >= cap)
		return;
	int n = snprintf(buf + *off, cap - *off, "%s ", key);
	if (n < 0)
		return;
	*off += (size_t)n;
	for (const char *p = val; *p && *off + 2 < cap; p++)
		buf[(*off)++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
	if (*off + 1 < cap)
		buf[(*off)++] = '\n';
	buf[*off < cap ? *off : cap - 1] = '\0';
}

int verdict_store(const char *dir, const char *key, const struct verdict *v, struct fw_error *err)
{
	if (v->state == VERDICT_MISS)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "verdict", NULL, "cannot store a miss");
	int r = mkdir_p(dir, 0700);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir,
				    "check XDG_CACHE_HOME / HOME", "cannot create verdict directory: %s", strerror(-r));
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir,
				    "use a cache directory you own", "verdict directory is not yours");
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, NULL,
				    "cannot make verdict directory private: %s", strerror(errno));

	char buf[VERDICT_FILE_MAX];
	int64_t stored = v->stored ? v->stored : now_unix();
	int n = snprintf(buf, sizeof(buf), VERDICT_MAGIC "\nstate %s\nstored %lld\nlatency_us %u\nclass %s\n",
			 v->state == VERDICT_HEALTHY ? "healthy" : "failed", (long long)stored, v->latency_us,
			 fw_class_name(v->state == VERDICT_HEALTHY ? FW_CLASS_NONE : v->cls));
	size_t off = (size_t)n;
	put_text(buf, sizeof(buf), &off, "url", v->url);
	put_text(buf, sizeof(buf), &off, "what", v->what);
	put_text(buf, sizeof(buf), &off, "fix", v->fix);

	char path[4096];
	if (snprintf(path, sizeof(path), "%s/" VERDICT_PREFIX "%s", dir, key) >= (int)sizeof(path))
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, dir, NULL, "path too long");
	r = write_file_atomic(path, buf, off, 0600);
	if (r < 0)
		return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, path, NULL,
				    "cannot write verdict: %s", strerror(-r));
	return 0;
}

int verdict_clear(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (str_has_prefix(e->d_name, VERDICT_PREFIX) && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	closedir(d);
	return r;
}
