/* stagecheck.c - verification records and the stat-only warm staging check.
 * Core module: the launcher links it, so no JSON, no hashing, no network. */
#include "flywheel/stagecheck.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

#define RECORD_MAGIC "flywheel-staged/1"

void stagecheck_record_init(struct stagecheck_record *r)
{
	*r = (struct stagecheck_record){ 0 };
}

void stagecheck_record_release(struct stagecheck_record *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->identity);
	*r = (struct stagecheck_record){ 0 };
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int record_dir(const struct stagecheck_opts *o, char **ret)
{
	if (o->record_dir) {
		*ret = fw_strdup(o->record_dir);
		return *ret ? 0 : -ENOMEM;
	}
	const char *s = getenv("XDG_CACHE_HOME");
	if (s && s[0] == '/')
		*ret = fw_asprintf("%s/flywheel/staged", s);
	else if ((s = getenv("HOME")) && s[0] == '/')
		*ret = fw_asprintf("%s/.cache/flywheel/staged", s);
	else
		return -ENOENT;
	return *ret ? 0 : -ENOMEM;
}

/* Append " <what> <dev> <ino> <size> <mtime_ns> <ctime_ns>" for path, or " <what> none". */
static int stat_part(struct strv *parts, const char *what, const char *path, bool may_miss)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT && may_miss)
			return strv_pushf(parts, "%s none", what);
		return -errno;
	}
	return strv_pushf(parts, "%s %llu %llu %llu %lld %lld", what, (unsigned long long)st.st_dev,
			  (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
			  (long long)ts_ns(&st.st_mtim), (long long)ts_ns(&st.st_ctim));
}

int stagecheck_trust_id(const char *const *entries, size_t n, char ret[17])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h = fnv1a(h, entries[i], strlen(entries[i]) + 1);
		/* a key kept in a file: its content is the file's, so its identity counts */
		const char *path = strchr(entries[i], '/');
		struct stat st;
		if (path && stat(path, &st) == 0) {
			int64_t t[5] = { (int64_t)st.st_dev, (int64_t)st.st_ino, (int64_t)st.st_size, ts_ns(&st.st_mtim),
					 ts_ns(&st.st_ctim) };
			h = fnv1a(h, (const char *)t, sizeof(t));
		}
	}
	snprintf(ret, 17, "%016llx", (unsigned long long)h);
	return 0;
}

int stagecheck_identity(const char *manifest, const struct stagecheck_opts *o, char **ret_record_path,
			char **ret_identity)
{
	if (o->n_distdirs > STAGECHECK_DISTDIRS_MAX)
		return -E2BIG;
	char real[PATH_MAX];
	if (!realpath(manifest, real))
		return -errno;
	_cleanup_strv_ struct strv parts;
	strv_init(&parts);
	_cleanup_free_ char *defsig = NULL;
	const char *sig = o->signature;
	if (!sig) {
		defsig = fw_asprintf("%s.sig", real);
		if (!defsig)
			return -ENOMEM;
		sig = defsig;
	}
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv1a(h, real, strlen(real) + 1);
	h = fnv1a(h, sig, strlen(sig) + 1);
	int r = stat_part(&parts, "m", real, false);
	if (r >= 0)
		r = stat_part(&parts, "s", sig, true);
	if (r < 0)
		return r;
	for (size_t i = 0; i < o->n_distdirs; i++) {
		char d[PATH_MAX];
		if (!realpath(o->distdirs[i], d))
			return -errno;
		h = fnv1a(h, "d", 1);
		h = fnv1a(h, d, strlen(d) + 1);
		if ((r = strv_pushf(&parts, "d %s", d)) < 0)
			return r;
	}
	if (o->repo_cache) {
		char c[PATH_MAX];
		if (!realpath(o->repo_cache, c))
			return -errno;
		h = fnv1a(h, "c", 1);
		h = fnv1a(h, c, strlen(c) + 1);
		if ((r = strv_pushf(&parts, "c %s", c)) < 0)
			return r;
	}
	h = fnv1a(h, o->canonical_ids ? "k1" : "k0", 2);
	if ((r = strv_pushf(&parts, "k %d", o->canonical_ids ? 1 : 0)) < 0)
		return r;
	/* the trusted keys: removing or replacing one invalidates what it vouched for */
	if (o->trust_id && (r = strv_pushf(&parts, "t %s", o->trust_id)) < 0)
		return r;

	size_t total = 1;
	for (size_t i = 0; i < parts.n; i++)
		total += strlen(parts.v[i]) + 1;
	_cleanup_free_ char *id = malloc(total);
	if (!id)
		return -ENOMEM;
	size_t at = 0;
	for (size_t i = 0; i < parts.n; i++) {
		size_t n = strlen(parts.v[i]);
		if (memchr(parts.v[i], '\n', n))
			return -EINVAL; /* a path with a newline cannot be recorded */
		if (i)
			id[at++] = ' ';
		memcpy(id + at, parts.v[i], n);
		at += n;
	}
	id[at] = '\0';

	_cleanup_free_ char *dir = NULL;
	if ((r = record_dir(o, &dir)) < 0)
		return r;
	char *path = fw_asprintf("%s/%016llx.rec", dir, (unsigned long long)h);
	if (!path)
		return -ENOMEM;
	*ret_record_path = path;
	*ret_identity = steal_ptr(&id);
	return 0;
}

