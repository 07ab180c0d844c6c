/* reapi.c - GetCapabilities request/answer bytes and the checks on the answer. */
#include "flywheel/reapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "reapi_min.pb-c.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

#define DIGEST_SHA256 1
/* Bazel speaks REAPI 2.x; a server whose range excludes major 2 cannot serve it. */
#define CLIENT_API_MAJOR 2

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int reapi_caps_request(const char *instance, uint8_t **ret, size_t *ret_len)
{
	Build__Bazel__Remote__Execution__V2__GetCapabilitiesRequest req =
		BUILD__BAZEL__REMOTE__EXECUTION__V2__GET_CAPABILITIES_REQUEST__INIT;
	if (instance && strlen(instance) > REAPI_INSTANCE_MAX)
		return -EINVAL;
	req.instance_name = (char *)(instance ? instance : "");
	size_t n = build__bazel__remote__execution__v2__get_capabilities_request__get_packed_size(&req);
	uint8_t *buf = malloc(REAPI_GRPC_PREFIX + n);
	if (!buf)
		return -ENOMEM;
	buf[0] = 0;
	put_be32(buf + 1, (uint32_t)n);
	build__bazel__remote__execution__v2__get_capabilities_request__pack(&req, buf + REAPI_GRPC_PREFIX);
	*ret = buf;
	*ret_len = REAPI_GRPC_PREFIX + n;
	return 0;
}

int reapi_metadata_header(const char *tool_version, char **ret)
{
	Build__Bazel__Remote__Execution__V2__ToolDetails tool =
		BUILD__BAZEL__REMOTE__EXECUTION__V2__TOOL_DETAILS__INIT;
	Build__Bazel__Remote__Execution__V2__RequestMetadata md =
		BUILD__BAZEL__REMOTE__EXECUTION__V2__REQUEST_METADATA__INIT;
	unsigned char rnd[16];
	char invocation[2 * sizeof(rnd) + 1];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(invocation + 2 * i, 3, "%02x", rnd[i]);
	tool.tool_name = (char *)"flywheel";
	tool.tool_version = (char *)(tool_version ? tool_version : "");
	md.tool_details = &tool;
	md.action_id = (char *)"flywheel-probe";
	md.tool_invocation_id = invocation;

	size_t n = build__bazel__remote__execution__v2__request_metadata__get_packed_size(&md);
	if (n > 1024)
		return -EINVAL;
	uint8_t raw[1024];
	build__bazel__remote__execution__v2__request_metadata__pack(&md, raw);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return -ENOMEM;
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	*ret = out;
	return 0;
}

int reapi_unframe(const uint8_t *buf, size_t len, const uint8_t **ret_msg, size_t *ret_len)
{
	if (!buf || len < REAPI_GRPC_PREFIX)
		return -EPROTO;
	if (buf[0] != 0)
		return -EPROTO; /* compressed: flywheel never offers grpc-encoding */
	uint32_t n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
	if (n > REAPI_MSG_MAX)
		return -EFBIG;
	if ((size_t)n != len - REAPI_GRPC_PREFIX)
		return -EPROTO;
	*ret_msg = buf + REAPI_GRPC_PREFIX;
	*ret_len = n;
	return 0;
}

static void semver_copy(const Build__Bazel__Remote__Execution__V2__SemVer *s, struct reapi_semver *d)
{
	if (!s)
		return;
	d->set = true;
	d->major = s->major;
	d->minor = s->minor;
	d->patch = s->patch;
}

int reapi_caps_decode(const uint8_t *msg, size_t len, struct reapi_caps *ret)
{
	if (len > REAPI_MSG_MAX)
		return -EFBIG;
	Build__Bazel__Remote__Execution__V2__ServerCapabilities *sc =
		build__bazel__remote__execution__v2__server_capabilities__unpack(NULL, len, msg);
	if (!sc)
		return -EPROTO;
	struct reapi_caps c = { 0 };
	if (sc->cache_capabilities) {
		const Build__Bazel__Remote__Execution__V2__CacheCapabilities *cc = sc->cache_capabilities;
		c.has_cache = true;
		for (size_t i = 0; i < cc->n_digest_functions; i++)
			if ((int)cc->digest_functions[i] == DIGEST_SHA256)
				c.cache_sha256 = true;
		c.ac_update = cc->action_cache_update_capabilities &&
			      cc->action_cache_update_capabilities->update_enabled;
	}
	if (sc->execution_capabilities) {
		const Build__Bazel__Remote__Execution__V2__ExecutionCapabilities *ec = sc->execution_capabilities;
		c.has_exec = true;
		c.exec_enabled = ec->exec_enabled;
		c.exec_sha256 = (int)ec->digest_function == DIGEST_SHA256;
		for (size_t i = 0; i < ec->n_digest_functions; i++)
			if ((int)ec->digest_functions[i] == DIGEST_SHA256)
				c.exec_sha256 = true;
	}
	semver_copy(sc->low_api_version, &c.low_api);
	semver_copy(sc->high_api_version, &c.high_api);
	semver_copy(sc->deprecated_api_version, &c.deprecated_api);
	build__bazel__remote__execution__v2__server_capabilities__free_unpacked(sc, NULL);
	*ret = c;
	return 0;
}

int reapi_caps_check(const struct reapi_caps *caps, bool want_exec, bool want_upload,
		     const char *subject, struct fw_error *err)
{
	if (!caps->has_cache)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
				    "point remote.cache at a REAPI cache (this server offers no CAS/action cache)",
				    "server reports no cache capabilities");
	if (!caps->cache_sha256)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
				    "configure the server for SHA256 digests, or use another cache",
				    "server cache does not support the SHA256 digest function Bazel uses");
	if (caps->high_api.set && caps->high_api.major < CLIENT_API_MAJOR)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
				    "upgrade the server to REAPI v2",
				    "server speaks REAPI up to %d.%d, Bazel needs 2.x",
				    caps->high_api.major, caps->high_api.minor);
	if (caps->low_api.set && caps->low_api.major > CLIENT_API_MAJOR)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
				    "use a server that still accepts REAPI v2 clients",
				    "server needs REAPI %d.%d or newer, Bazel speaks 2.x",
				    caps->low_api.major, caps->low_api.minor);
	if (want_upload && !caps->ac_update)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
				    "set remote.upload=false (GF_BAZEL_REMOTE_UPLOAD) for this lane, or use a writable cache",
				    "server does not let clients update the action cache, but this run uploads");
	if (want_exec) {
		if (!caps->has_exec || !caps->exec_enabled)
			return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
					    "use --mode=cache, or point remote.executor at a server with execution enabled",
					    "server is a cache only: remote execution is not enabled");
		if (!caps->exec_sha256)
			return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, subject,
					    "configure the executor for SHA256 digests",
					    "executor does not use the SHA256 digest function Bazel uses");
	}
	return 0;
}

void reapi_caps_describe(const struct reapi_caps *caps, char *buf, size_t len)
{
	char api[64] = "";
	if (caps->low_api.set || caps->high_api.set)
		snprintf(api, sizeof(api), ", API %d.%d-%d.%d", caps->low_api.major, caps->low_api.minor,
			 caps->high_api.major, caps->high_api.minor);
	snprintf(buf, len, "%s%s%s%s", caps->cache_sha256 ? "SHA256" : "no SHA256",
		 caps->ac_update ? ", AC update" : ", AC read-only",
		 caps->exec_enabled ? ", exec" : ", no exec", api);
}

const char *grpc_code_name(int code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};
	if (code < 0 || (size_t)code >= FW_ARRAY_SIZE(names))
		return "UNKNOWN";
	return names[code];
}
