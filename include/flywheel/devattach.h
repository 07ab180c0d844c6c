/* devattach.h - `flywheel dev-attach` (flywheel-net command). */
#ifndef FLYWHEEL_DEVATTACH_H
#define FLYWHEEL_DEVATTACH_H

/* argv[0] is "dev-attach"; options --json, --write-env, --no-round-trip.
 * Prints the numbered checklist and one verdict line (attached: mode,
 * latency, endpoint; or not attached: the first blocking cause with its fix).
 * Exit 0 only when attached; otherwise the first failure's code (78 config,
 * 77 auth, 69 unreachable, 127 no Bazel, 65 inputs, 73 disk, 1 other). */
int cmd_dev_attach(int argc, char **argv);

#endif
