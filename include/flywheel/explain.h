/* explain.h - print a prepared launch for people (text) or agents (JSON,
 * schema flywheel-explain/1).  Secrets are never printed: header values
 * and secret settings show as <redacted>. */
#ifndef FLYWHEEL_EXPLAIN_H
#define FLYWHEEL_EXPLAIN_H

#include <stdbool.h>

#include "flywheel/launch.h"

/* l was prepared with LAUNCH_EXPLAIN.  Returns 0 or an exit code (74 when
 * stdout cannot be written). */
int explain_print(const struct launch *l, bool json);

#endif
