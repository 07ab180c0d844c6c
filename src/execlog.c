/* execlog.c - streaming readers for Bazel's execution logs and build events.
 *
 * Both readers keep memory bounded whatever the log's size: a fixed read
 * buffer, a bounded per-entry buffer, and (compact) one bit per entry id. */
#include "flywheel/execlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>

#include "spawn_min.pb-c.h"

#include "flywheel/util.h"
#include "flywheel/banned.h"

#define EXECLOG_READ_CHUNK (256u * 1024u)
/* zstd window bound: frames asking for more are refused rather than letting a
 * log decide how much memory flywheel takes (Bazel writes far smaller). */
#define EXECLOG_ZSTD_WINDOW_LOG_MAX 24

const char *execlog_format_name(enum execlog_format f)
{
	return f == EXECLOG_COMPACT ? "compact" : "json";
}

/* execlog_class_name and execlog_classify live in buildreport.c (core), so
 * that the launcher's build report classifies runners the same way. */

static bool span_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && memcmp(s, lit, n) == 0;
}

static void count_spawn(struct execlog_counts *c, const char *runner, size_t len, bool cache_hit,
			bool failed)
{
	c->spawns++;
	c->by_class[execlog_classify(runner, len, cache_hit)]++;
	if (failed)
		c->failed++;
}

/* ---- JSON ---------------------------------------------------------------
 *
 * A purpose-built scanner instead of jansson: the JSON log is a stream of
 * concatenated pretty-printed objects (no separator, no enclosing array) of
 * which flywheel needs four top-level fields of each object, while most of
 * the bytes are nested command lines, paths and digests.  jansson would build
 * and free a full tree per spawn (every input file a json_t); the scanner
 * only tracks nesting and string state and copies the few values it needs
 * into fixed buffers, at several hundred MB/s.  It checks the structure it
 * relies on (balanced brackets, terminated strings, nothing stray between
 * objects) and reports a truncated log; it does not validate full JSON
 * grammar, which Bazel's writer guarantees and nothing here depends on.
 * tests/unit/test_execlog.c feeds it split at every byte. */

#define JSON_DEPTH_MAX 64
#define JSON_KEY_MAX 32
#define JSON_LIT_MAX 24

enum json_field {
	JF_NONE,
	JF_RUNNER,
	JF_CACHE_HIT, /* "remoteCacheHit" (Bazel < 7) and "cacheHit" (7+) */
	JF_STATUS,
	JF_EXIT_CODE,
};

enum json_capture { CAP_NONE, CAP_KEY, CAP_VALUE };

struct execlog_json {
	struct execlog_counts counts;
	unsigned depth;
	unsigned base;      /* 1 when the objects sit in an enclosing array */
	bool seen_any;      /* a non-blank byte was seen */
	bool closed;        /* the enclosing array was closed */
	bool in_string;
	bool escape;
	bool expect_key;    /* at spawn level: the next string is a key */
	enum json_capture cap;
	enum json_field field;
	char key[JSON_KEY_MAX];
	size_t key_len;
	bool key_over;
	char lit[JSON_LIT_MAX];
	size_t lit_len;
	bool in_lit;
	/* the spawn being read */
	char runner[EXECLOG_RUNNER_MAX];
	size_t runner_len;
	bool cache_hit;
	bool failed;
	size_t status_len;
};

struct execlog_json *execlog_json_new(void)
{
	return calloc(1, sizeof(struct execlog_json));
}

void execlog_json_free(struct execlog_json *s)
{
	free(s);
}

static enum json_field json_field_of(const char *k, size_t n)
{
	if (span_eq(k, n, "runner"))
		return JF_RUNNER;
	if (span_eq(k, n, "remoteCacheHit") || span_eq(k, n, "cacheHit"))
		return JF_CACHE_HIT;
	if (span_eq(k, n, "status"))
		return JF_STATUS;
	if (span_eq(k, n, "exitCode"))
		return JF_EXIT_CODE;
	return JF_NONE;
}

