/* envfile.h - .env.flywheel.local, parsed as data and never run by a shell.
 *
 * Accepted lines: blank, "# comment", KEY=VALUE, export KEY=VALUE.  VALUE is
 * bare (no spaces, no shell syntax), 'single quoted' (literal) or "double
 * quoted" (\" \\ \$ \` escapes; a bare $ is refused because a shell would
 * expand it).  Anything a shell would execute or expand is an error, so a file
 * that worked with `source` either means the same here or is refused.
 */
#ifndef FLYWHEEL_ENVFILE_H
#define FLYWHEEL_ENVFILE_H

#include <stddef.h>

#include "flywheel/error.h"

#define ENVFILE_MAX_SIZE (64 * 1024)
#define ENVFILE_MAX_LINE 4096
#define ENVFILE_MAX_KEY 128

/* Called once per assignment; line is 1-based.  Return 0 to go on or a
 * negative value (with err filled) to stop. */
typedef int (*envfile_cb)(void *userdata, const char *key, const char *value,
			  unsigned line, struct fw_error *err);

/* Parse data (len bytes, need not be NUL-terminated).  path names the file in
 * messages.  Errors: class config, exit 78, subject "<KEY> from <path>:<line>"
 * (or "<path>:<line>" when no key could be read). */
int envfile_parse(const char *data, size_t len, const char *path, envfile_cb cb,
		  void *userdata, struct fw_error *err);

#endif
