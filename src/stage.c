/* stage.c - parallel verified staging (libcurl multi + OpenSSL EVP SHA-256). */
#include "flywheel/stage.h"

#include <curl/curl.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/fetch.h"
#include "flywheel/stagecheck.h"
#include "flywheel/banned.h"

#define TMP_PREFIX ".flywheel-tmp-"
#define LOCK_NAME ".flywheel.lock"
#define CURL_BUF (512L * 1024L)
#define ERR_MAX 2048u /* accumulated per-input error text */
#define PROGRESS_EVERY_NS 200000000ull
#define MAX_DIRS (STAGECHECK_DISTDIRS_MAX + 1)

static const char *const state_names[] = {
	"pending", "present", "placed", "fetched", "missing", "failed", "skipped",
};

const char *stage_state_name(enum stage_state s)
{
	return (unsigned)s < FW_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

void stage_result_release(struct stage_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].url);
		free(r->items[i].error);
	}
	free(r->items);
	*r = (struct stage_result){ 0 };
}

/* ---- destinations ---------------------------------------------------------- */

/* One place an input must land: a directory fd plus the final name in it. */
struct dest {
	int dirfd;        /* borrowed */
	const char *name; /* "file" in a cache entry, the input name in a distdir */
	char *path;       /* for messages and records (owned) */
};

struct stager {
	const struct manifest *m;
	const struct stage_opts *o;
	struct stage_result *res;
	int dist_fds[STAGECHECK_DISTDIRS_MAX];
	char *dist_real[STAGECHECK_DISTDIRS_MAX];
	int cache_fd;      /* <repo_cache>/content_addressable/sha256, or -1 */
	char *cache_real;  /* its real path */
	int lock_fds[MAX_DIRS];
	size_t n_locks;
	struct stagecheck_record old_rec, new_rec;
	bool have_old_rec;
	unsigned tmp_counter;
};