static void json_append(struct execlog_json *s, const char *p, size_t n)
{
	if (s->cap == CAP_KEY) {
		if (s->key_len + n > sizeof(s->key)) {
			s->key_over = true;
			return;
		}
		memcpy(s->key + s->key_len, p, n);
		s->key_len += n;
	} else if (s->cap == CAP_VALUE) {
		if (s->field == JF_RUNNER) {
			size_t room = sizeof(s->runner) - s->runner_len;
			size_t take = n < room ? n : room;
			memcpy(s->runner + s->runner_len, p, take);
			s->runner_len += take;
		} else if (s->field == JF_STATUS) {
			s->status_len += n;
		}
	}
}

static void json_end_literal(struct execlog_json *s)
{
	if (!s->in_lit)
		return;
	s->in_lit = false;
	if (s->field == JF_CACHE_HIT)
		s->cache_hit = span_eq(s->lit, s->lit_len, "true");
	else if (s->field == JF_EXIT_CODE && !span_eq(s->lit, s->lit_len, "0"))
		s->failed = true;
	s->lit_len = 0;
}

static void json_begin_spawn(struct execlog_json *s)
{
	s->runner_len = 0;
	s->cache_hit = false;
	s->failed = false;
	s->status_len = 0;
	s->field = JF_NONE;
}

int execlog_json_feed(struct execlog_json *s, const void *data, size_t len)
{
	const char *p = data, *end = p + len;
	unsigned spawn_level = s->base + 1;
	s->counts.bytes += len;
	while (p < end) {
		if (s->in_string) {
			if (s->escape) {
				/* keep the escaped character itself; runner names have none */
				json_append(s, p, 1);
				s->escape = false;
				p++;
				continue;
			}
			const char *q = p;
			while (q < end && *q != '"' && *q != '\\')
				q++;
			if (s->cap != CAP_NONE && q > p)
				json_append(s, p, (size_t)(q - p));
			p = q;
			if (p == end)
				break;
			if (*p == '\\') {
				s->escape = true;
				p++;
				continue;
			}
			p++;
			s->in_string = false;
			if (s->cap == CAP_KEY) {
				s->field = s->key_over ? JF_NONE : json_field_of(s->key, s->key_len);
				s->expect_key = false;
			}
			s->cap = CAP_NONE;
			continue;
		}
		char c = *p;
		switch (c) {
		case ' ':
		case '\n':
		case '\r':
		case '\t':
			json_end_literal(s);
			p++;
			while (p < end && (*p == ' ' || *p == '\n'))
				p++;
			continue;
		case '"':
			if (s->depth < spawn_level)
				return -EBADMSG;
			s->in_string = true;
			s->cap = CAP_NONE;
			if (s->depth == spawn_level) {
				if (s->expect_key) {
					s->cap = CAP_KEY;
					s->key_len = 0;
					s->key_over = false;
				} else if (s->field == JF_RUNNER || s->field == JF_STATUS) {
					s->cap = CAP_VALUE;
				}
			}
			break;
		case ':':
			break;
		case ',':
			json_end_literal(s);
			if (s->depth == spawn_level) {
				s->expect_key = true;
				s->field = JF_NONE;
			}
			break;
		case '{':
		case '[':
			if (s->closed)
				return -EBADMSG;
			if (!s->seen_any && c == '[') {
				s->base = 1;
				spawn_level = 2;
			} else if (s->depth == s->base && (c != '{' || s->closed)) {
				return -EBADMSG;
			}
			s->seen_any = true;
			if (s->depth >= JSON_DEPTH_MAX)
				return -EBADMSG;
			s->depth++;
			if (s->depth == spawn_level) {
				json_begin_spawn(s);
				s->expect_key = true;
			}
			break;
		case '}':
		case ']':
			json_end_literal(s);
			if (s->depth == 0)
				return -EBADMSG;
			if (s->depth == spawn_level) {
				if (c != '}')
					return -EBADMSG;
				if (s->status_len > 0)
					s->failed = true;
				count_spawn(&s->counts, s->runner, s->runner_len, s->cache_hit, s->failed);
				s->counts.entries++;
			}
			if (s->base == 1 && s->depth == 1) {
				if (c != ']')
					return -EBADMSG;
				s->closed = true;
			}
			s->depth--;
			break;
		default:
			/* literals: true false null and numbers */
			if (s->depth < spawn_level)
				return -EBADMSG;
			if (s->depth == spawn_level && !s->expect_key && s->field != JF_NONE) {
				if (!s->in_lit) {
					s->in_lit = true;
					s->lit_len = 0;
				}
				if (s->lit_len < sizeof(s->lit))
					s->lit[s->lit_len++] = c;
			}
			break;
		}
		p++;
	}
	return 0;
}