static int file_cmp(const void *a, const void *b)
{
	const struct stagecheck_file *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : strcmp(x->sha256, y->sha256);
}

static int grow(struct stagecheck_record *r)
{
	if (r->n_files < r->cap)
		return 0;
	size_t cap = r->cap ? r->cap * 2 : 64;
	struct stagecheck_file *f = realloc(r->files, cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	r->files = f;
	r->cap = cap;
	return 0;
}

static bool hex64(const char *s)
{
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* Split off the next space-separated token of *p (in place). */
static char *token(char **p)
{
	char *s = *p;
	if (!s || !*s)
		return NULL;
	char *sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

static int parse_file_line(char *rest, struct stagecheck_file *f)
{
	char *req = token(&rest), *sha = token(&rest), *dev = token(&rest), *ino = token(&rest),
	     *size = token(&rest), *mt = token(&rest), *ct = token(&rest);
	uint64_t m, c;
	if (!ct || !*rest || rest[0] != '/' || (strcmp(req, "0") && strcmp(req, "1")) || !hex64(sha) ||
	    parse_u64(dev, UINT64_MAX, &f->dev) < 0 || parse_u64(ino, UINT64_MAX, &f->ino) < 0 ||
	    parse_u64(size, UINT64_MAX, &f->size) < 0 || parse_u64(mt, INT64_MAX, &m) < 0 ||
	    parse_u64(ct, INT64_MAX, &c) < 0)
		return -EBADMSG;
	f->required = req[0] == '1';
	memcpy(f->sha256, sha, 65);
	f->mtime_ns = (int64_t)m;
	f->ctime_ns = (int64_t)c;
	f->path = fw_strdup(rest);
	return f->path ? 0 : -ENOMEM;
}

int stagecheck_record_read(const char *record_path, struct stagecheck_record *ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_small_file(record_path, STAGECHECK_RECORD_MAX, true, &text, &len);
	if (r < 0)
		return r;
	if (strlen(text) != len)
		return -EBADMSG;
	struct stagecheck_record rec;
	stagecheck_record_init(&rec);
	char *save = text;
	int line = 0;
	bool ended = false;
	r = 0;
	while (r == 0 && save && *save) {
		char *nl = strchr(save, '\n');
		if (!nl) {
			r = -EBADMSG; /* a record always ends with a newline: a torn one is corrupt */
			break;
		}
		*nl = '\0';
		char *l = save;
		save = nl + 1;
		line++;
		uint64_t v;
		if (ended)
			r = -EBADMSG;
		else if (line == 1)
			r = strcmp(l, RECORD_MAGIC) ? -EBADMSG : 0;
		else if (str_has_prefix(l, "id ") && !rec.identity)
			r = (rec.identity = fw_strdup(l + 3)) ? 0 : -ENOMEM;
		else if (str_has_prefix(l, "expires ")) {
			r = parse_u64(l + 8, INT64_MAX, &v);
			rec.expires = (int64_t)v;
		} else if (!strcmp(l, "signed 0") || !strcmp(l, "signed 1"))
			rec.signed_ = l[7] == '1';
		else if (!strcmp(l, "complete 0") || !strcmp(l, "complete 1")) {
			rec.complete = l[9] == '1';
			ended = true;
		} else if (str_has_prefix(l, "f ")) {
			r = grow(&rec);
			if (r == 0) {
				r = parse_file_line(l + 2, &rec.files[rec.n_files]);
				if (r == 0)
					rec.n_files++;
			}
		} else
			r = -EBADMSG;
	}
	if (r == 0 && (!ended || !rec.identity))
		r = -EBADMSG;
	if (r < 0) {
		stagecheck_record_release(&rec);
		return r;
	}
	if (rec.n_files > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(rec.files, rec.n_files, sizeof(*rec.files), file_cmp);
	*ret = rec;
	return 0;
}

int stagecheck_record_add(struct stagecheck_record *r, const char *path, const char *sha256,
			  bool required, const struct stat *st)
{
	if (path[0] != '/' || strchr(path, '\n') || strlen(sha256) != 64)
		return -EINVAL;
	int e = grow(r);
	if (e < 0)
		return e;
	struct stagecheck_file *f = &r->files[r->n_files];
	*f = (struct stagecheck_file){
		.required = required,
		.dev = (uint64_t)st->st_dev,
		.ino = (uint64_t)st->st_ino,
		.size = (uint64_t)st->st_size,
		.mtime_ns = ts_ns(&st->st_mtim),
		.ctime_ns = ts_ns(&st->st_ctim),
	};
	memcpy(f->sha256, sha256, 65);
	f->path = fw_strdup(path);
	if (!f->path)
		return -ENOMEM;
	r->n_files++;
	return 0;
}

int stagecheck_record_write(const char *record_path, const struct stagecheck_record *r)
{
	if (!r->identity || strchr(r->identity, '\n'))
		return -EINVAL;
	/* sort a copy of the index for a deterministic file */
	_cleanup_free_ struct stagecheck_file *sorted =
		r->n_files ? malloc(r->n_files * sizeof(*sorted)) : NULL;
	if (r->n_files && !sorted)
		return -ENOMEM;
	if (r->n_files)
		memcpy(sorted, r->files, r->n_files * sizeof(*sorted));
	if (r->n_files > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(sorted, r->n_files, sizeof(*sorted), file_cmp);

	size_t cap = 256 + strlen(r->identity);
	for (size_t i = 0; i < r->n_files; i++)
		cap += 200 + strlen(sorted[i].path);
	if (cap > STAGECHECK_RECORD_MAX)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	size_t at = (size_t)snprintf(buf, cap, RECORD_MAGIC "\nid %s\nexpires %lld\nsigned %d\n",
				     r->identity, (long long)r->expires, r->signed_ ? 1 : 0);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct stagecheck_file *f = &sorted[i];
		at += (size_t)snprintf(buf + at, cap - at, "f %d %s %llu %llu %llu %lld %lld %s\n",
				       f->required ? 1 : 0, f->sha256, (unsigned long long)f->dev,
				       (unsigned long long)f->ino, (unsigned long long)f->size,
				       (long long)f->mtime_ns, (long long)f->ctime_ns, f->path);
	}
	at += (size_t)snprintf(buf + at, cap - at, "complete %d\n", r->complete ? 1 : 0);
	_cleanup_free_ char *dir = fw_strndup(record_path, (size_t)(strrchr(record_path, '/') - record_path));
	if (!dir)
		return -ENOMEM;
	/* A warm run writes the same record: skip the write and its fsync. */
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	if (read_small_file(record_path, STAGECHECK_RECORD_MAX, true, &old, &old_len) == 0 &&
	    old_len == at && memcmp(old, buf, at) == 0)
		return 0;
	int e = mkdir_p(dir, 0700);
	if (e < 0)
		return e;
	return write_file_atomic(record_path, buf, at, 0600);
}

static bool same_stat(const struct stagecheck_file *f, const struct stat *st)
{
	return f->dev == (uint64_t)st->st_dev && f->ino == (uint64_t)st->st_ino &&
	       f->size == (uint64_t)st->st_size && f->mtime_ns == ts_ns(&st->st_mtim) &&
	       f->ctime_ns == ts_ns(&st->st_ctim);
}

bool stagecheck_record_matches(const struct stagecheck_record *r, const char *path,
			       const char *sha256, const struct stat *st)
{
	struct stagecheck_file key = { .path = (char *)path };
	if (strlen(sha256) != 64)
		return false;
	memcpy(key.sha256, sha256, 65);
	const struct stagecheck_file *f =
		r->n_files ? bsearch(&key, r->files, r->n_files, sizeof(*r->files), file_cmp) : NULL;
	return f && same_stat(f, st);
}

/* The launcher's warm check compares placement only (device, inode, size):
 * Bazel touches every repository-cache entry it uses (and so the distdir
 * link to it), which changes mtime and ctime on every build.  Content is
 * still verified: Bazel checks the pinned SHA-256 of every distdir and
 * repository-cache hit itself, and `flywheel stage` (which uses
 * stagecheck_record_matches, times included) re-hashes a touched file. */
bool stagecheck_file_fresh(const struct stagecheck_file *f)
{
	struct stat st;
	return lstat(f->path, &st) == 0 && S_ISREG(st.st_mode) && f->dev == (uint64_t)st.st_dev &&
	       f->ino == (uint64_t)st.st_ino && f->size == (uint64_t)st.st_size;
}

int stagecheck_warm(const char *manifest, const struct stagecheck_opts *o, bool *ret_all_staged,
		    struct fw_error *err)
{
	*ret_all_staged = false;
	if (o->n_distdirs > STAGECHECK_DISTDIRS_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "bazel.distdir",
				    "list at most 16 distdirs", "too many distdirs (%zu)",
				    o->n_distdirs);
	_cleanup_free_ char *path = NULL, *identity = NULL;
	if (stagecheck_identity(manifest, o, &path, &identity) < 0)
		return 0; /* something is missing: the stager will say what */
	struct stagecheck_record rec;
	if (stagecheck_record_read(path, &rec) < 0)
		return 0;
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	bool ok = rec.complete && !strcmp(rec.identity, identity) && rec.expires > now &&
		  (rec.signed_ || o->allow_unsigned);
	for (size_t i = 0; ok && i < rec.n_files; i++)
		ok = !rec.files[i].required || stagecheck_file_fresh(&rec.files[i]);
	stagecheck_record_release(&rec);
	*ret_all_staged = ok;
	return 0;
}
