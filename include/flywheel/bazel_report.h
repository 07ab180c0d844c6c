/* bazel_report.h - `flywheel bazel --report` (flywheel-net command "bazel-report"). */
#ifndef FLYWHEEL_BAZEL_REPORT_H
#define FLYWHEEL_BAZEL_REPORT_H

/* argv[0] is "bazel-report"; argv[1..] are Bazel's arguments.  flywheel's own
 * options arrive as FLYWHEEL_MODE, FLYWHEEL_JSON, FLYWHEEL_STRICT and
 * FLYWHEEL_REPORT_FILE.  Returns Bazel's exit status (69 when the remote
 * failed mid-build and the fallback policy is fail). */
int cmd_bazel_report(int argc, char **argv);

#endif
