/* plan.h - what flywheel decided for one Bazel invocation, before any Bazel
 * version is considered.
 *
 * policy_build() (policy.c) fills a plan from the validated configuration and
 * the probe verdict; bazel_flags_build() (bazel_flags.c) turns a plan plus the
 * real Bazel's version into the options to inject, asking the version table
 * for every spelling.  Strings in a plan are owned by the plan.
 */
#ifndef FLYWHEEL_PLAN_H
#define FLYWHEEL_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "flywheel/util.h"

enum fw_mode { FW_MODE_LOCAL, FW_MODE_CACHE, FW_MODE_EXECUTOR };

const char *fw_mode_name(enum fw_mode m);

/* How flywheel hands credentials to Bazel. */
enum fw_cred {
	FW_CRED_NONE,    /* no credentials configured */
	FW_CRED_HELPER,  /* --credential_helper (spelling by version) -> credential_helper_path */
	FW_CRED_RCFILE,  /* old Bazel: headers in a private 0600 rc file (startup --bazelrc=rc_file) */
};

struct fw_plan {
	enum fw_mode mode;
	char *cache_url;         /* cache and executor modes: the chosen cache endpoint */
	struct strv cache_candidates; /* every configured cache, in configured order */
	char *executor_url;      /* executor mode only */
	char *instance_name;     /* NULL: none */
	bool upload;             /* --remote_upload_local_results=true (else false) */
	bool fallback_local;     /* flywheel's policy when a remote fails: local, else fail */
	bool force_execution;    /* executor: --remote_accept_cached=false */
	char *platform;          /* executor: gf.platform=<platform> */
	uint64_t jobs;           /* executor: --jobs (0: not set) */
	uint64_t max_connections; /* --remote_max_connections (0: not set) */
	uint64_t remote_timeout; /* --remote_timeout seconds (0: not set) */

	enum fw_cred cred;
	char *credential_helper_path; /* FW_CRED_HELPER: absolute path of the helper program */
	char *credential_helper_host; /* FW_CRED_HELPER: host it is scoped to (NULL: unscoped) */
	char *rc_file;           /* FW_CRED_RCFILE: private rc file holding the headers */

	char *tls_ca;            /* --tls_certificate */
	char *tls_client_cert;   /* --tls_client_certificate */
	char *tls_client_key;    /* --tls_client_key */

	struct strv distdirs;    /* --distdir, each */
	char *repository_cache;  /* --repository_cache */
	struct strv inject_repos; /* "name=/abs/dir": --inject_repository or --override_repository */
	bool disable_download;   /* stop Bazel downloading anything outside the staged inputs */
	char *downloader_config; /* --downloader_config / --experimental_downloader_config */
	char *chromium;          /* test/coverage: --test_env=GF_RBE_CHROMIUM_EXECUTABLE=<value> */

	char *output_user_root;  /* startup --output_user_root */
	char *output_base;       /* startup --output_base */

	bool has_credentials;    /* token, token file, headers or an external helper configured */
	char *token_file;        /* effective token file (configured or the default one present) */
	char *manifest;          /* inputs manifest to stage before Bazel runs */
	char *eligibility;       /* eligibility manifest (executor mode) */
	char *requested_mode_origin; /* "GF_BAZEL_SUBSTRATE_MODE from environment" etc. */

	/* Child modes (report, proof): evidence files Bazel is asked to write. */
	char *exec_log_path;     /* format chosen by the version table */
	char *bep_json_path;     /* --build_event_json_file */
};

void plan_init(struct fw_plan *p);
void plan_release(struct fw_plan *p);

#endif
