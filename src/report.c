/* report.c - every message for people goes through here. */
#include "flywheel/report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flywheel/banned.h"

/* The parsed verbosity options: the one piece of global state (set by main). */
static int report_level_verbosity;
static bool report_quiet;

void report_init(int verbosity, bool quiet)
{
	report_level_verbosity = verbosity;
	report_quiet = quiet;
}

int report_verbosity(void)
{
	return report_level_verbosity;
}

bool report_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	const char *term = getenv("TERM");
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f)) == 1;
}

static void emit(enum report_level lvl, const char *text)
{
	static const char *const color[] = { "\033[1;31m", "\033[1;33m", "", "\033[2m" };
	static const char *const tag[] = { "", "warning: ", "", "debug: " };
	bool c = report_use_color(stderr) && color[lvl][0];
	fprintf(stderr, "flywheel: %s%s%s%s\n", c ? color[lvl] : "", tag[lvl], c ? "\033[0m" : "", text);
}

void report_error(const struct fw_error *err)
{
	char buf[FW_ERROR_SUBJECT_MAX + 2 * FW_ERROR_TEXT_MAX + 8];
	fw_error_format(err, buf, sizeof(buf));
	emit(REPORT_ERROR, buf);
}

void report_msg(enum report_level lvl, const char *fmt, ...)
{
	if (lvl == REPORT_INFO && report_quiet)
		return;
	if (lvl == REPORT_DEBUG && report_level_verbosity < 1)
		return;
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(lvl, buf);
}

void report_progress(bool final, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r\033[Kflywheel: %s%s", buf, final ? "\n" : "");
	fflush(stderr);
}

int report_fail(const struct fw_error *err)
{
	report_error(err);
	return err->exit_code ? err->exit_code : FW_EX_SOFTWARE;
}

int report_usage(const char *cmd, const char *fix, const char *what)
{
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, cmd, fix, "%s", what);
	report_error(&err);
	return FW_EX_USAGE;
}
