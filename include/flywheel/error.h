/* error.h - the one error shape every module fills and only the reporter prints.
 *
 * Modules never print and never exit: they return a negative value and fill a
 * struct fw_error.  main() hands it to report_error(), which prints exactly
 *   flywheel: <subject>: <what is wrong>; <how to fix>
 * and exits with err->exit_code.
 */
#ifndef FLYWHEEL_ERROR_H
#define FLYWHEEL_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit codes (sysexits), documented in flywheel(1). Bazel's own pass through. */
enum fw_exit {
	FW_EX_OK = 0,
	FW_EX_FAIL = 1,           /* a check failed (doctor, verify, proof refused) */
	FW_EX_USAGE = 64,         /* bad command line */
	FW_EX_DATAERR = 65,       /* bad input data: manifest, signature, log */
	FW_EX_UNAVAILABLE = 69,   /* remote unusable and policy says fail */
	FW_EX_SOFTWARE = 70,      /* internal error */
	FW_EX_OSERR = 71,         /* system call failed */
	FW_EX_CANTCREAT = 73,     /* cannot write output */
	FW_EX_IOERR = 74,
	FW_EX_TEMPFAIL = 75,      /* try again later */
	FW_EX_NOPERM = 77,        /* permission denied (auth) */
	FW_EX_CONFIG = 78,        /* configuration error */
	FW_EX_NOEXEC = 126,       /* Bazel found but cannot be run */
	FW_EX_NOTFOUND = 127,     /* Bazel not found */
};

/* Failure classes, as shown in doctor output and the flywheel-status/1 JSON. */
enum fw_class {
	FW_CLASS_NONE = 0,
	FW_CLASS_USAGE,
	FW_CLASS_CONFIG,
	FW_CLASS_DNS,
	FW_CLASS_CONNECT,
	FW_CLASS_TLS,
	FW_CLASS_AUTH,
	FW_CLASS_CAPABILITIES,
	FW_CLASS_INSTANCE,
	FW_CLASS_ELIGIBILITY,
	FW_CLASS_QUOTA,
	FW_CLASS_EXTERNAL_INPUT,
	FW_CLASS_BAZEL_NOT_FOUND,
	FW_CLASS_DISK,
	FW_CLASS_INTERNAL,
	FW_CLASS__MAX,
};

#define FW_ERROR_SUBJECT_MAX 256
#define FW_ERROR_TEXT_MAX 512

struct fw_error {
	enum fw_class cls;
	int exit_code;
	char subject[FW_ERROR_SUBJECT_MAX]; /* e.g. "BAZEL_REMOTE_CACHE from environment" */
	char what[FW_ERROR_TEXT_MAX];       /* what is wrong */
	char fix[FW_ERROR_TEXT_MAX];        /* how to fix it */
};

const char *fw_class_name(enum fw_class c);

void fw_error_clear(struct fw_error *e);
bool fw_error_isset(const struct fw_error *e);

/* Fill err (if non-NULL, and not already set) and return -1 so callers can
 * write `return fw_error_set(err, ...)`.  fix may be NULL.  Texts longer than
 * the buffers are cut at a character boundary with "…"; they are messages, not data. */
int fw_error_set(struct fw_error *err, enum fw_class cls, int exit_code,
		 const char *subject, const char *fix, const char *what_fmt, ...)
	__attribute__((format(printf, 6, 7)));
int fw_error_setv(struct fw_error *err, enum fw_class cls, int exit_code,
		  const char *subject, const char *fix, const char *what_fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* Format the one-line message (no "flywheel: " prefix, no newline). */
void fw_error_format(const struct fw_error *e, char *buf, size_t len);

#endif
