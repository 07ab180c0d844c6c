/* config_keys.h - every configuration key flywheel accepts, as one table.
 *
 * X(ID, "section.key", "ENV_VAR", "ALT_ENV_VAR", "default", flags, "meaning")
 *
 * The ini name is used in flywheel.ini and config.ini (section [x], key y);
 * the environment names are the contract the old shell wrapper had and keep
 * their meaning.  An empty env name means the key has no environment form.
 * docs/CONFIGURATION.md lists exactly these keys (a test compares them).
 *
 * Flags: CK_SECRET  value is a credential: never printed, never in flywheel.ini
 *        CK_LIST    colon- or comma-separated list
 *        CK_PATH    a filesystem path (relative paths are relative to the file
 *                   that set them; environment values to the working directory)
 *        CK_BOOL    true/false
 *        CK_NUM     non-negative integer
 *        CK_NOREPO  may not be set in the committed flywheel.ini
 */
#ifndef FLYWHEEL_CONFIG_KEYS_H
#define FLYWHEEL_CONFIG_KEYS_H

#define CK_SECRET 0x01u
#define CK_LIST 0x02u
#define CK_PATH 0x04u
#define CK_BOOL 0x08u
#define CK_NUM 0x10u
#define CK_NOREPO 0x20u

/* clang-format off */
#define FW_CONFIG_KEYS(X) \
  X(MODE, "core.mode", "GF_BAZEL_SUBSTRATE_MODE", "FLYWHEEL_MODE", NULL, 0, \
    "local, cache or executor (GF names shared-cache-backed and executor-backed are accepted); empty: chosen from the endpoints") \
  X(FALLBACK, "core.fallback", "FLYWHEEL_FALLBACK", "", NULL, 0, \
    "local or fail: what to do when a remote is unusable; default local, fail when CI is set") \
  X(BAZEL_REAL, "core.bazel", "BAZEL_REAL", "BAZEL_BIN", NULL, CK_PATH, \
    "the real Bazel (or Bazelisk) to run; default bazelisk or bazel on PATH") \
  X(BAZEL_VERSION, "core.bazel_version", "FLYWHEEL_BAZEL_VERSION", "", NULL, 0, \
    "Bazel version to assume when the binary reports none (Debian prints no_version)") \
  X(PROBE_TIMEOUT_MS, "core.probe_timeout_ms", "FLYWHEEL_PROBE_TIMEOUT_MS", "", "2000", CK_NUM, \
    "overall deadline for resolving and probing all endpoints, in milliseconds") \
  X(VERDICT_TTL, "core.verdict_ttl", "FLYWHEEL_VERDICT_TTL", "", "300", CK_NUM, \
    "seconds a healthy probe verdict is reused (failures: 30 s)") \
  X(REPORT, "core.report", "FLYWHEEL_REPORT", "", "false", CK_BOOL, \
    "run Bazel as a child and print a build report afterwards") \
  X(REMOTE_CACHE, "remote.cache", "BAZEL_REMOTE_CACHE", "", NULL, CK_LIST, \
    "remote cache endpoint(s): grpc, grpcs, http, https or unix URL; several: the healthy one with the lowest latency") \
  X(REMOTE_EXECUTOR, "remote.executor", "BAZEL_REMOTE_EXECUTOR", "", NULL, 0, \
    "remote executor endpoint: grpc, grpcs or unix URL") \
  X(REMOTE_EXECUTOR_CACHE, "remote.executor_cache", "BAZEL_REMOTE_EXECUTOR_CACHE", "", NULL, 0, \
    "separate cache for executor mode (needs allow_separate_executor_cache)") \
  X(ALLOW_SEPARATE_EXECUTOR_CACHE, "remote.allow_separate_executor_cache", "GF_BAZEL_ALLOW_SEPARATE_EXECUTOR_CACHE", "", "false", CK_BOOL, \
    "allow executor_cache to differ from the executor") \
  X(INSTANCE_NAME, "remote.instance_name", "BAZEL_REMOTE_INSTANCE_NAME", "", NULL, 0, \
    "REAPI instance name: [A-Za-z0-9._/-], no '..'") \
  X(HEADER, "remote.header", "BAZEL_REMOTE_HEADER", "", NULL, CK_SECRET | CK_NOREPO, \
    "NAME=VALUE header sent to cache and executor (secret)") \
  X(CACHE_HEADER, "remote.cache_header", "BAZEL_REMOTE_CACHE_HEADER", "", NULL, CK_SECRET | CK_NOREPO, \
    "NAME=VALUE header sent to the cache only (secret)") \
  X(EXEC_HEADER, "remote.exec_header", "BAZEL_REMOTE_EXEC_HEADER", "", NULL, CK_SECRET | CK_NOREPO, \
    "NAME=VALUE header sent to the executor only, executor mode only (secret)") \
  X(CREDENTIAL_HELPER, "remote.credential_helper", "BAZEL_CREDENTIAL_HELPER", "", NULL, CK_PATH, \
    "external credential helper program (Bazel credential-helper protocol)") \
  X(REAPI_CREDENTIAL_HELPER, "remote.reapi_credential_helper", "GF_REAPI_BAZEL_CREDENTIAL_HELPER", "", NULL, CK_PATH, \
    "credential helper Bazel is pointed at; default: flywheel itself") \
  X(TOKEN_FILE, "remote.token_file", "GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE", "", NULL, CK_PATH, \
    "bearer token file (regular, owned by you, mode 0600 or 0400); default /var/run/secrets/tokens/gf-reapi-cell-token when present") \
  X(TOKEN, "remote.token", "GF_REAPI_CREDENTIAL_HELPER_TOKEN", "", NULL, CK_SECRET | CK_NOREPO, \
    "bearer token (secret; environment or .env.flywheel.local only)") \
  X(TLS_CA, "remote.tls_ca", "FLYWHEEL_TLS_CA", "", NULL, CK_PATH, \
    "CA certificate file for grpcs/https endpoints; default: system CAs") \
  X(TLS_CLIENT_CERT, "remote.tls_client_cert", "FLYWHEEL_TLS_CLIENT_CERT", "", NULL, CK_PATH, \
    "client certificate for mTLS") \
  X(TLS_CLIENT_KEY, "remote.tls_client_key", "FLYWHEEL_TLS_CLIENT_KEY", "", NULL, CK_PATH | CK_NOREPO, \
    "client private key for mTLS") \
  X(MAX_CONNECTIONS, "remote.max_connections", "BAZEL_REMOTE_MAX_CONNECTIONS", "", NULL, CK_NUM, \
    "--remote_max_connections for Bazel") \
  X(REMOTE_TIMEOUT, "remote.timeout", "FLYWHEEL_REMOTE_TIMEOUT", "", NULL, CK_NUM, \
    "--remote_timeout for Bazel, in seconds") \
  X(UPLOAD, "remote.upload", "GF_BAZEL_REMOTE_UPLOAD", "", "false", CK_BOOL, \
    "upload local results to the cache (trusted writers only)") \
  X(CACHE_ROLE, "remote.cache_role", "GF_BAZEL_CACHE_ROLE", "", NULL, 0, \
    "read-only forbids every upload, whatever upload says") \
  X(PLATFORM, "remote.platform", "GF_BAZEL_REMOTE_EXECUTION_PLATFORM", "", "gloriousflywheel-rbe-linux-x86_64", 0, \
    "executor platform, passed as gf.platform=<value>") \
  X(JOBS, "remote.jobs", "GF_BAZEL_JOBS", "", NULL, CK_NUM, \
    "--jobs in executor mode") \
  X(FORCE_EXECUTION, "remote.force_execution", "GF_BAZEL_FORCE_EXECUTION", "", "false", CK_BOOL, \
    "executor mode: --remote_accept_cached=false") \
  X(QUOTA_RETRIES, "remote.quota_retries", "GF_BAZEL_QUOTA_RETRIES", "", "0", CK_NUM, \
    "retries after RESOURCE_EXHAUSTED in child modes") \
  X(LOCAL_PROOF, "remote.local_proof", "GF_BAZEL_LOCAL_PROOF", "", NULL, 0, \
    "port-forward allows loopback endpoints (a local proof through a tunnel)") \
  X(ALLOW_LOOPBACK, "remote.allow_loopback", "FLYWHEEL_ALLOW_LOOPBACK", "", "false", CK_BOOL, \
    "allow loopback endpoints") \
  X(DENYLIST, "remote.denylist", "FLYWHEEL_DENYLIST", "", NULL, CK_LIST, \
    "retired endpoint hosts (host or host:port) that are refused") \
  X(PROOF_IMAGE_DIGEST, "remote.proof_image_digest", "GF_BAZEL_REAPI_PROOF_IMAGE_DIGEST", "", NULL, 0, \
    "worker image digest recorded in proof results") \
  X(CHROMIUM, "remote.chromium_executable", "GF_RBE_CHROMIUM_EXECUTABLE", "", NULL, 0, \
    "passed as --test_env=GF_RBE_CHROMIUM_EXECUTABLE=... for test and coverage") \
  X(OUTPUT_USER_ROOT, "bazel.output_user_root", "BAZEL_OUTPUT_USER_ROOT", "", NULL, CK_PATH, \
    "Bazel startup option --output_user_root") \
  X(OUTPUT_BASE, "bazel.output_base", "BAZEL_OUTPUT_BASE", "", NULL, CK_PATH, \
    "Bazel startup option --output_base") \
  X(REPOSITORY_CACHE, "bazel.repository_cache", "BAZEL_REPOSITORY_CACHE", "", NULL, CK_PATH, \
    "Bazel --repository_cache directory (staging target)") \
  X(DISTDIR, "bazel.distdir", "BAZEL_DISTDIR", "", NULL, CK_LIST | CK_PATH, \
    "Bazel --distdir directories, colon-separated") \
  X(INJECT_REPOSITORIES, "bazel.inject_repositories", "GF_BAZEL_INJECT_REPOSITORIES", "", NULL, CK_LIST, \
    "name=/abs/dir pairs, colon-separated: --inject_repository (Bazel 8+) or --override_repository") \
  X(DISABLE_DOWNLOAD, "bazel.repository_disable_download", "GF_BAZEL_REPOSITORY_DISABLE_DOWNLOAD", "", "false", CK_BOOL, \
    "stop Bazel from downloading anything outside the staged inputs") \
  X(MANIFEST, "inputs.manifest", "FLYWHEEL_INPUTS_MANIFEST", "", NULL, CK_PATH, \
    "signed, pinned inputs manifest (flywheel-inputs/1 JSON)") \
  X(MANIFEST_SIG, "inputs.signature", "FLYWHEEL_INPUTS_SIGNATURE", "", NULL, CK_PATH, \
    "detached signature; default <manifest>.sig") \
  X(ALLOW_UNSIGNED, "inputs.allow_unsigned", "FLYWHEEL_ALLOW_UNSIGNED", "", "false", CK_BOOL, \
    "accept an unsigned manifest (local experiments only; warned every time)") \
  X(ELIGIBILITY, "executor.eligibility", "FLYWHEEL_ELIGIBILITY", "", NULL, CK_PATH, \
    "target-class eligibility manifest (rbe-target-eligibility JSON)") \
  X(DOWNLOADER_CONFIG, "mirrors.downloader_config", "FLYWHEEL_DOWNLOADER_CONFIG", "", NULL, CK_PATH, \
    "a Bazel downloader config written by hand, checked before Bazel starts")
/* clang-format on */

#endif
