/* report.h - the only code that writes messages for people.
 *
 * Every line starts "flywheel: ".  Colour only when the stream is a TTY and
 * NO_COLOR is unset.  Secrets are never passed here: callers redact first. */
#ifndef FLYWHEEL_REPORT_H
#define FLYWHEEL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "flywheel/error.h"

enum report_level { REPORT_ERROR, REPORT_WARN, REPORT_INFO, REPORT_DEBUG };

/* verbosity: 0 normal, 1 -v, 2 -vv.  quiet suppresses INFO. */
void report_init(int verbosity, bool quiet);
int report_verbosity(void);

/* Print err as one line on stderr. */
void report_error(const struct fw_error *err);
void report_msg(enum report_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A progress line on a terminal's stderr, rewritten in place ("\r" and
 * erase-line); final ends it with a newline.  Callers only call it when
 * stderr is a terminal. */
void report_progress(bool final, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For command handlers: print err and return its exit code (70 when unset). */
int report_fail(const struct fw_error *err);
/* For command handlers: one usage line "flywheel: CMD: WHAT; FIX", exit 64. */
int report_usage(const char *cmd, const char *fix, const char *what);

/* Whether colour escapes may be written to f (TTY and NO_COLOR unset). */
bool report_use_color(FILE *f);

#endif