int execlog_json_finish(struct execlog_json *s, struct execlog_counts *ret)
{
	if (s->in_string || s->depth != 0 || (s->base == 1 && !s->closed))
		return -EBADMSG;
	*ret = s->counts;
	return 0;
}

/* ---- compact ------------------------------------------------------------
 *
 * protobuf-c decodes each entry with an arena allocator: every allocation of
 * one unpack comes from a block that is reset after the entry is counted, so
 * decoding costs no malloc/free per string. */

struct arena {
	char *base;
	size_t cap, used;
	void **extra; /* overflow blocks of the current entry */
	size_t n_extra, cap_extra;
	size_t extra_bytes;
};

#define ARENA_INITIAL (64u * 1024u)
#define ARENA_MAX (4u * EXECLOG_ENTRY_MAX)

static void *arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size = (size + 15u) & ~(size_t)15u;
	if (a->used + size <= a->cap) {
		void *p = a->base + a->used;
		a->used += size;
		return p;
	}
	if (a->extra_bytes + a->cap + size > ARENA_MAX)
		return NULL;
	if (a->n_extra == a->cap_extra) {
		size_t nc = a->cap_extra ? a->cap_extra * 2 : 16;
		void **ne = realloc(a->extra, nc * sizeof(*ne));
		if (!ne)
			return NULL;
		a->extra = ne;
		a->cap_extra = nc;
	}
	void *p = malloc(size);
	if (!p)
		return NULL;
	a->extra[a->n_extra++] = p;
	a->extra_bytes += size;
	return p;
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* released all at once by arena_reset */
}

/* Drop everything; grow the main block when the last entry overflowed it. */
static int arena_reset(struct arena *a)
{
	size_t want = a->cap;
	if (a->extra_bytes > 0 || !a->base) {
		want = a->cap + a->extra_bytes;
		if (want < ARENA_INITIAL)
			want = ARENA_INITIAL;
	}
	for (size_t i = 0; i < a->n_extra; i++)
		free(a->extra[i]);
	a->n_extra = 0;
	a->extra_bytes = 0;
	a->used = 0;
	if (want != a->cap || !a->base) {
		char *nb = malloc(want);
		if (!nb)
			return -ENOMEM;
		free(a->base);
		a->base = nb;
		a->cap = want;
	}
	return 0;
}

static void arena_release(struct arena *a)
{
	for (size_t i = 0; i < a->n_extra; i++)
		free(a->extra[i]);
	free(a->extra);
	free(a->base);
	memset(a, 0, sizeof(*a));
}

struct execlog_compact {
	struct execlog_counts counts;
	struct arena arena;
	ProtobufCAllocator alloc;
	uint8_t *buf; /* pending bytes of an entry split across feeds */
	size_t len, cap;
	uint64_t *ids; /* bitmap of seen entry ids */
	size_t ids_words;
};

