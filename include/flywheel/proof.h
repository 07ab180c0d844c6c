/* proof.h - `flywheel proof`: evidence that Bazel really executed remotely.
 *
 * A proof runs Bazel as a child with forced execution, an execution log and a
 * build event file in a private directory, counts the spawns by runner and
 * writes proof-result.json (kind gf-reapi-proof-result).  It is accepted only
 * when the build succeeded, an executor was attached, execution was forced,
 * remote_processes > 0, and not every spawn was a cache hit.  The evaluation
 * and the result writer are pure functions over struct proof_input.
 */
#ifndef FLYWHEEL_PROOF_H
#define FLYWHEEL_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "flywheel/error.h"
#include "flywheel/execlog.h"

#define PROOF_KIND "gf-reapi-proof-result"
#define PROOF_SCHEMA_VERSION 1
#define PROOF_EVIDENCE_MAX 4
#define PROOF_REASON_MAX 512

struct proof_evidence {
	const char *name;     /* file name inside the evidence directory */
	char sha256[65];      /* lowercase hex */
	uint64_t size;
};

struct proof_input {
	const char *const *targets;
	size_t n_targets;
	const char *const *command; /* Bazel's argv as run (holds no secrets by design) */
	size_t n_command;
	const char *class_name;     /* --class, or NULL */
	const char *nonce;          /* hex */
	int bazel_exit;             /* Bazel's exit status (128+n: signal) */
	unsigned attempts;          /* Bazel runs (quota retries included) */
	bool force_execution;
	bool executor_attached;
	bool cache_attached;
	const char *executor;       /* endpoint URLs (no credentials), or NULL */
	const char *cache;
	const char *instance_name;
	const char *platform;
	const char *worker_image_digest;
	bool have_log;              /* the execution log was read */
	const char *log_problem;    /* why it was not, when !have_log */
	enum execlog_format log_format;
	struct execlog_counts counts;
	bool have_bep;
	struct bep_summary bep;
	const char *evidence_dir;
	struct proof_evidence evidence[PROOF_EVIDENCE_MAX];
	size_t n_evidence;
	time_t started, finished;   /* wall clock */
	const char *flywheel_version;
	const char *bazel_version;
};

struct proof_verdict {
	bool accepted;
	bool build_success;
	bool cache_hits_only;         /* spawns > 0 and every one a cache hit */
	uint64_t remote_processes;
	uint64_t cache_hit_processes; /* remote and disk cache hits */
	uint64_t local_processes;
	uint64_t other_processes;
	int disagreements;            /* log vs build events runner_count */
	char disagreement[PROOF_REASON_MAX];
	char reason[PROOF_REASON_MAX]; /* why refused; "accepted" otherwise */
};

/* Decide.  Pure: reads only in. */
void proof_evaluate(const struct proof_input *in, struct proof_verdict *ret);

/* The proof-result.json text (malloc'd, NUL-terminated, ends in a newline);
 * NULL on OOM. */
char *proof_result_json(const struct proof_input *in, const struct proof_verdict *v);

/* SHA-256 (OpenSSL EVP, streaming) and size of a file. */
int proof_hash_file(const char *path, char hex[65], uint64_t *ret_size, struct fw_error *err);

/* flywheel proof [--class NAME] [--out FILE] [--test] -- TARGETS  (net command) */
int cmd_proof(int argc, char **argv);

/* flywheel-net execlog FILE [BUILD-EVENTS-FILE]: spawn counts as JSON (net command). */
int cmd_execlog(int argc, char **argv);

#endif