static void item_fail(struct stage_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A failure on the local filesystem (full, read-only, no permission): its
 * errno makes the run's error a disk one, not a mirror one. */
#define item_fail_errno(it, e, ...)                    \
	do {                                           \
		int e_ = (e);                          \
		item_fail((it), __VA_ARGS__);          \
		(it)->local_errno = e_;                \
	} while (0)
static void item_fail(struct stage_item *it, const char *fmt, ...)
{
	char buf[ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *joined = it->error ? fw_asprintf("%s; %s", it->error, buf) : fw_strdup(buf);
	if (joined && strlen(joined) > ERR_MAX)
		joined[ERR_MAX] = '\0';
	free(it->error);
	it->error = joined;
	it->state = STAGE_FAILED;
}

/* Open (creating if asked) the directory name under dirfd without following a
 * symlink.  Returns an fd or -errno. */
static int open_subdir(int dirfd, const char *name, bool create)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/* Remove temp files left by a killed stager (we hold this directory's lock). */
static void sweep_tmp(int dirfd)
{
	int dfd = dup(dirfd);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (str_has_prefix(e->d_name, TMP_PREFIX))
			unlinkat(dirfd, e->d_name, 0);
	closedir(d);
}

static int lock_cmp(const void *a, const void *b)
{
	const struct stat *x = *(const struct stat *const *)a, *y = *(const struct stat *const *)b;
	if (x->st_dev != y->st_dev)
		return x->st_dev < y->st_dev ? -1 : 1;
	return x->st_ino < y->st_ino ? -1 : x->st_ino > y->st_ino;
}

/* Lock every destination directory in (dev, ino) order so two stagers with
 * overlapping destinations can never deadlock. */
static int take_locks(struct stager *s, struct fw_error *err)
{
	int fds[MAX_DIRS];
	const char *names[MAX_DIRS];
	struct stat st[MAX_DIRS];
	const struct stat *order[MAX_DIRS];
	size_t n = 0;
	if (s->cache_fd >= 0) {
		fds[n] = s->cache_fd;
		names[n++] = s->cache_real;
	}
	for (size_t i = 0; i < s->o->n_distdirs; i++) {
		fds[n] = s->dist_fds[i];
		names[n++] = s->dist_real[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (fstat(fds[i], &st[i]) < 0)
			return fw_error_set(err, FW_CLASS_DISK, FW_EX_IOERR, names[i], NULL,
					    "cannot stat: %s", strerror(errno));
		order[i] = &st[i];
	}
	qsort(order, n, sizeof(order[0]), lock_cmp);
	unsigned limit = s->o->lock_timeout_secs ? s->o->lock_timeout_secs : 900;
	uint64_t deadline = now_ns() + (uint64_t)limit * 1000000000ull;
	for (size_t k = 0; k < n; k++) {
		size_t i = (size_t)(order[k] - st);
		if (k && !lock_cmp(&order[k - 1], &order[k]))
			continue; /* the same directory twice */
		int lfd = openat(fds[i], LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (lfd < 0 && (errno == EROFS || errno == EACCES)) {
			/* A read-only destination (a pre-filled CI volume): lock what is
			 * there read-only; with no lock file nobody can write there
			 * either.  A file that still needs placing fails later, clearly. */
			lfd = openat(fds[i], LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (lfd < 0 && errno == ENOENT)
				continue;
		}
		if (lfd < 0)
			return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, names[i],
					    "make the directory writable (or remove a planted " LOCK_NAME ")",
					    "cannot open the staging lock: %s", strerror(errno));
		s->lock_fds[s->n_locks++] = lfd;
		while (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				return fw_error_set(err, FW_CLASS_DISK, FW_EX_IOERR, names[i], NULL,
						    "cannot lock: %s", strerror(errno));
			if (now_ns() > deadline)
				return fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_TEMPFAIL, names[i],
						    "try again when the other 'flywheel stage' has finished",
						    "another stager has held the lock for %u s", limit);
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		sweep_tmp(fds[i]);
	}
	return 0;
}

/* Inspect name in dirfd.  Returns 1 when a regular file with the expected
 * hash is there (*ret_fd open on it, *ret_st its stat), 0 when nothing is
 * there, or -1 with the item failed (symlink, foreign file, unreadable). */
static int check_existing(struct stager *s, struct stage_item *it, const struct dest *d,
			  int *ret_fd, struct stat *ret_st)
{
	int fd = openat(d->dirfd, d->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP) {
			item_fail(it, "a symbolic link sits at %s (never followed; remove it)", d->path);
			return -1;
		}
		item_fail_errno(it, errno, "cannot open %s: %s", d->path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		item_fail(it, "%s is not a regular file (never replaced; remove it)", d->path);
		return -1;
	}
	if (!s->o->verify && s->have_old_rec &&
	    stagecheck_record_matches(&s->old_rec, d->path, it->in->sha256, &st)) {
		*ret_fd = fd;
		*ret_st = st;
		return 1;
	}
	char hex[65];
	uint64_t size = 0;
	int r = stage_hash_fd(fd, hex, &size);
	if (r < 0) {
		close(fd);
		item_fail_errno(it, -r, "cannot read %s: %s", d->path, strerror(-r));
		return -1;
	}
	if (size != it->in->size || strcmp(hex, it->in->sha256)) {
		close(fd);
		item_fail(it,
			  "a different file sits at %s (%llu bytes, sha256 %.12s…; pinned %llu bytes, %.12s…): never replaced; remove it",
			  d->path, (unsigned long long)size, hex, (unsigned long long)it->in->size,
			  it->in->sha256);
		return -1;
	}
	*ret_fd = fd;
	*ret_st = st;
	return 1;
}

static int tmp_name(struct stager *s, char buf[static 64])
{
	unsigned rnd = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &rnd, sizeof(rnd)) < 0)
			rnd = 0;
		close(fd);
	}
	return snprintf(buf, 64, TMP_PREFIX "%ld-%u-%08x", (long)getpid(), s->tmp_counter++, rnd);
}

/* Put the verified file (src_fd; at src_dirfd/src_name) at dest d: hard link
 * where possible, else copy; via a temp name and RENAME_NOREPLACE.  0, or -1
 * with the item failed. */
static int place(struct stager *s, struct stage_item *it, int src_dirfd, const char *src_name,
		 int src_fd, const struct dest *d)
{
	char tmp[64];
	tmp_name(s, tmp);
	if (linkat(src_dirfd, src_name, d->dirfd, tmp, 0) < 0) {
		if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != EOPNOTSUPP) {
			item_fail_errno(it, errno, "cannot link into %s: %s", d->path, strerror(errno));
			return -1;
		}
		int out = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (out < 0) {
			item_fail_errno(it, errno, "cannot create a temp file beside %s: %s", d->path, strerror(errno));
			return -1;
		}
		off_t off = 0;
		int e = 0;
		for (;;) {
			ssize_t n = copy_file_range(src_fd, &off, out, NULL, 1u << 30, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL) && off == 0) {
				/* fall back to read/write */
				static char buf[65536];
				ssize_t k;
				while ((k = pread(src_fd, buf, sizeof(buf), off)) > 0) {
					ssize_t w = write(out, buf, (size_t)k);
					if (w != k) { /* a short write to a regular file: out of space */
						e = w < 0 ? errno : ENOSPC;
						break;
					}
					off += k;
				}
				if (k < 0)
					e = errno;
				break;
			}
			if (n < 0) {
				e = errno;
				break;
			}
			if (n == 0)
				break;
		}
		if (!e && (uint64_t)off != it->in->size)
			e = EIO;
		if (!e && fsync(out) < 0)
			e = errno;
		close(out);
		if (e) {
			unlinkat(d->dirfd, tmp, 0);
			item_fail_errno(it, e, "cannot copy into %s: %s", d->path, strerror(e));
			return -1;
		}
	}
	if (renameat2(d->dirfd, tmp, d->dirfd, d->name, RENAME_NOREPLACE) < 0) {
		int e = errno;
		unlinkat(d->dirfd, tmp, 0);
		if (e == EEXIST) {
			/* appeared meanwhile: accept only the verified content */
			int fd = -1;
			struct stat st;
			int r = check_existing(s, it, d, &fd, &st);
			if (fd >= 0)
				close(fd);
			return r == 1 ? 0 : -1;
		}
		item_fail_errno(it, e, "cannot rename into %s: %s", d->path, strerror(e));
		return -1;
	}
	fsync(d->dirfd);
	return 0;
}