struct execlog_compact *execlog_compact_new(void)
{
	struct execlog_compact *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->alloc.alloc = arena_alloc;
	s->alloc.free = arena_free;
	s->alloc.allocator_data = &s->arena;
	if (arena_reset(&s->arena) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void execlog_compact_free(struct execlog_compact *s)
{
	if (!s)
		return;
	arena_release(&s->arena);
	free(s->buf);
	free(s->ids);
	free(s);
}

static bool id_seen(const struct execlog_compact *s, uint32_t id)
{
	size_t w = id / 64u;
	return w < s->ids_words && (s->ids[w] >> (id % 64u)) & 1u;
}

/* Record id; returns -ENOMEM, or 1 when it was already there. */
static int id_mark(struct execlog_compact *s, uint32_t id)
{
	if (id >= EXECLOG_ID_TRACK_MAX)
		return 0;
	size_t w = id / 64u;
	if (w >= s->ids_words) {
		size_t nw = s->ids_words ? s->ids_words : 1024;
		while (nw <= w)
			nw *= 2;
		uint64_t *n = realloc(s->ids, nw * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + s->ids_words, 0, (nw - s->ids_words) * sizeof(*n));
		s->ids = n;
		s->ids_words = nw;
	}
	uint64_t bit = (uint64_t)1 << (id % 64u);
	if (s->ids[w] & bit)
		return 1;
	s->ids[w] |= bit;
	return 0;
}

static void check_ref(struct execlog_compact *s, uint32_t id)
{
	if (id != 0 && id < EXECLOG_ID_TRACK_MAX && !id_seen(s, id))
		s->counts.dangling_refs++;
}

static int compact_entry(struct execlog_compact *s, const uint8_t *data, size_t len)
{
	Tools__Protos__ExecLogEntry *e = tools__protos__exec_log_entry__unpack(&s->alloc, len, data);
	if (!e) {
		arena_reset(&s->arena);
		return -EBADMSG;
	}
	s->counts.entries++;
	switch (e->type_case) {
	case TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_SPAWN: {
		const Tools__Protos__ExecLogEntry__Spawn *sp = e->spawn;
		const char *runner = sp->runner ? sp->runner : "";
		bool failed = sp->exit_code != 0 || (sp->status && sp->status[0]);
		count_spawn(&s->counts, runner, strlen(runner), sp->cache_hit, failed);
		check_ref(s, sp->input_set_id);
		check_ref(s, sp->tool_set_id);
		for (size_t i = 0; i < sp->n_outputs; i++)
			if (sp->outputs[i]->type_case == TOOLS__PROTOS__EXEC_LOG_ENTRY__OUTPUT__TYPE_OUTPUT_ID)
				check_ref(s, sp->outputs[i]->output_id);
		break;
	}
	case TOOLS__PROTOS__EXEC_LOG_ENTRY__TYPE_INPUT_SET:
		for (size_t i = 0; i < e->input_set->n_input_ids; i++)
			check_ref(s, e->input_set->input_ids[i]);
		for (size_t i = 0; i < e->input_set->n_transitive_set_ids; i++)
			check_ref(s, e->input_set->transitive_set_ids[i]);
		break;
	default:
		break;
	}
	int r = 0;
	if (e->id != 0) {
		r = id_mark(s, e->id);
		if (r == 1) {
			s->counts.duplicate_ids++;
			r = 0;
		}
	}
	int r2 = arena_reset(&s->arena);
	return r < 0 ? r : r2;
}

/* Decode a varint length prefix.  Returns bytes used, 0 when more input is
 * needed, or -EBADMSG when it is malformed or too large. */
static int read_varint_len(const uint8_t *p, size_t n, size_t *ret)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 10; i++) {
		if (i >= n)
			return 0;
		v |= (uint64_t)(p[i] & 0x7fu) << (7 * i);
		if (!(p[i] & 0x80u)) {
			if (v > EXECLOG_ENTRY_MAX)
				return -EBADMSG;
			*ret = (size_t)v;
			return (int)i + 1;
		}
	}
	return -EBADMSG;
}

