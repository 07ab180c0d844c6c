/* reapi.h - the REAPI Capabilities call as bytes: request, gRPC framing, answer.
 *
 * No I/O here: probe.c moves the bytes over HTTP/2 with libcurl.  Messages are
 * (de)serialised with protobuf-c from proto/reapi_min.proto (real field numbers).
 */
#ifndef FLYWHEEL_REAPI_H
#define FLYWHEEL_REAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"

#define REAPI_CAPS_PATH "/build.bazel.remote.execution.v2.Capabilities/GetCapabilities"
#define REAPI_METADATA_HEADER "build.bazel.remote.execution.v2.requestmetadata-bin"
/* gRPC length-prefixed message: 1 byte compressed flag + 4 bytes big-endian length. */
#define REAPI_GRPC_PREFIX 5
/* The largest Capabilities answer flywheel accepts (real ones are < 1 KiB). */
#define REAPI_MSG_MAX (64u * 1024u)
#define REAPI_INSTANCE_MAX 256

/* gRPC status codes flywheel tells apart. */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_UNAUTHENTICATED = 16,
};

struct reapi_semver {
	bool set;
	int32_t major, minor, patch;
};

/* What flywheel reads from ServerCapabilities. */
struct reapi_caps {
	bool has_cache;          /* cache_capabilities present */
	bool cache_sha256;       /* SHA256 among cache digest_functions */
	bool ac_update;          /* action_cache_update_capabilities.update_enabled */
	bool has_exec;           /* execution_capabilities present */
	bool exec_sha256;        /* execution digest function is SHA256 */
	bool exec_enabled;
	struct reapi_semver low_api, high_api, deprecated_api;
};

/* The framed GetCapabilitiesRequest body for instance (NULL or "" for none).
 * *ret is malloc'ed; -EINVAL when the instance is longer than REAPI_INSTANCE_MAX. */
int reapi_caps_request(const char *instance, uint8_t **ret, size_t *ret_len);

/* The value for REAPI_METADATA_HEADER: base64 of a RequestMetadata naming
 * flywheel and tool_version, with a random invocation id. *ret is malloc'ed. */
int reapi_metadata_header(const char *tool_version, char **ret);

/* Unframe exactly one gRPC message from a complete response body.
 * -EPROTO: short, trailing bytes, or compressed; -EFBIG: over REAPI_MSG_MAX.
 * *ret_msg points into buf. */
int reapi_unframe(const uint8_t *buf, size_t len, const uint8_t **ret_msg, size_t *ret_len);

/* Decode a ServerCapabilities message. -EPROTO when it does not parse. */
int reapi_caps_decode(const uint8_t *msg, size_t len, struct reapi_caps *ret);

/* Check caps for the use at hand: SHA256 supported, AC update when uploading,
 * exec_enabled when executing, API version range covering 2.0.  Returns 0, or
 * fills err (class capabilities, exit 69) for subject. */
int reapi_caps_check(const struct reapi_caps *caps, bool want_exec, bool want_upload,
		     const char *subject, struct fw_error *err);

/* "SHA256, AC update, exec, API 2.0–2.3" — a short summary for doctor. */
void reapi_caps_describe(const struct reapi_caps *caps, char *buf, size_t len);

/* Name of a gRPC status code ("UNAUTHENTICATED"), "UNKNOWN" otherwise. */
const char *grpc_code_name(int code);

#endif
