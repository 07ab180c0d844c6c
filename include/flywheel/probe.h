/* probe.h - reachability, TLS, auth and capabilities of every remote, in
 * parallel under one deadline (net module: libcurl multi + c-ares).
 *
 *   grpc://, grpcs://, unix:  REAPI GetCapabilities over HTTP/2 (prior knowledge
 *                             for grpc and unix, ALPN for grpcs), with the
 *                             instance name and a RequestMetadata header
 *   http://, https://         GET of the empty blob's CAS key (200 or 404 =
 *                             reachable and allowed); writers also PUT the empty
 *                             blob under its own key (content-addressed, so the
 *                             write is correct on any cache, even one that
 *                             verifies digests)
 *
 * Every failure gets exactly one class (dns connect tls auth capabilities
 * instance quota config) and a fix.  The secrets in auth headers are sent to
 * the server only: never logged, never in a result.
 *
 * ---- `flywheel-net probe --for-launch` (the launcher's child on a verdict miss)
 * argv:   flywheel-net probe --for-launch    (environment and cwd inherited)
 * does:   loads the configuration and plan as the launcher does, probes the
 *         plan's cache candidates (purpose read, plus upload when the plan
 *         uploads) and executor (purpose exec), within core.probe_timeout_ms,
 *         and stores one verdict per endpoint (verdict.h; key from
 *         auth_verdict_key(), credhelper.h).
 * stdout: nothing.  stderr: nothing unless exit 78/70 (one message line).
 * exit:   0  every role the plan needs has a healthy endpoint
 *         69 at least one role has none (the verdicts say why)
 *         78 configuration error; 70 internal error
 * The launcher then reads the verdicts (verdict_lookup) and decides; in local
 * mode the command exits 0 at once.
 */
#ifndef FLYWHEEL_PROBE_H
#define FLYWHEEL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/auth.h"
#include "flywheel/endpoint.h"
#include "flywheel/error.h"
#include "flywheel/reapi.h"
#include "flywheel/resolve.h"

#define PROBE_TARGETS_MAX 32
#define PROBE_DEFAULT_TIMEOUT_MS 2000
#define PROBE_BODY_MAX (64u * 1024u)
#define PROBE_DETAIL_MAX 256
#define PROBE_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum probe_role { PROBE_ROLE_CACHE, PROBE_ROLE_EXECUTOR };

struct probe_target {
	const struct endpoint *ep;  /* borrowed */
	const char *instance;       /* NULL: none */
	enum probe_role role;
	bool want_upload;           /* grpc: AC update enabled; http: PUT allowed */
	const char *tls_ca;         /* CA file; NULL: system CAs */
	const char *tls_cert;       /* client certificate (mTLS) or NULL */
	const char *tls_key;        /* its key or NULL */
	const struct auth *auth;    /* headers for this role are sent; NULL: none */
	const char *subject;        /* for messages; NULL: the URL */
};

struct probe_result {
	bool healthy;
	struct fw_error err;        /* when !healthy */
	uint64_t latency_ns;        /* resolution + request, as seen by this target */
	uint64_t dns_ns;
	long http_status;           /* 0: none */
	int grpc_status;            /* -1: none */
	bool have_caps;
	struct reapi_caps caps;
	char detail[PROBE_DETAIL_MAX]; /* what was seen, for doctor ("HTTP/2, SHA256, …") */
};

/* Probe t[0..n) in parallel; everything finishes by timeout_ms (0: default).
 * ret[i] gets the outcome of t[i].  Returns 0 (the outcomes may be failures),
 * or fills err when probing cannot start at all. */
int probe_run(const struct probe_target *t, size_t n, uint64_t timeout_ms, struct probe_result *ret,
	      struct fw_error *err);

/* Among results idx[0..n), the healthy one with the lowest latency; -1 when
 * none is healthy.  why gets one sentence ("lowest latency of 2 healthy: 3 ms
 * vs 9 ms"). */
int probe_pick(const struct probe_result *r, const size_t *idx, size_t n, char *why, size_t len);

/* Commands (net_commands[] in net_main.c). */
int cmd_probe(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