/* Consume whole entries from [p, p+n); returns bytes consumed or -errno. */
static ssize_t compact_consume(struct execlog_compact *s, const uint8_t *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		size_t elen;
		int h = read_varint_len(p + off, n - off, &elen);
		if (h < 0)
			return h;
		if (h == 0 || n - off - (size_t)h < elen)
			break;
		int r = compact_entry(s, p + off + (size_t)h, elen);
		if (r < 0)
			return r;
		off += (size_t)h + elen;
	}
	return (ssize_t)off;
}

int execlog_compact_feed(struct execlog_compact *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	s->counts.bytes += len;
	while (len > 0) {
		if (s->len == 0) {
			/* fast path: decode straight from the caller's buffer */
			ssize_t used = compact_consume(s, p, len);
			if (used < 0)
				return (int)used;
			p += used;
			len -= (size_t)used;
			if (len == 0)
				break;
		}
		/* an entry is split: gather it in the pending buffer */
		size_t need = 0;
		if (s->len > 0) {
			size_t elen;
			int h = read_varint_len(s->buf, s->len, &elen);
			if (h < 0)
				return h;
			need = h > 0 ? (size_t)h + elen : s->len + 1;
		} else {
			need = 1;
		}
		if (need > s->cap) {
			size_t nc = s->cap ? s->cap : 4096;
			while (nc < need)
				nc *= 2;
			if (nc > EXECLOG_ENTRY_MAX + 16)
				nc = EXECLOG_ENTRY_MAX + 16;
			if (nc < need)
				return -EBADMSG;
			uint8_t *nb = realloc(s->buf, nc);
			if (!nb)
				return -ENOMEM;
			s->buf = nb;
			s->cap = nc;
		}
		size_t take = need - s->len;
		if (take > len)
			take = len;
		memcpy(s->buf + s->len, p, take);
		s->len += take;
		p += take;
		len -= take;
		ssize_t used = compact_consume(s, s->buf, s->len);
		if (used < 0)
			return (int)used;
		if ((size_t)used == s->len)
			s->len = 0;
	}
	return 0;
}

int execlog_compact_finish(struct execlog_compact *s, struct execlog_counts *ret)
{
	if (s->len != 0)
		return -EBADMSG;
	*ret = s->counts;
	return 0;
}

/* ---- files ---------------------------------------------------------------- */

int execlog_detect_format(const char *path, enum execlog_format *ret, struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path, "check the path",
				    "cannot open execution log: %s", strerror(errno));
	uint8_t magic[4];
	ssize_t n = read(fd, magic, sizeof(magic));
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		*ret = EXECLOG_COMPACT;
	else
		*ret = EXECLOG_JSON;
	return 0;
}

static int read_full(int fd, void *buf, size_t cap, size_t *ret)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n >= 0) {
			*ret = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
}

