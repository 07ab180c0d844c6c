/* doctor.h - the checklist shared by `probe`, `doctor` and `dev-attach`
 * (net module).
 *
 * A checklist is a list of named checks, each ok, warn, fail or skip, with a
 * latency, a detail, and for failures a class and a fix.  doctor_checks()
 * runs the remote checks all three commands need (configuration,
 * credentials, every endpoint probed in parallel under one deadline); the
 * printers give the numbered human list or one flywheel-status/1 object.
 */
#ifndef FLYWHEEL_DOCTOR_H
#define FLYWHEEL_DOCTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "flywheel/auth.h"
#include "flywheel/bazel_version.h"
#include "flywheel/config.h"
#include "flywheel/endpoint.h"
#include "flywheel/error.h"
#include "flywheel/plan.h"
#include "flywheel/probe.h"

#define CHECKS_MAX (PROBE_TARGETS_MAX + 16)

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_SKIP };

struct check {
	char name[FW_ERROR_SUBJECT_MAX];
	enum check_status status;
	double latency_ms;     /* < 0: not measured */
	char detail[FW_ERROR_TEXT_MAX];
	enum fw_class cls;
	char fix[FW_ERROR_TEXT_MAX];
};

struct checklist {
	const char *command;   /* "probe", "doctor", "dev-attach" */
	bool json, for_launch, doctor;
	uint64_t timeout_ms;
	struct check checks[CHECKS_MAX];
	size_t n;
	char chosen_cache[EP_URL_MAX];
	char chosen_why[160];
	char chosen_exec[EP_URL_MAX];
	double chosen_latency_ms;
	uint64_t elapsed_ns;
};

/* Endpoints being probed, owned by the doctor state. */
struct targets {
	struct endpoint eps[PROBE_TARGETS_MAX];
	struct probe_target t[PROBE_TARGETS_MAX];
	bool needed[PROBE_TARGETS_MAX]; /* the plan needs this role */
	size_t n;
};

/* What doctor_checks loaded, for the caller to go on with. */
struct doctor_state {
	struct config cfg;
	struct fw_plan plan;
	struct auth auth;
	struct bazel_version version;
	struct targets ts;
	struct probe_result res[PROBE_TARGETS_MAX];
	bool config_ok;
};

void doctor_state_init(struct doctor_state *st);
void doctor_state_release(struct doctor_state *st);

/* Append a check (the last slot is reused when the list is full). */
struct check *check_add(struct checklist *r, const char *name, enum check_status st);
void check_from_error(struct check *c, const struct fw_error *e);
const char *check_status_word(enum check_status s);

/* Configuration, credentials and every endpoint (urls given: those instead of
 * the configured ones).  Verdicts are stored unless r->doctor.  Returns 0,
 * 69 when a needed remote is unusable, 1 for doctor failures, or another
 * exit code when the checks could not run. */
int doctor_checks(struct checklist *r, const struct strv *urls, struct doctor_state *st);

/* The numbered list: "  3 ✗ cache grpcs://…: detail" plus cause and fix lines. */
void checklist_print_checks(const struct checklist *r, FILE *f);
/* One flywheel-status/1 object on stdout; extra (may be NULL) is the object
 * the fields are added to, so a caller can add its own first. */
int checklist_print_json(const struct checklist *r, bool ok, json_t *extra);

int cmd_probe(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
