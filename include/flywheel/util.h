/* util.h - ownership helpers, bounded string vectors and checked parsing.
 *
 * Every module uses these instead of ad-hoc malloc/free pairs:
 *   _cleanup_free_ char *s = ...;      freed when s leaves scope
 *   _cleanup_close_ int fd = ...;      closed when fd leaves scope
 *   return steal_ptr(&s);              hand ownership to the caller
 */
#ifndef FLYWHEEL_UTIL_H
#define FLYWHEEL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void fw_freep(void *p);
void fw_closep(int *fd);
void fw_fclosep(FILE **f);

#define _cleanup_free_ __attribute__((cleanup(fw_freep)))
#define _cleanup_close_ __attribute__((cleanup(fw_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fw_fclosep)))
#define _cleanup_strv_ __attribute__((cleanup(strv_freep)))

/* Move ownership out of a cleanup-scoped pointer: returns *pp, sets it NULL. */
static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* A NULL-terminated vector of owned strings with a hard maximum length. */
struct strv {
	char **v;
	size_t n;
	size_t cap;
	size_t max; /* 0 means FW_STRV_MAX */
};

#define FW_STRV_MAX 65536

void strv_init(struct strv *s);
void strv_release(struct strv *s);
void strv_freep(struct strv *s);
/* Append a copy of str. Returns 0, -ENOMEM, or -E2BIG past the maximum. */
int strv_push(struct strv *s, const char *str);
/* Append an already-owned string; on failure str is freed. */
int strv_push_take(struct strv *s, char *str);
/* Append printf-formatted text. */
int strv_pushf(struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strv_insert(struct strv *s, size_t at, const char *str);
int strv_extend(struct strv *s, const struct strv *from);
bool strv_contains(const struct strv *s, const char *str);

/* The value of NAME in envp (NULL-terminated "K=V" strings; envp NULL: none),
 * or NULL when absent.  Borrowed from envp. */
const char *env_lookup(char *const *envp, const char *name);

/* Allocate printf-formatted text; NULL on OOM. */
char *fw_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *fw_strdup(const char *s);
char *fw_strndup(const char *s, size_t n);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* Returns the text after prefix, or NULL when s does not start with it. */
const char *str_after(const char *s, const char *prefix);

/* Checked number parsing: whole string, no sign unless allowed, range. */
int parse_u64(const char *s, uint64_t max, uint64_t *ret);
int parse_bool(const char *s, bool *ret); /* 1/0 true/false yes/no on/off */

/* Read a whole small file (at most max bytes) into a NUL-terminated buffer.
 * Refuses symlinks when nofollow. Returns 0 or -errno (-EFBIG over max). */
int read_small_file(const char *path, size_t max, bool nofollow, char **ret, size_t *ret_len);

/* Write data to path atomically (temp file in the same directory, fsync,
 * rename) with the given mode. Returns 0 or -errno. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, unsigned mode);

/* For libraries that cannot fail cleanly when memory runs out (jansson's lexer
 * and dumper can drop bytes and still report success): give them this
 * allocator, which ends the process instead of returning NULL. */
void *fw_malloc_or_abort(size_t n);
/* Install fw_malloc_or_abort as jansson's allocator (flywheel and flywheel-net
 * call it first thing in main). */
void fw_json_fail_closed(void);

/* Pretty JSON text (2-space indent, keys in insertion order, a final
 * newline) of root, which is consumed (json_decref); NULL on OOM.  root is a
 * json_t * (void * here so this header needs no jansson). */
char *fw_json_text(void *root);

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

#endif