static int read_json_fd(int fd, struct execlog_counts *ret)
{
	struct execlog_json *s = execlog_json_new();
	_cleanup_free_ char *buf = malloc(EXECLOG_READ_CHUNK);
	if (!s || !buf) {
		execlog_json_free(s);
		return -ENOMEM;
	}
	int r = 0;
	for (;;) {
		size_t n = 0;
		r = read_full(fd, buf, EXECLOG_READ_CHUNK, &n);
		if (r < 0 || n == 0)
			break;
		r = execlog_json_feed(s, buf, n);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = execlog_json_finish(s, ret);
	execlog_json_free(s);
	return r;
}

static int read_compact_fd(int fd, struct execlog_counts *ret)
{
	struct execlog_compact *s = execlog_compact_new();
	ZSTD_DCtx *z = ZSTD_createDCtx();
	size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
	uint8_t *in = malloc(in_cap), *out = malloc(out_cap);
	int r = 0;
	if (!s || !z || !in || !out) {
		r = -ENOMEM;
		goto done;
	}
	if (ZSTD_isError(ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, EXECLOG_ZSTD_WINDOW_LOG_MAX))) {
		r = -EINVAL;
		goto done;
	}
	size_t last = 0; /* 0 once a frame is complete */
	bool any = false;
	for (;;) {
		size_t n = 0;
		r = read_full(fd, in, in_cap, &n);
		if (r < 0 || n == 0)
			break;
		any = true;
		ZSTD_inBuffer ib = { in, n, 0 };
		/* a full output buffer may leave data inside the decoder: call
		 * again until it returns less than a full buffer */
		bool full = true;
		while (ib.pos < ib.size || full) {
			ZSTD_outBuffer ob = { out, out_cap, 0 };
			last = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(last)) {
				r = -EBADMSG;
				goto done;
			}
			r = execlog_compact_feed(s, out, ob.pos);
			if (r < 0)
				goto done;
			full = ob.pos == out_cap;
		}
	}
	if (r == 0 && any && last != 0)
		r = -EBADMSG; /* the zstd frame was cut short */
	if (r == 0)
		r = execlog_compact_finish(s, ret);
done:
	execlog_compact_free(s);
	ZSTD_freeDCtx(z);
	free(in);
	free(out);
	return r;
}

int execlog_read_fd(int fd, const char *name, enum execlog_format fmt, struct execlog_counts *ret,
		    struct fw_error *err)
{
	struct execlog_counts c;
	int r = fmt == EXECLOG_COMPACT ? read_compact_fd(fd, &c) : read_json_fd(fd, &c);
	if (r == -EBADMSG)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_DATAERR, name,
				    "rerun the build; the log is written when Bazel finishes",
				    "%s execution log is malformed or cut short",
				    execlog_format_name(fmt));
	if (r < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, name, "check the file",
				    "cannot read %s execution log: %s", execlog_format_name(fmt),
				    strerror(-r));
	*ret = c;
	return 0;
}

int execlog_read_file(const char *path, enum execlog_format fmt, struct execlog_counts *ret,
		      struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path,
				    "check that Bazel ran with the execution log flag",
				    "cannot open execution log: %s", strerror(errno));
	return execlog_read_fd(fd, path, fmt, ret, err);
}

/* ---- build events ----------------------------------------------------------- */

static uint64_t json_count(json_t *v)
{
	/* int64 counts are strings in proto3 JSON; int32 are numbers */
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	uint64_t n = 0;
	if (json_is_string(v) && parse_u64(json_string_value(v), UINT64_MAX, &n) == 0)
		return n;
	return 0;
}

static void bep_add_runner_counts(struct bep_summary *s, json_t *arr)
{
	s->has_runner_count = true;
	s->total = s->internal = 0;
	s->n_runners = 0;
	memset(s->by_class, 0, sizeof(s->by_class));
	size_t i;
	json_t *rc;
	json_array_foreach(arr, i, rc) {
		const char *name = json_string_value(json_object_get(rc, "name"));
		uint64_t count = json_count(json_object_get(rc, "count"));
		if (!name)
			continue;
		if (!strcmp(name, "total")) {
			s->total = count;
			continue;
		}
		if (!strcmp(name, "internal")) {
			s->internal = count;
			continue;
		}
		s->by_class[execlog_classify(name, strlen(name), false)] += count;
		if (s->n_runners < BEP_RUNNERS_MAX) {
			struct bep_runner *r = &s->runners[s->n_runners++];
			snprintf(r->name, sizeof(r->name), "%s", name);
			r->count = count;
		}
	}
}

