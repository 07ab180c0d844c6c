/* endpoint.c - strict endpoint URL parsing and the checks policy applies to them. */
#include "flywheel/endpoint.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

static const struct {
	const char *prefix;
	enum ep_scheme scheme;
	uint16_t port;
} schemes[] = {
	{ "grpcs://", EP_GRPCS, 443 },
	{ "grpc://", EP_GRPC, 80 },
	{ "https://", EP_HTTPS, 443 },
	{ "http://", EP_HTTP, 80 },
	{ "unix:", EP_UNIX, 0 },
};

const char *ep_scheme_name(enum ep_scheme s)
{
	switch (s) {
	case EP_GRPC: return "grpc";
	case EP_GRPCS: return "grpcs";
	case EP_HTTP: return "http";
	case EP_HTTPS: return "https";
	case EP_UNIX: return "unix";
	}
	return "?";
}

const char *ep_error_text(enum ep_error e)
{
	switch (e) {
	case EP_OK: return "ok";
	case EP_E_EMPTY: return "empty endpoint";
	case EP_E_TOO_LONG: return "endpoint URL too long";
	case EP_E_PLACEHOLDER: return "holds an unexpanded placeholder";
	case EP_E_SCHEME: return "unknown URL scheme";
	case EP_E_SCHEME_ROLE: return "scheme not allowed here";
	case EP_E_USERINFO: return "credentials in the URL (user:password@)";
	case EP_E_HOST: return "bad host name";
	case EP_E_PORT: return "bad port";
	case EP_E_PATH: return "bad path";
	case EP_E_QUERY: return "query or fragment in the URL";
	case EP_E_SPACE: return "white space or control character in the URL";
	case EP_E_NOMEM: return "out of memory";
	}
	return "invalid";
}

const char *ep_error_fix(enum ep_error e)
{
	switch (e) {
	case EP_E_PLACEHOLDER: return "set the real value; flywheel does not expand ${...}";
	case EP_E_SCHEME: return "use grpc://, grpcs://, http://, https:// or unix:/path";
	case EP_E_SCHEME_ROLE: return "an executor takes grpc://, grpcs:// or unix:/path";
	case EP_E_USERINFO: return "remove user:password@ and give credentials through a token file or credential helper";
	case EP_E_HOST: return "use a DNS name, an IPv4 address or [IPv6]";
	case EP_E_PORT: return "use a port from 1 to 65535";
	case EP_E_PATH: return "unix endpoints take an absolute socket path (unix:/run/x.sock)";
	case EP_E_QUERY: return "remove ?… and #…";
	default: return "write scheme://host[:port][/path]";
	}
}

bool has_placeholder(const char *s)
{
	return strstr(s, "${") || strchr(s, '}') || strstr(s, "$(");
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool dns_name_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > EP_HOST_MAX || h[0] == '.' || h[0] == '-')
		return false;
	size_t label = 0;
	for (const char *p = h; *p; p++) {
		if (!host_char_ok(*p))
			return false;
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return h[n - 1] != '-';
}