/* Bazel 7+: the empty id-<sha256(rule urls)> marker beside the cache entry. */
static int place_marker(struct stager *s, struct stage_item *it, int entry_fd, const char *entry_path)
{
	char hex[65];
	if (stage_canonical_id(manifest_rule_urls(it->in), hex) < 0) {
		item_fail(it, "out of memory");
		return -1;
	}
	char name[72];
	snprintf(name, sizeof(name), "id-%s", hex);
	int fd = openat(entry_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		struct stat st;
		if (fstatat(entry_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			return 0;
		item_fail(it, "%s/%s is not a regular file (never replaced; remove it)", entry_path, name);
		return -1;
	}
	if (fd < 0) {
		item_fail_errno(it, errno, "cannot create %s/%s: %s", entry_path, name, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- per-input plan --------------------------------------------------------- */

struct plan_item {
	struct dest dests[MAX_DIRS];
	size_t n_dests;
	int entry_fd; /* cache entry directory, -1 when no cache */
	char *entry_path;
};

static void plan_release(struct plan_item *p)
{
	for (size_t i = 0; i < p->n_dests; i++)
		free(p->dests[i].path);
	if (p->entry_fd >= 0)
		close(p->entry_fd);
	free(p->entry_path);
	*p = (struct plan_item){ .entry_fd = -1 };
}

static int plan_dests(struct stager *s, struct stage_item *it, struct plan_item *p)
{
	*p = (struct plan_item){ .entry_fd = -1 };
	if (s->cache_fd >= 0) {
		p->entry_path = fw_asprintf("%s/%s", s->cache_real, it->in->sha256);
		int fd = open_subdir(s->cache_fd, it->in->sha256, true);
		if (fd < 0 || !p->entry_path) {
			item_fail(it, "cannot open the cache entry %s: %s%s",
				  p->entry_path ? p->entry_path : it->in->sha256, strerror(-fd),
				  fd == -ELOOP || fd == -ENOTDIR ? " (a planted symlink or file; remove it)" : "");
			if (fd == -EROFS || fd == -EACCES || fd == -ENOSPC || fd == -EDQUOT)
				it->local_errno = -fd;
			if (fd >= 0)
				close(fd);
			return -1;
		}
		p->entry_fd = fd;
		p->dests[p->n_dests++] = (struct dest){ fd, "file", fw_asprintf("%s/file", p->entry_path) };
	}
	for (size_t i = 0; i < s->o->n_distdirs; i++)
		p->dests[p->n_dests++] = (struct dest){ s->dist_fds[i], it->in->name,
							fw_asprintf("%s/%s", s->dist_real[i], it->in->name) };
	for (size_t i = 0; i < p->n_dests; i++)
		if (!p->dests[i].path) {
			item_fail(it, "out of memory");
			return -1;
		}
	return 0;
}

/* Bring every destination of it to the verified file, starting from src
 * (src_dirfd/src_name), then record them.  0, or -1 with the item failed. */
static int complete_item(struct stager *s, struct stage_item *it, struct plan_item *p, int src_fd,
			 int src_dirfd, const char *src_name)
{
	for (size_t i = 0; i < p->n_dests; i++) {
		struct dest *d = &p->dests[i];
		struct stat st;
		if (fstatat(d->dirfd, d->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (place(s, it, src_dirfd, src_name, src_fd, d) < 0)
				return -1;
		}
	}
	if (s->o->canonical_ids && p->entry_fd >= 0 && place_marker(s, it, p->entry_fd, p->entry_path) < 0)
		return -1;
	bool required = it->in->status == INPUT_REQUIRED;
	for (size_t i = 0; i < p->n_dests; i++) {
		struct stat st;
		if (fstatat(p->dests[i].dirfd, p->dests[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			stagecheck_record_add(&s->new_rec, p->dests[i].path, it->in->sha256, required, &st);
	}
	if (s->o->canonical_ids && p->entry_fd >= 0) {
		char hex[65], path[4200];
		struct stat st;
		stage_canonical_id(manifest_rule_urls(it->in), hex);
		snprintf(path, sizeof(path), "%s/id-%s", p->entry_path, hex);
		if (fstatat(p->entry_fd, path + strlen(p->entry_path) + 1, &st, AT_SYMLINK_NOFOLLOW) == 0)
			stagecheck_record_add(&s->new_rec, path, it->in->sha256, required, &st);
	}
	return 0;
}

/* Warm fast path: every destination (and marker) is the very file the record
 * says was verified: stat only, no open, no hash. */
static bool fast_present(struct stager *s, struct stage_item *it, struct plan_item *p)
{
	struct stat st[MAX_DIRS + 1];
	char marker[4200] = "";
	size_t n = p->n_dests;
	for (size_t i = 0; i < n; i++)
		if (fstatat(p->dests[i].dirfd, p->dests[i].name, &st[i], AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st[i].st_mode) ||
		    !stagecheck_record_matches(&s->old_rec, p->dests[i].path, it->in->sha256, &st[i]))
			return false;
	if (s->o->canonical_ids && p->entry_fd >= 0) {
		char hex[65];
		if (stage_canonical_id(manifest_rule_urls(it->in), hex) < 0)
			return false;
		snprintf(marker, sizeof(marker), "%s/id-%s", p->entry_path, hex);
		if (fstatat(p->entry_fd, marker + strlen(p->entry_path) + 1, &st[n], AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st[n].st_mode) || !stagecheck_record_matches(&s->old_rec, marker, it->in->sha256, &st[n]))
			return false;
	}
	bool required = it->in->status == INPUT_REQUIRED;
	for (size_t i = 0; i < n; i++)
		stagecheck_record_add(&s->new_rec, p->dests[i].path, it->in->sha256, required, &st[i]);
	if (marker[0])
		stagecheck_record_add(&s->new_rec, marker, it->in->sha256, required, &st[n]);
	return true;
}

/* ---- downloads --------------------------------------------------------------- */

struct job {
	struct stage_item *it;
	struct plan_item *p;
	size_t url_i;
	int dirfd;          /* where the temp file lives (dests[0]) */
	char tmp[64];
	int fd;
	EVP_MD_CTX *md;
	uint64_t got;
	bool too_big;
	int write_errno;
	uint64_t deadline_ns;
	CURL *easy;
	char curl_err[CURL_ERROR_SIZE];
};

static size_t job_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct job *j = userdata;
	size_t n = size * nmemb;
	if (j->got + n > j->it->in->size) {
		j->too_big = true;
		return 0; /* CURLE_WRITE_ERROR: stop reading the body now */
	}
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(j->fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			j->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	EVP_DigestUpdate(j->md, data, n);
	j->got += n;
	return n;
}

static int job_start(struct stager *s, CURLM *multi, struct job *j)
{
	const char *url = j->it->in->urls.v[j->url_i];
	if (ftruncate(j->fd, 0) < 0 || lseek(j->fd, 0, SEEK_SET) < 0 ||
	    EVP_DigestInit_ex(j->md, EVP_sha256(), NULL) != 1)
		return -1;
	j->got = 0;
	j->too_big = false;
	j->write_errno = 0;
	j->curl_err[0] = '\0';
	uint64_t now = now_ns();
	if (now >= j->deadline_ns)
		return -ETIMEDOUT;
	CURL *e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	fetch_curl_defaults(e, url, s->o->ca_file, j->curl_err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, job_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)j->it->in->size);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)(s->o->low_speed_bytes ? s->o->low_speed_bytes : 1024));
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(s->o->low_speed_secs ? s->o->low_speed_secs : 30));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)((j->deadline_ns - now) / 1000000 + 1));
	j->easy = e;
	if (curl_multi_add_handle(multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		j->easy = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Check a finished transfer.  NULL when the body verified, else why not. */
static const char *job_verdict(struct job *j, CURLcode rc, char *buf, size_t len)
{
	long code = 0;
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(buf, len, "body longer than the pinned %llu bytes (cut off)",
			 (unsigned long long)j->it->in->size);
	else if (j->write_errno)
		snprintf(buf, len, "cannot write the download: %s", strerror(j->write_errno));
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		snprintf(buf, len, "redirected to a refused protocol (https to http is never followed)");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(buf, len, "too slow or past the per-input deadline (%s)",
			 j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(buf, len, "HTTP %ld", code);
	else if (rc != CURLE_OK)
		snprintf(buf, len, "%s", j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));
	else if (code != 200)
		snprintf(buf, len, "HTTP %ld (expected 200)", code);
	else if (j->got != j->it->in->size)
		snprintf(buf, len, "got %llu bytes, pinned %llu", (unsigned long long)j->got,
			 (unsigned long long)j->it->in->size);
	else {
		unsigned char dig[32];
		unsigned int dl = 0;
		char hex[65];
		EVP_DigestFinal_ex(j->md, dig, &dl);
		fetch_hex(dig, 32, hex);
		if (strcmp(hex, j->it->in->sha256)) {
			snprintf(buf, len, "SHA-256 mismatch (got %.16s…, pinned %.16s…)", hex,
				 j->it->in->sha256);
			return buf;
		}
		return NULL;
	}
	return buf;
}

static void job_finish_fail(struct stager *s, struct job *j)
{
	(void)s;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	unlinkat(j->dirfd, j->tmp, 0);
}

/* The download verified: fsync, rename to the final name, place elsewhere. */
static void job_finish_ok(struct stager *s, struct job *j)
{
	struct stage_item *it = j->it;
	struct dest *d0 = &j->p->dests[0];
	if (fsync(j->fd) < 0) {
		item_fail_errno(it, errno, "cannot fsync the download: %s", strerror(errno));
		job_finish_fail(s, j);
		return;
	}
	if (renameat2(j->dirfd, j->tmp, d0->dirfd, d0->name, RENAME_NOREPLACE) < 0) {
		int e = errno;
		unlinkat(j->dirfd, j->tmp, 0);
		if (e != EEXIST) {
			item_fail_errno(it, e, "cannot rename into %s: %s", d0->path, strerror(e));
			close(j->fd);
			j->fd = -1;
			return;
		}
		int fd = -1;
		struct stat st;
		if (check_existing(s, it, d0, &fd, &st) != 1) {
			close(j->fd);
			j->fd = -1;
			return;
		}
		close(fd);
	}
	fsync(d0->dirfd);
	it->state = STAGE_FETCHED;
	it->bytes = j->got;
	s->res->bytes_fetched += j->got;
	if (complete_item(s, it, j->p, j->fd, d0->dirfd, d0->name) < 0)
		it->state = STAGE_FAILED;
	close(j->fd);
	j->fd = -1;
}

static void notify_progress(struct stager *s, size_t done, size_t total, uint64_t bytes,
			    uint64_t bytes_total, uint64_t start, bool final)
{
	if (!s->o->progress)
		return;
	struct stage_progress p = { done, total, bytes, bytes_total, now_ns() - start, final };
	s->o->progress(&p, s->o->userdata);
}

static int download_all(struct stager *s, struct job *jobs, size_t n_jobs, uint64_t start)
{
	if (n_jobs == 0)
		return 0;
	CURLM *multi = curl_multi_init();
	if (!multi)
		return -ENOMEM;
	unsigned conc = s->o->concurrency ? s->o->concurrency : STAGE_CONCURRENCY_DEFAULT;
	if (conc > STAGE_CONCURRENCY_MAX)
		conc = STAGE_CONCURRENCY_MAX;
	uint64_t per_input = (uint64_t)(s->o->input_deadline_secs ? s->o->input_deadline_secs : 900) *
			     1000000000ull;
	uint64_t bytes_total = 0, bytes_done = 0;
	for (size_t i = 0; i < n_jobs; i++)
		bytes_total += jobs[i].it->in->size;
	size_t next = 0, running = 0, done = 0;
	uint64_t last_progress = 0;
	while (done < n_jobs) {
		while (running < conc && next < n_jobs) {
			struct job *j = &jobs[next++];
			j->deadline_ns = now_ns() + per_input;
			int r = job_start(s, multi, j);
			if (r < 0) {
				item_fail(j->it, "cannot start the download: %s", strerror(-r));
				job_finish_fail(s, j);
				done++;
				continue;
			}
			running++;
		}
		int still = 0;
		curl_multi_perform(multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			CURLcode rc = msg->data.result;
			char why[512];
			const char *bad = job_verdict(j, rc, why, sizeof(why));
			const char *url = j->it->in->urls.v[j->url_i];
			curl_multi_remove_handle(multi, j->easy);
			curl_easy_cleanup(j->easy);
			j->easy = NULL;
			if (!bad) {
				j->it->url = fw_strdup(url);
				job_finish_ok(s, j);
			} else {
				item_fail(j->it, "%s: %s", url, bad);
				if (j->write_errno)
					j->it->local_errno = j->write_errno;
				j->it->state = STAGE_PENDING;
				int r = -1;
				while (r < 0 && ++j->url_i < j->it->in->urls.n) {
					r = job_start(s, multi, j);
					if (r == -ETIMEDOUT) {
						item_fail(j->it, "%s: not tried, per-input deadline passed",
							  j->it->in->urls.v[j->url_i]);
						j->it->state = STAGE_PENDING;
					}
				}
				if (r == 0)
					continue; /* still running, on the next mirror */
				j->it->state = STAGE_FAILED;
				job_finish_fail(s, j);
			}
			running--;
			done++;
			bytes_done += j->it->in->size;
		}
		uint64_t now = now_ns();
		if (now - last_progress >= PROGRESS_EVERY_NS) {
			uint64_t inflight = 0;
			for (size_t i = 0; i < next; i++)
				if (jobs[i].easy)
					inflight += jobs[i].got;
			notify_progress(s, done, n_jobs, bytes_done + inflight, bytes_total, start, false);
			last_progress = now;
		}
		if (done < n_jobs && running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	notify_progress(s, done, n_jobs, bytes_done, bytes_total, start, true);
	curl_multi_cleanup(multi);
	return 0;
}

/* ---- the run ------------------------------------------------------------------- */

static int open_dests(struct stager *s, struct fw_error *err)
{
	const struct stage_opts *o = s->o;
	if (o->n_distdirs > STAGECHECK_DISTDIRS_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "bazel.distdir",
				    "list at most 16 distdirs", "too many distdirs (%zu)", o->n_distdirs);
	if (!o->repo_cache && o->n_distdirs == 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "stage",
				    "set bazel.distdir or bazel.repository_cache (or --distdir / --repository-cache)",
				    "no destination to stage into");
	for (size_t i = 0; i < o->n_distdirs; i++) {
		int r = mkdir_p(o->distdirs[i], 0755);
		s->dist_fds[i] = r < 0 ? -1 : open(o->distdirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		s->dist_real[i] = realpath(o->distdirs[i], NULL);
		if (s->dist_fds[i] < 0 || !s->dist_real[i])
			return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, o->distdirs[i],
					    "check the distdir path and its permissions",
					    "cannot create or open the distdir: %s",
					    strerror(r < 0 ? -r : errno));
	}
	if (o->repo_cache) {
		int r = mkdir_p(o->repo_cache, 0755);
		_cleanup_close_ int root = r < 0 ? -1 : open(o->repo_cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, o->repo_cache,
					    "check the repository cache path and its permissions",
					    "cannot create or open the repository cache: %s",
					    strerror(r < 0 ? -r : errno));
		_cleanup_close_ int ca = open_subdir(root, "content_addressable", true);
		s->cache_fd = ca < 0 ? ca : open_subdir(ca, "sha256", true);
		_cleanup_free_ char *real = realpath(o->repo_cache, NULL);
		if (s->cache_fd < 0 || !real)
			return fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, o->repo_cache,
					    "remove anything planted under content_addressable/ and check permissions",
					    "cannot open content_addressable/sha256 (symlinks are never followed): %s",
					    strerror(s->cache_fd < 0 ? -s->cache_fd : errno));
		s->cache_real = fw_asprintf("%s/content_addressable/sha256", real);
		if (!s->cache_real)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "stage", NULL,
					    "out of memory");
	}
	return 0;
}

static void stager_release(struct stager *s)
{
	for (size_t i = 0; i < STAGECHECK_DISTDIRS_MAX; i++) {
		if (s->dist_fds[i] >= 0)
			close(s->dist_fds[i]);
		free(s->dist_real[i]);
	}
	if (s->cache_fd >= 0)
		close(s->cache_fd);
	free(s->cache_real);
	for (size_t i = 0; i < s->n_locks; i++)
		close(s->lock_fds[i]); /* releases the flock */
	stagecheck_record_release(&s->old_rec);
	stagecheck_record_release(&s->new_rec);
}

int stage_run(const struct manifest *m, const struct stage_opts *o, struct stage_result *ret,
	      struct fw_error *err)
{
	uint64_t start = now_ns();
	*ret = (struct stage_result){ 0 };
	ret->items = m->n_inputs ? calloc(m->n_inputs, sizeof(*ret->items)) : NULL;
	if (m->n_inputs && !ret->items)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "stage", NULL, "out of memory");
	ret->n_items = m->n_inputs;
	for (size_t i = 0; i < m->n_inputs; i++)
		ret->items[i].in = &m->inputs[i];

	struct stager s = { .m = m, .o = o, .res = ret, .cache_fd = -1 };
	for (size_t i = 0; i < STAGECHECK_DISTDIRS_MAX; i++)
		s.dist_fds[i] = -1;
	stagecheck_record_init(&s.old_rec);
	stagecheck_record_init(&s.new_rec);
	struct plan_item *plans = m->n_inputs ? calloc(m->n_inputs, sizeof(*plans)) : NULL;
	struct job *jobs = m->n_inputs ? calloc(m->n_inputs, sizeof(*jobs)) : NULL;
	size_t n_jobs = 0;
	int r = -1;
	if (m->n_inputs && (!plans || !jobs)) {
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "stage", NULL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->n_inputs; i++)
		plans[i].entry_fd = -1;
	if (open_dests(&s, err) < 0 || take_locks(&s, err) < 0)
		goto out;
	if (o->record_path && !o->verify)
		s.have_old_rec = stagecheck_record_read(o->record_path, &s.old_rec) == 0;

	/* Phase 1, no network: what is already in place, what can be placed from disk. */
	for (size_t i = 0; i < m->n_inputs; i++) {
		struct stage_item *it = &ret->items[i];
		if (it->in->status == INPUT_CANDIDATE ||
		    (it->in->status == INPUT_DEFERRED && !o->stage_deferred)) {
			it->state = STAGE_SKIPPED;
			continue;
		}
		struct plan_item *p = &plans[i];
		if (plan_dests(&s, it, p) < 0)
			continue;
		if (s.have_old_rec && fast_present(&s, it, p)) {
			it->state = STAGE_PRESENT;
			continue;
		}
		int src_fd = -1;
		size_t src = 0, missing = 0;
		bool bad = false;
		for (size_t k = 0; k < p->n_dests && !bad; k++) {
			int fd = -1;
			struct stat st;
			int e = check_existing(&s, it, &p->dests[k], &fd, &st);
			if (e < 0)
				bad = true;
			else if (e == 0)
				missing++;
			else if (src_fd < 0) {
				src_fd = fd;
				src = k;
			} else
				close(fd);
		}
		if (bad) {
			if (src_fd >= 0)
				close(src_fd);
			continue;
		}
		if (src_fd >= 0) {
			it->state = missing ? STAGE_PLACED : STAGE_PRESENT;
			if (complete_item(&s, it, p, src_fd, p->dests[src].dirfd, p->dests[src].name) < 0)
				it->state = STAGE_FAILED;
			close(src_fd);
			continue;
		}
		if (o->offline) {
			it->state = STAGE_MISSING;
			continue;
		}
		if (p->entry_fd >= 0)
			sweep_tmp(p->entry_fd); /* leftovers of a killed stager; we hold the cache lock */
		struct job *j = &jobs[n_jobs];
		*j = (struct job){ .it = it, .p = p, .dirfd = p->dests[0].dirfd, .fd = -1 };
		tmp_name(&s, j->tmp);
		j->fd = openat(j->dirfd, j->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		j->md = EVP_MD_CTX_new();
		if (j->fd < 0 || !j->md) {
			item_fail_errno(it, errno, "cannot create a temp file beside %s: %s", p->dests[0].path,
				  strerror(errno));
			if (j->fd >= 0) {
				close(j->fd);
				unlinkat(j->dirfd, j->tmp, 0);
			}
			EVP_MD_CTX_free(j->md);
			continue;
		}
		n_jobs++;
	}

	/* Phase 2: download what is missing, in parallel. */
	if (download_all(&s, jobs, n_jobs, start) < 0) {
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "stage", NULL, "cannot start libcurl");
		goto out;
	}

	const struct stage_item *first_bad = NULL;
	for (size_t i = 0; i < ret->n_items; i++) {
		struct stage_item *it = &ret->items[i];
		if (it->state == STAGE_PENDING)
			it->state = STAGE_FAILED;
		ret->n[it->state]++;
		if ((it->state == STAGE_FAILED || it->state == STAGE_MISSING) &&
		    it->in->status == INPUT_REQUIRED && !first_bad)
			first_bad = it;
	}
	if (o->record_path && o->record_identity) {
		s.new_rec.identity = fw_strdup(o->record_identity);
		s.new_rec.expires = o->expires;
		s.new_rec.signed_ = o->signed_;
		s.new_rec.complete = !first_bad;
		if (s.new_rec.identity)
			stagecheck_record_write(o->record_path, &s.new_rec); /* best effort: only speed */
	}
	if (first_bad) {
		size_t nbad = ret->n[STAGE_FAILED] + ret->n[STAGE_MISSING];
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "input \"%.200s\"", first_bad->in->name);
		if (first_bad->state == STAGE_MISSING)
			fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_UNAVAILABLE, subject,
				     "run 'flywheel stage' with the network (or a mirror) reachable",
				     "not on disk and --offline given (%zu input%s missing)", nbad,
				     nbad == 1 ? "" : "s");
		else if (first_bad->local_errno)
			fw_error_set(err, FW_CLASS_DISK, FW_EX_CANTCREAT, subject,
				     first_bad->local_errno == ENOSPC || first_bad->local_errno == EDQUOT
					     ? "free space on the destination's filesystem, then run flywheel stage again"
					     : "make the distdir and repository cache writable, then run flywheel stage again",
				     "%s", first_bad->error ? first_bad->error : "cannot write");
		else
			fw_error_set(err, FW_CLASS_EXTERNAL_INPUT, FW_EX_UNAVAILABLE, subject,
				     "check the mirrors and the manifest pin; nothing unverified was placed", "%s",
				     first_bad->error ? first_bad->error : "failed");
		goto out;
	}
	r = 0;
out:
	for (size_t i = 0; i < n_jobs; i++) {
		if (jobs[i].fd >= 0) {
			close(jobs[i].fd);
			unlinkat(jobs[i].dirfd, jobs[i].tmp, 0);
		}
		EVP_MD_CTX_free(jobs[i].md);
	}
	for (size_t i = 0; plans && i < m->n_inputs; i++)
		plan_release(&plans[i]);
	free(plans);
	free(jobs);
	stager_release(&s);
	ret->elapsed_ns = now_ns() - start;
	return r;
}