int bep_summary_add_line(struct bep_summary *s, const char *line, size_t len)
{
	/* most events are large and irrelevant: look before parsing */
	bool metrics = memmem(line, len, "\"runnerCount\"", 13) != NULL;
	bool finished = memmem(line, len, "\"finished\"", 10) != NULL;
	bool fetch = memmem(line, len, "\"fetch\"", 7) != NULL;
	if (!metrics && !finished && !fetch)
		return 0;
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return -EBADMSG;
	}
	json_t *rc = json_object_get(json_object_get(json_object_get(ev, "buildMetrics"), "actionSummary"),
				     "runnerCount");
	if (json_is_array(rc))
		bep_add_runner_counts(s, rc);
	json_t *fin = json_object_get(ev, "finished");
	if (json_is_object(fin)) {
		s->has_finished = true;
		s->success = json_is_true(json_object_get(fin, "overallSuccess"));
		s->exit_code = (int)json_count(json_object_get(json_object_get(fin, "exitCode"), "code"));
	}
	if (json_is_object(json_object_get(json_object_get(ev, "id"), "fetch")))
		s->fetches++;
	json_decref(ev);
	return 0;
}

int bep_read_summary(const char *path, struct bep_summary *ret, struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path,
				    "check that Bazel ran with --build_event_json_file",
				    "cannot open build event file: %s", strerror(errno));
	struct bep_summary s;
	memset(&s, 0, sizeof(s));
	/* lines longer than the window are events flywheel does not read
	 * (file sets, logs): they are skipped, not held in memory */
	size_t cap = 1024u * 1024u;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, path, NULL, "out of memory");
	size_t len = 0;
	bool skipping = false;
	for (;;) {
		if (len == cap) {
			if (cap >= BEP_LINE_MAX) {
				skipping = true;
				len = 0;
			} else {
				char *nb = realloc(buf, cap * 2);
				if (!nb)
					return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, path, NULL,
							    "out of memory");
				buf = nb;
				cap *= 2;
			}
		}
		size_t n = 0;
		int r = read_full(fd, buf + len, cap - len, &n);
		if (r < 0)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_IOERR, path, NULL,
					    "cannot read build event file: %s", strerror(-r));
		if (n == 0)
			break;
		len += n;
		size_t start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', len - start);
			if (!nl)
				break;
			size_t ll = (size_t)(nl - (buf + start));
			if (!skipping && ll > 0 && bep_summary_add_line(&s, buf + start, ll) < 0)
				return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_DATAERR, path,
						    "rerun the build", "build event file is malformed");
			skipping = false;
			start += ll + 1;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	if (len > 0 && !skipping && bep_summary_add_line(&s, buf, len) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_DATAERR, path, "rerun the build",
				    "build event file is malformed (last event cut short)");
	*ret = s;
	return 0;
}

int execlog_crosscheck(const struct execlog_counts *log, const struct bep_summary *bep, char *buf,
		       size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (!bep->has_runner_count)
		return 0;
	int n = 0;
	size_t off = 0;
	uint64_t bep_spawns = bep->total >= bep->internal ? bep->total - bep->internal : 0;
	struct {
		const char *name;
		uint64_t a, b;
	} rows[EXECLOG_CLASS__MAX + 1];
	size_t nr = 0;
	rows[nr].name = "spawns";
	rows[nr].a = log->spawns;
	rows[nr++].b = bep_spawns;
	for (int c = 0; c < EXECLOG_CLASS__MAX; c++) {
		rows[nr].name = execlog_class_name((enum execlog_class)c);
		rows[nr].a = log->by_class[c];
		rows[nr++].b = bep->by_class[c];
	}
	for (size_t i = 0; i < nr; i++) {
		if (rows[i].a == rows[i].b)
			continue;
		n++;
		if (off < len) {
			int w = snprintf(buf + off, len - off, "%s%s: log %llu, build events %llu",
					 off ? "; " : "", rows[i].name, (unsigned long long)rows[i].a,
					 (unsigned long long)rows[i].b);
			if (w > 0)
				off += (size_t)w;
		}
	}
	return n;
}