static bool is_loopback_host(const char *host, bool *ret_ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	*ret_ip = false;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		*ret_ip = true;
		return (ntohl(a4.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		*ret_ip = true;
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] == 127;
		return false;
	}
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	       (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

enum ep_error endpoint_parse(const char *url, unsigned allowed, struct endpoint *ret)
{
	if (!url || !*url)
		return EP_E_EMPTY;
	size_t len = strlen(url);
	if (len > EP_URL_MAX)
		return EP_E_TOO_LONG;
	if (has_placeholder(url))
		return EP_E_PLACEHOLDER;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return EP_E_SPACE;

	size_t si;
	for (si = 0; si < FW_ARRAY_SIZE(schemes); si++)
		if (strncasecmp(url, schemes[si].prefix, strlen(schemes[si].prefix)) == 0)
			break;
	if (si == FW_ARRAY_SIZE(schemes))
		return EP_E_SCHEME;
	if (!(allowed & schemes[si].scheme))
		return EP_E_SCHEME_ROLE;

	struct endpoint ep = { .scheme = schemes[si].scheme, .port = schemes[si].port };
	const char *rest = url + strlen(schemes[si].prefix);
	if (strchr(rest, '?') || strchr(rest, '#'))
		return EP_E_QUERY;

	if (ep.scheme == EP_UNIX) {
		/* unix:/abs/path or unix:///abs/path */
		if (str_has_prefix(rest, "//"))
			rest += 2;
		if (rest[0] != '/' || strstr(rest, "/../") || str_has_suffix(rest, "/..") || strlen(rest) > 107)
			return EP_E_PATH;
		ep.path = fw_strdup(rest);
		ep.url = fw_strdup(url);
		if (!ep.path || !ep.url) {
			endpoint_release(&ep);
			return EP_E_NOMEM;
		}
		ep.loopback = true;
		*ret = ep;
		return EP_OK;
	}

	const char *slash = strchr(rest, '/');
	size_t auth_len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (memchr(rest, '@', auth_len))
		return EP_E_USERINFO;
	if (auth_len == 0)
		return EP_E_HOST;
	_cleanup_free_ char *authority = fw_strndup(rest, auth_len);
	if (!authority)
		return EP_E_NOMEM;

	char *host = authority, *port = NULL;
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close)
			return EP_E_HOST;
		*close = '\0';
		host++;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return EP_E_HOST;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return EP_E_HOST;
	} else {
		char *colon = strchr(host, ':');
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
		if (!dns_name_ok(host))
			return EP_E_HOST;
	}
	if (port) {
		uint64_t pn;
		if (parse_u64(port, 65535, &pn) < 0 || pn == 0)
			return EP_E_PORT;
		ep.port = (uint16_t)pn;
	}
	const char *path = slash ? slash : "/";
	if (ep.scheme == EP_GRPC || ep.scheme == EP_GRPCS) {
		/* gRPC targets have no path: the instance name is separate */
		if (strcmp(path, "/") != 0)
			return EP_E_PATH;
	}
	if (strstr(path, "/../") || str_has_suffix(path, "/.."))
		return EP_E_PATH;

	ep.loopback = is_loopback_host(host, &ep.ip_literal);
	ep.tls = ep.scheme == EP_GRPCS || ep.scheme == EP_HTTPS;
	ep.host = fw_strdup(host);
	ep.path = fw_strdup(path);
	ep.url = fw_strdup(url);
	if (!ep.host || !ep.path || !ep.url) {
		endpoint_release(&ep);
		return EP_E_NOMEM;
	}
	*ret = ep;
	return EP_OK;
}

void endpoint_release(struct endpoint *ep)
{
	if (!ep)
		return;
	free(ep->url);
	free(ep->host);
	free(ep->path);
	memset(ep, 0, sizeof(*ep));
}

bool endpoint_denied(const struct endpoint *ep, char *const *denylist, size_t n)
{
	if (!ep->host)
		return false;
	char hostport[EP_HOST_MAX + 16];
	snprintf(hostport, sizeof(hostport), "%s:%u", ep->host, ep->port);
	for (size_t i = 0; i < n; i++) {
		const char *d = denylist[i];
		if (strcasecmp(d, ep->host) == 0 || strcasecmp(d, hostport) == 0 || strcasecmp(d, ep->url) == 0)
			return true;
		/* "*.example.com" retires a whole domain */
		if (d[0] == '*' && d[1] == '.' && str_has_suffix(ep->host, d + 1))
			return true;
	}
	return false;
}

const char *instance_name_problem(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return "empty instance name";
	if (n > 256)
		return "instance name longer than 256 bytes";
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '/' || c == '-'))
			return "instance name may only hold A-Z a-z 0-9 . _ / -";
	}
	if (strstr(name, ".."))
		return "instance name holds '..'";
	if (name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
		return "instance name has an empty path component";
	return NULL;
}
