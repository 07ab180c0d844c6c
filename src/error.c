/* error.c - filling and formatting struct fw_error. */
#include "flywheel/error.h"

#include <stdio.h>
#include <string.h>

#include "flywheel/banned.h"

static const char *const class_names[FW_CLASS__MAX] = {
	[FW_CLASS_NONE] = "none",
	[FW_CLASS_USAGE] = "usage",
	[FW_CLASS_CONFIG] = "config",
	[FW_CLASS_DNS] = "dns",
	[FW_CLASS_CONNECT] = "connect",
	[FW_CLASS_TLS] = "tls",
	[FW_CLASS_AUTH] = "auth",
	[FW_CLASS_CAPABILITIES] = "capabilities",
	[FW_CLASS_INSTANCE] = "instance",
	[FW_CLASS_ELIGIBILITY] = "eligibility",
	[FW_CLASS_QUOTA] = "quota",
	[FW_CLASS_EXTERNAL_INPUT] = "external-input",
	[FW_CLASS_BAZEL_NOT_FOUND] = "bazel-not-found",
	[FW_CLASS_DISK] = "disk",
	[FW_CLASS_INTERNAL] = "internal",
};

const char *fw_class_name(enum fw_class c)
{
	if ((unsigned)c >= FW_CLASS__MAX)
		return "internal";
	return class_names[c];
}

void fw_error_clear(struct fw_error *e)
{
	memset(e, 0, sizeof(*e));
}

bool fw_error_isset(const struct fw_error *e)
{
	return e && e->cls != FW_CLASS_NONE;
}

/* Copy with an ellipsis when cut, never splitting a UTF-8 sequence. */
static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n < cap) {
		memcpy(dst, src, n + 1);
		return;
	}
	size_t keep = cap - 4; /* room for "…" (3 bytes) and NUL */
	while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	memcpy(dst + keep, "\xe2\x80\xa6", 4);
}

int fw_error_setv(struct fw_error *err, enum fw_class cls, int exit_code,
		  const char *subject, const char *fix, const char *what_fmt, va_list ap)
{
	if (!err || fw_error_isset(err))
		return -1;
	char what[FW_ERROR_TEXT_MAX * 2];
	vsnprintf(what, sizeof(what), what_fmt, ap);
	err->cls = cls == FW_CLASS_NONE ? FW_CLASS_INTERNAL : cls;
	err->exit_code = exit_code;
	copy_text(err->subject, sizeof(err->subject), subject ? subject : "");
	copy_text(err->what, sizeof(err->what), what);
	copy_text(err->fix, sizeof(err->fix), fix ? fix : "");
	return -1;
}

int fw_error_set(struct fw_error *err, enum fw_class cls, int exit_code,
		 const char *subject, const char *fix, const char *what_fmt, ...)
{
	va_list ap;
	va_start(ap, what_fmt);
	int r = fw_error_setv(err, cls, exit_code, subject, fix, what_fmt, ap);
	va_end(ap);
	return r;
}

void fw_error_format(const struct fw_error *e, char *buf, size_t len)
{
	if (e->fix[0])
		snprintf(buf, len, "%s%s%s; %s", e->subject, e->subject[0] ? ": " : "", e->what, e->fix);
	else
		snprintf(buf, len, "%s%s%s", e->subject, e->subject[0] ? ": " : "", e->what);
}
