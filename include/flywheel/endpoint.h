/* endpoint.h - remote endpoint URLs: strict parsing and the policy checks on them.
 *
 * Accepted: grpc://host[:port][/], grpcs://host[:port][/], http(s)://host[:port][/path],
 * unix:/abs/path (also unix:///abs/path).  No userinfo, no query or fragment, no
 * unexpanded placeholders, hosts are DNS names, IPv4, or [IPv6].
 */
#ifndef FLYWHEEL_ENDPOINT_H
#define FLYWHEEL_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ep_scheme {
	EP_GRPC = 1u << 0,
	EP_GRPCS = 1u << 1,
	EP_HTTP = 1u << 2,
	EP_HTTPS = 1u << 3,
	EP_UNIX = 1u << 4,
};

#define EP_CACHE_SCHEMES (EP_GRPC | EP_GRPCS | EP_HTTP | EP_HTTPS | EP_UNIX)
#define EP_EXEC_SCHEMES (EP_GRPC | EP_GRPCS | EP_UNIX)

#define EP_URL_MAX 2048
#define EP_HOST_MAX 253

struct endpoint {
	char *url;            /* as given (owned) */
	enum ep_scheme scheme;
	char *host;           /* without brackets; NULL for unix */
	uint16_t port;        /* explicit or the scheme's default */
	char *path;           /* http path ("/" when none) or unix socket path */
	bool tls;             /* grpcs or https */
	bool loopback;        /* localhost, 127/8, ::1, or a unix socket */
	bool ip_literal;
};

enum ep_error {
	EP_OK = 0,
	EP_E_EMPTY,
	EP_E_TOO_LONG,
	EP_E_PLACEHOLDER,
	EP_E_SCHEME,       /* unknown scheme */
	EP_E_SCHEME_ROLE,  /* known scheme not allowed for this role */
	EP_E_USERINFO,
	EP_E_HOST,
	EP_E_PORT,
	EP_E_PATH,
	EP_E_QUERY,
	EP_E_SPACE,
	EP_E_NOMEM,
};

/* Parse url, allowing only schemes in `allowed`.  On error ret is untouched. */
enum ep_error endpoint_parse(const char *url, unsigned allowed, struct endpoint *ret);
void endpoint_release(struct endpoint *ep);
const char *ep_scheme_name(enum ep_scheme s);
/* "what is wrong" text for an error. */
const char *ep_error_text(enum ep_error e);
/* "how to fix" text for an error. */
const char *ep_error_fix(enum ep_error e);

/* Whether ep's host (or host:port) is in the denylist entries. */
bool endpoint_denied(const struct endpoint *ep, char *const *denylist, size_t n);

/* REAPI instance names: [A-Za-z0-9._/-], no "..", no leading or trailing '/',
 * no empty component, at most 256 bytes.  Returns NULL or the problem. */
const char *instance_name_problem(const char *name);

/* Unexpanded placeholder: "${", "}" or "$(" anywhere in s. */
bool has_placeholder(const char *s);

#endif
