/* probe.c - all endpoints probed in parallel with libcurl multi, one deadline. */
#include "flywheel/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>

#include "fw_build_config.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

enum req_kind { REQ_GRPC, REQ_HTTP_GET, REQ_HTTP_PUT };

/* One HTTP request; a target has one (grpc, http read) or two (http write). */
struct req {
	size_t target;
	enum req_kind kind;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	uint8_t *body;            /* request body (grpc) */
	uint8_t *resp;            /* response body, at most PROBE_BODY_MAX */
	size_t resp_len;
	bool resp_overflow;
	int grpc_status;          /* -1 none */
	char grpc_message[160];
	char content_type[64];
	char errbuf[CURL_ERROR_SIZE];
	CURLcode result;
	bool done;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb;
	if (!r->resp)
		r->resp = malloc(PROBE_BODY_MAX);
	if (!r->resp)
		return 0;
	if (r->resp_len + n > PROBE_BODY_MAX) {
		r->resp_overflow = true;
		return 0; /* abort: no probe answer is this large */
	}
	memcpy(r->resp + r->resp_len, ptr, n);
	r->resp_len += n;
	return n;
}

static void header_value(const char *line, size_t n, size_t name_len, char *out, size_t outlen)
{
	const char *v = line + name_len;
	size_t left = n - name_len;
	while (left && (*v == ' ' || *v == '\t')) {
		v++;
		left--;
	}
	while (left && (v[left - 1] == '\r' || v[left - 1] == '\n' || v[left - 1] == ' '))
		left--;
	if (left >= outlen)
		left = outlen - 1;
	/* only printable text is kept: it may end up in a message */
	size_t o = 0;
	for (size_t i = 0; i < left; i++)
		out[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	out[o] = '\0';
}

/* Headers and HTTP/2 trailers both arrive here (libcurl passes trailers on). */
static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
	struct req *r = ud;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(line, "grpc-status:", 12) == 0) {
		char v[16];
		uint64_t code;
		header_value(line, n, 12, v, sizeof(v));
		r->grpc_status = parse_u64(v, 1000, &code) == 0 ? (int)code : 2;
	} else if (n > 13 && strncasecmp(line, "grpc-message:", 13) == 0) {
		header_value(line, n, 13, r->grpc_message, sizeof(r->grpc_message));
	} else if (n > 13 && strncasecmp(line, "content-type:", 13) == 0) {
		header_value(line, n, 13, r->content_type, sizeof(r->content_type));
	}
	return n;
}

static void slist_free_wiped(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static void req_release(struct req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	slist_free_wiped(r->headers);
	curl_slist_free_all(r->resolve);
	free(r->body);
	free(r->resp);
	memset(r, 0, sizeof(*r));
}

static int add_auth_headers(struct req *r, const struct probe_target *t)
{
	if (!t->auth)
		return 0;
	enum auth_scope role = t->role == PROBE_ROLE_EXECUTOR ? AUTH_SCOPE_EXEC : AUTH_SCOPE_CACHE;
	for (size_t i = 0; i < t->auth->n; i++) {
		const struct auth_header *h = &t->auth->h[i];
		if (!auth_header_applies(h, role))
			continue;
		size_t cap = strlen(h->name) + strlen(h->value) + 3;
		char *line = sodium_malloc(cap);
		if (!line)
			return -ENOMEM;
		snprintf(line, cap, "%s: %s", h->name, h->value);
		struct curl_slist *nl = curl_slist_append(r->headers, line);
		sodium_free(line);
		if (!nl)
			return -ENOMEM;
		r->headers = nl;
	}
	return 0;
}

static const char *subject_of(const struct probe_target *t)
{
	return t->subject ? t->subject : t->ep->url;
}

/* scheme://host:port as curl wants it; IPv6 literals in brackets. */
static char *base_url(const struct endpoint *ep, bool tls)
{
	bool v6 = ep->host && strchr(ep->host, ':');
	return fw_asprintf("%s://%s%s%s:%u", tls ? "https" : "http", v6 ? "[" : "", ep->host, v6 ? "]" : "",
			   (unsigned)ep->port);
}

static int req_setup(struct req *r, const struct probe_target *t, const struct resolve_query *q,
		     uint64_t timeout_ms, const char *metadata)
{
	const struct endpoint *ep = t->ep;
	CURL *e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	r->easy = e;
	r->grpc_status = -1;
	_cleanup_free_ char *url = NULL;
	if (ep->scheme == EP_UNIX) {
		url = fw_strdup("http://localhost" REAPI_CAPS_PATH);
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, ep->path);
	} else {
		_cleanup_free_ char *base = base_url(ep, ep->tls);
		if (!base)
			return -ENOMEM;
		if (r->kind == REQ_GRPC) {
			url = fw_asprintf("%s%s", base, REAPI_CAPS_PATH);
		} else {
			const char *path = ep->path ? ep->path : "/";
			size_t pl = strlen(path);
			while (pl > 0 && path[pl - 1] == '/')
				pl--;
			url = fw_asprintf("%s%.*s/cas/%s", base, (int)pl, path, PROBE_EMPTY_SHA256);
		}
		char entry[RESOLVE_ADDRS_MAX * (RESOLVE_ADDR_LEN + 3) + EP_HOST_MAX + 16];
		if (q && resolve_curl_entry(q, entry, sizeof(entry)) == 0) {
			r->resolve = curl_slist_append(NULL, entry);
			if (!r->resolve)
				return -ENOMEM;
			curl_easy_setopt(e, CURLOPT_RESOLVE, r->resolve);
		}
	}
	if (!url)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, ""); /* Bazel's remote clients use no proxy either */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	/* a black hole is known once the connect budget is spent; the rest of
	 * the deadline is for a slow answer */
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms * 3 / 4 ? timeout_ms * 3 / 4 : 1));
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "flywheel/" FLYWHEEL_VERSION);
	if (ep->tls) {
		if (t->tls_ca)
			curl_easy_setopt(e, CURLOPT_CAINFO, t->tls_ca);
		if (t->tls_cert)
			curl_easy_setopt(e, CURLOPT_SSLCERT, t->tls_cert);
		if (t->tls_key)
			curl_easy_setopt(e, CURLOPT_SSLKEY, t->tls_key);
	}
	if (add_auth_headers(r, t) < 0)
		return -ENOMEM;

	struct curl_slist *h = r->headers;
	if (r->kind == REQ_GRPC) {
		size_t blen = 0;
		int rr = reapi_caps_request(t->instance, &r->body, &blen);
		if (rr < 0)
			return rr;
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
				 ep->tls ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)blen);
		char md[1400], tmo[32];
		snprintf(md, sizeof(md), "%s: %s", REAPI_METADATA_HEADER, metadata ? metadata : "");
		snprintf(tmo, sizeof(tmo), "grpc-timeout: %lum", (unsigned long)timeout_ms);
		const char *std[] = { "content-type: application/grpc", "te: trailers", "Expect:",
				      "Accept:", tmo, md };
		for (size_t i = 0; i < FW_ARRAY_SIZE(std); i++) {
			if (i == FW_ARRAY_SIZE(std) - 1 && !metadata)
				break;
			struct curl_slist *nl = curl_slist_append(h, std[i]);
			if (!nl)
				return -ENOMEM;
			h = nl;
		}
	} else if (r->kind == REQ_HTTP_PUT) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
		struct curl_slist *nl = curl_slist_append(h, "Expect:");
		if (!nl)
			return -ENOMEM;
		h = nl;
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	r->headers = h;
	if (h)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	return 0;
}

/* ---- classification ------------------------------------------------------ */

static bool has(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static int classify_transport(struct req *r, const struct probe_target *t, uint64_t budget_ms,
			      struct fw_error *err)
{
	const char *s = subject_of(t);
	const struct endpoint *ep = t->ep;
	char where[EP_HOST_MAX + 16];
	if (ep->scheme == EP_UNIX)
		snprintf(where, sizeof(where), "%s", ep->path);
	else
		snprintf(where, sizeof(where), "%s:%u", ep->host, (unsigned)ep->port);
	curl_off_t connect_t = 0, app_t = 0;
	curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &connect_t);
	curl_easy_getinfo(r->easy, CURLINFO_APPCONNECT_TIME_T, &app_t);
	long verify = 0;
	curl_easy_getinfo(r->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
	const char *eb = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result);

	switch (r->result) {
	case CURLE_COULDNT_CONNECT:
		if (ep->scheme == EP_UNIX)
			return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
					    "start the server, or fix the socket path",
					    "cannot connect to unix socket %s (%s)", where, eb);
		long oserr = 0;
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED || has(eb, "refused"))
			return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
					    "start the server, or fix the port in the endpoint URL",
					    "connection refused: nothing listens on %s", where);
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    "check the network route (VPN, firewall) to the host",
				    "cannot connect to %s (%s)", where, eb);
	case CURLE_OPERATION_TIMEDOUT:
		if (connect_t == 0 && ep->scheme != EP_UNIX)
			return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
					    "connect the VPN or open the firewall to this host; Bazel would hang 30 s or more here",
					    "no TCP connection to %s within %llu ms: packets are dropped (black hole)",
					    where, (unsigned long long)(budget_ms * 3 / 4));
		if (ep->tls && app_t == 0)
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    "check that the port serves TLS (grpcs/https) and the server is healthy",
					    "TLS handshake with %s did not finish within %llu ms",
					    where, (unsigned long long)budget_ms);
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    "the server accepts connections but is stuck: restart it or ask its operators",
				    "connected to %s, but no answer within %llu ms", where, (unsigned long long)budget_ms);
	case CURLE_PEER_FAILED_VERIFICATION:
		if (verify == X509_V_ERR_CERT_HAS_EXPIRED)
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    "the server's certificate must be renewed (or this machine's clock is wrong)",
					    "server certificate has expired");
		if (verify == X509_V_ERR_CERT_NOT_YET_VALID)
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    "check this machine's clock", "server certificate is not valid yet");
		if (verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
		    verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		    verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || verify == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    t->tls_ca ? "set remote.tls_ca (FLYWHEEL_TLS_CA) to the CA that signed the server's certificate; the configured one did not"
						      : "set remote.tls_ca (FLYWHEEL_TLS_CA) to the CA file that signed the server's certificate",
					    "server certificate is signed by an unknown CA (%s)",
					    X509_verify_cert_error_string(verify));
		if (verify == X509_V_OK || verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH ||
		    has(eb, "does not match") || has(eb, "subject name"))
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    "use the host name the certificate was issued for, or reissue it with this name in subjectAltName",
					    "server certificate does not match the name '%s'", ep->host ? ep->host : where);
		return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
				    "fix the server certificate chain, or set remote.tls_ca",
				    "server certificate rejected: %s", X509_verify_cert_error_string(verify));
	case CURLE_SSL_CACERT_BADFILE:
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, s,
				    "point remote.tls_ca (FLYWHEEL_TLS_CA) at a readable PEM file",
				    "cannot use CA file '%s'", t->tls_ca ? t->tls_ca : "(system)");
	case CURLE_SSL_CERTPROBLEM:
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, s,
				    "check remote.tls_client_cert and remote.tls_client_key (PEM, matching pair)",
				    "client certificate or key cannot be used (%s)", eb);
	default:
		break;
	}
	/* TLS alerts from the server: client certificates */
	if (ep->tls && (has(eb, "certificate required") || has(eb, "handshake failure") || has(eb, "bad certificate") ||
			has(eb, "unknown ca") || has(eb, "certificate unknown"))) {
		if (!t->tls_cert)
			return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
					    "set remote.tls_client_cert and remote.tls_client_key (FLYWHEEL_TLS_CLIENT_CERT/_KEY) to your client certificate",
					    "server requires a client certificate (mTLS)");
		return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
				    "use a client certificate signed by a CA the server trusts",
				    "server rejected the client certificate (%s)", eb);
	}
	if (ep->tls && (r->result == CURLE_SSL_CONNECT_ERROR || has(eb, "wrong version number") || has(eb, "SSL")))
		return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, s,
				    "check that the port speaks TLS (else use grpc:// or http://)",
				    "TLS handshake with %s failed (%s)", where, eb);
	if (r->result == CURLE_GOT_NOTHING)
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    t->ep->tls ? "check the endpoint URL and that the service runs" : "check the scheme: a TLS server needs grpcs:// or https://",
				    "%s closed the connection without answering", where);
	if (r->resp_overflow)
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    "check that the URL points at a REAPI or HTTP cache",
				    "answer larger than %u bytes: not a capabilities answer", PROBE_BODY_MAX);
	if (r->result == CURLE_HTTP2 || r->result == CURLE_HTTP2_STREAM || r->result == CURLE_WEIRD_SERVER_REPLY ||
	    r->result == CURLE_RECV_ERROR || r->result == CURLE_SEND_ERROR || r->result == CURLE_UNSUPPORTED_PROTOCOL)
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    r->kind == REQ_GRPC ? "check that host:port is a REAPI gRPC endpoint (grpc:// plain HTTP/2, grpcs:// TLS)"
							: "check that the URL is an HTTP cache",
				    "%s answered, but not with %s (%s)", where,
				    r->kind == REQ_GRPC ? "HTTP/2 gRPC" : "HTTP", eb);
	return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s, "check the endpoint URL and the network",
			    "request to %s failed (%s)", where, eb);
}

static int classify_http_status(long code, const struct probe_target *t, bool put, struct fw_error *err)
{
	const char *s = subject_of(t);
	if (code == 401)
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, s,
				    t->auth && t->auth->n ? "the credentials were refused: renew the token (remote.token_file) or check the header"
							  : "log in: set GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE (remote.token_file) or remote.header",
				    "not logged in (HTTP 401%s)", put ? " on upload" : "");
	if (code == 403)
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, s,
				    put ? "ask for write access, or set remote.upload=false for this lane"
					: "ask the cache's owners for read access for this identity",
				    "logged in, but not allowed to %s (HTTP 403)", put ? "upload" : "read");
	if (put && (code == 405 || code == 501))
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, s,
				    "set remote.upload=false (GF_BAZEL_REMOTE_UPLOAD) or enable PUT on the cache",
				    "cache does not accept uploads (HTTP %ld)", code);
	if (code >= 300 && code < 400)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, s,
				    "use the URL it redirects to: Bazel's cache client does not follow redirects",
				    "cache URL redirects (HTTP %ld)", code);
	return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s, "check the cache server and its URL path",
			    "cache answered HTTP %ld", code);
}

/* A TLS front (nginx and others) that completes the handshake without a
 * client certificate and then answers 400 naming it. */
static bool client_cert_refused(const struct req *r, const struct probe_target *t, long code)
{
	if (!t->ep->tls || code != 400 || !r->resp)
		return false;
	char text[512];
	size_t n = r->resp_len < sizeof(text) - 1 ? r->resp_len : sizeof(text) - 1;
	memcpy(text, r->resp, n);
	text[n] = '\0';
	return has(text, "SSL certificate");
}

static int client_cert_error(const struct probe_target *t, struct fw_error *err)
{
	if (!t->tls_cert)
		return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, subject_of(t),
				    "set remote.tls_client_cert and remote.tls_client_key (FLYWHEEL_TLS_CLIENT_CERT/_KEY) to your client certificate",
				    "server requires a client certificate (mTLS)");
	return fw_error_set(err, FW_CLASS_TLS, FW_EX_UNAVAILABLE, subject_of(t),
			    "use a client certificate signed by a CA the server trusts",
			    "server rejected the client certificate");
}

static int classify_grpc(struct req *r, const struct probe_target *t, struct probe_result *res,
			 struct fw_error *err)
{
	const char *s = subject_of(t);
	long code = res->http_status;
	if (client_cert_refused(r, t, code))
		return client_cert_error(t, err);
	if (code == 401 || code == 403)
		return classify_http_status(code, t, false, err);
	bool is_grpc = str_has_prefix(r->content_type, "application/grpc");
	if (!is_grpc || r->grpc_status < 0) {
		if (code == 404)
			return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, s,
					    "point the endpoint at a REAPI server (this one has no Capabilities service)",
					    "no REAPI Capabilities service here (HTTP 404)");
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    "check that host:port is a REAPI gRPC endpoint",
				    "answer is not gRPC (HTTP %ld, content-type '%s')", code,
				    r->content_type[0] ? r->content_type : "none");
	}
	res->grpc_status = r->grpc_status;
	const char *gm = r->grpc_message;
	const char *inst = t->instance && *t->instance ? t->instance : "(none)";
	switch (r->grpc_status) {
	case GRPC_OK:
		break;
	case GRPC_UNAUTHENTICATED:
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, s,
				    t->auth && t->auth->n ? "the credentials were refused: renew the token (remote.token_file) or check the header"
							  : "log in: set GF_REAPI_CREDENTIAL_HELPER_TOKEN_FILE (remote.token_file) or remote.header",
				    "not logged in (gRPC UNAUTHENTICATED%s%s)", gm[0] ? ": " : "", gm);
	case GRPC_PERMISSION_DENIED:
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, s,
				    "ask the server's owners for access to this instance, or use the right identity",
				    "logged in, but not allowed on instance %s (gRPC PERMISSION_DENIED%s%s)", inst,
				    gm[0] ? ": " : "", gm);
	case GRPC_INVALID_ARGUMENT:
	case GRPC_NOT_FOUND:
		return fw_error_set(err, FW_CLASS_INSTANCE, FW_EX_UNAVAILABLE, s,
				    "check remote.instance_name (BAZEL_REMOTE_INSTANCE_NAME)",
				    "server refused instance %s (gRPC %s%s%s)", inst, grpc_code_name(r->grpc_status),
				    gm[0] ? ": " : "", gm);
	case GRPC_UNIMPLEMENTED:
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, s,
				    "point the endpoint at a REAPI v2 server",
				    "server does not implement REAPI Capabilities (gRPC UNIMPLEMENTED)");
	case GRPC_RESOURCE_EXHAUSTED:
		return fw_error_set(err, FW_CLASS_QUOTA, FW_EX_TEMPFAIL, s, "wait and retry, or ask for more quota",
				    "server is out of quota (gRPC RESOURCE_EXHAUSTED%s%s)", gm[0] ? ": " : "", gm);
	default:
		return fw_error_set(err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, s,
				    "the server is unhealthy: retry later or ask its operators",
				    "server answered gRPC %s%s%s", grpc_code_name(r->grpc_status), gm[0] ? ": " : "", gm);
	}
	const uint8_t *msg;
	size_t mlen;
	if (reapi_unframe(r->resp, r->resp_len, &msg, &mlen) < 0 || reapi_caps_decode(msg, mlen, &res->caps) < 0)
		return fw_error_set(err, FW_CLASS_CAPABILITIES, FW_EX_UNAVAILABLE, s,
				    "check that the endpoint is a REAPI v2 server",
				    "Capabilities answer cannot be decoded");
	res->have_caps = true;
	return reapi_caps_check(&res->caps, t->role == PROBE_ROLE_EXECUTOR, t->want_upload, s, err);
}

static void finish_target(const struct probe_target *t, struct req *reqs, size_t nreq, size_t ti,
			  uint64_t budget_ms, struct probe_result *res)
{
	char detail[PROBE_DETAIL_MAX] = "";
	for (size_t k = 0; k < nreq; k++) {
		struct req *r = &reqs[k];
		if (r->target != ti || !r->easy)
			continue;
		if (!r->done) {
			r->result = CURLE_OPERATION_TIMEDOUT;
			if (!r->errbuf[0])
				snprintf(r->errbuf, sizeof(r->errbuf), "deadline of %llu ms reached", (unsigned long long)budget_ms);
		}
		curl_off_t total = 0;
		curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total);
		if (!r->done)
			total = (curl_off_t)budget_ms * 1000;
		uint64_t lat = res->dns_ns + (uint64_t)total * 1000u;
		if (lat > res->latency_ns)
			res->latency_ns = lat;
		if (fw_error_isset(&res->err))
			continue;
		/* a trailers-only answer followed by a stream reset (the server did
		 * not wait for the request body) is still an answer */
		if ((r->result == CURLE_HTTP2_STREAM || r->result == CURLE_HTTP2 || r->result == CURLE_SEND_ERROR) &&
		    r->kind == REQ_GRPC && r->grpc_status >= 0)
			r->result = CURLE_OK;
		if (r->result != CURLE_OK) {
			classify_transport(r, t, budget_ms, &res->err);
			continue;
		}
		long code = 0, ver = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &ver);
		if (r->kind == REQ_GRPC) {
			res->http_status = code;
			if (ver != CURL_HTTP_VERSION_2_0) {
				fw_error_set(&res->err, FW_CLASS_CONNECT, FW_EX_UNAVAILABLE, subject_of(t),
					     "check that host:port is a gRPC endpoint (it must offer HTTP/2 via ALPN)",
					     "server did not speak HTTP/2 (HTTP %ld)", code);
				continue;
			}
			if (classify_grpc(r, t, res, &res->err) == 0) {
				char caps[160];
				reapi_caps_describe(&res->caps, caps, sizeof(caps));
				snprintf(detail, sizeof(detail), "HTTP/2 gRPC OK: %s", caps);
			}
		} else {
			bool put = r->kind == REQ_HTTP_PUT;
			if (!put)
				res->http_status = code;
			bool ok = put ? (code == 200 || code == 201 || code == 204) : (code == 200 || code == 404);
			if (!ok && client_cert_refused(r, t, code)) {
				client_cert_error(t, &res->err);
				continue;
			}
			if (!ok) {
				classify_http_status(code, t, put, &res->err);
				continue;
			}
			size_t dl = strlen(detail);
			snprintf(detail + dl, sizeof(detail) - dl, "%s%s %ld", dl ? ", " : "", put ? "PUT" : "GET", code);
		}
	}
	res->healthy = !fw_error_isset(&res->err);
	if (res->healthy)
		snprintf(res->detail, sizeof(res->detail), "%s", detail);
	else
		snprintf(res->detail, sizeof(res->detail), "%s", res->err.what);
}

int probe_run(const struct probe_target *t, size_t n, uint64_t timeout_ms, struct probe_result *ret,
	      struct fw_error *err)
{
	if (n > PROBE_TARGETS_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "endpoints", "configure at most 32 endpoints",
				    "too many endpoints to probe");
	if (timeout_ms == 0)
		timeout_ms = PROBE_DEFAULT_TIMEOUT_MS;
	if (sodium_init() < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libsodium", NULL, "cannot initialise");
	uint64_t start = now_ns();
	uint64_t deadline = start + timeout_ms * 1000000u;
	for (size_t i = 0; i < n; i++) {
		memset(&ret[i], 0, sizeof(ret[i]));
		ret[i].grpc_status = -1;
	}
	if (n == 0)
		return 0;

	/* 1. every host, resolved once, in parallel */
	struct resolve_query q[PROBE_TARGETS_MAX];
	ssize_t qi[PROBE_TARGETS_MAX];
	size_t nq = 0;
	for (size_t i = 0; i < n; i++) {
		qi[i] = -1;
		if (t[i].ep->scheme == EP_UNIX)
			continue;
		memset(&q[nq], 0, sizeof(q[nq]));
		q[nq].host = t[i].ep->host;
		q[nq].port = t[i].ep->port;
		qi[i] = (ssize_t)nq++;
	}
	if (resolve_run(q, nq, deadline, err) < 0)
		return -1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libcurl", NULL, "cannot initialise");
	_cleanup_free_ char *metadata = NULL;
	if (reapi_metadata_header(FLYWHEEL_VERSION, &metadata) < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "probe", NULL, "cannot build request metadata");

	struct req reqs[2 * PROBE_TARGETS_MAX];
	size_t nreq = 0;
	memset(reqs, 0, sizeof(reqs));
	CURLM *multi = curl_multi_init();
	if (!multi)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libcurl", NULL, "cannot initialise");
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct resolve_query *qq = qi[i] >= 0 ? &q[qi[i]] : NULL;
		if (qq) {
			ret[i].dns_ns = qq->elapsed_ns;
			if (qq->status < 0) {
				resolve_error(qq, subject_of(&t[i]), timeout_ms, &ret[i].err);
				continue;
			}
		}
		uint64_t now = now_ns();
		uint64_t left_ms = deadline > now ? (deadline - now) / 1000000u : 1;
		if (left_ms == 0)
			left_ms = 1;
		enum ep_scheme sc = t[i].ep->scheme;
		bool grpc = sc == EP_GRPC || sc == EP_GRPCS || sc == EP_UNIX;
		enum req_kind kinds[2] = { grpc ? REQ_GRPC : REQ_HTTP_GET, REQ_HTTP_PUT };
		size_t nk = (!grpc && t[i].want_upload) ? 2 : 1;
		for (size_t k = 0; k < nk; k++) {
			struct req *r = &reqs[nreq++];
			r->target = i;
			r->kind = kinds[k];
			if (req_setup(r, &t[i], qq, left_ms, metadata) < 0 || curl_multi_add_handle(multi, r->easy) != CURLM_OK) {
				rc = fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, subject_of(&t[i]), NULL,
						  "cannot set up the request");
				goto out;
			}
		}
	}

	/* 2. all requests at once until done or the deadline */
	for (;;) {
		int running = 0;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct req *r = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			if (r) {
				r->done = true;
				r->result = m->data.result;
			}
		}
		if (running == 0)
			break;
		uint64_t now = now_ns();
		if (now >= deadline)
			break;
		uint64_t wait_ms = (deadline - now) / 1000000u + 1;
		curl_multi_poll(multi, NULL, 0, (int)(wait_ms > 1000 ? 1000 : wait_ms), NULL);
	}
	for (size_t i = 0; i < n; i++)
		if (!fw_error_isset(&ret[i].err))
			finish_target(&t[i], reqs, nreq, i, timeout_ms, &ret[i]);
		else {
			ret[i].latency_ns = ret[i].dns_ns;
			snprintf(ret[i].detail, sizeof(ret[i].detail), "%s", ret[i].err.what);
		}
out:
	for (size_t k = 0; k < nreq; k++) {
		if (reqs[k].easy)
			curl_multi_remove_handle(multi, reqs[k].easy);
		req_release(&reqs[k]);
	}
	curl_multi_cleanup(multi);
	return rc;
}

int probe_pick(const struct probe_result *r, const size_t *idx, size_t n, char *why, size_t len)
{
	int best = -1;
	size_t healthy = 0;
	for (size_t k = 0; k < n; k++) {
		const struct probe_result *x = &r[idx[k]];
		if (!x->healthy)
			continue;
		healthy++;
		if (best < 0 || x->latency_ns < r[best].latency_ns)
			best = (int)idx[k];
	}
	if (best < 0) {
		snprintf(why, len, "none of %zu endpoint%s is healthy", n, n == 1 ? "" : "s");
		return -1;
	}
	if (n == 1)
		snprintf(why, len, "the only endpoint, healthy in %.1f ms", (double)r[best].latency_ns / 1e6);
	else if (healthy == 1)
		snprintf(why, len, "the only healthy one of %zu (%.1f ms)", n, (double)r[best].latency_ns / 1e6);
	else
		snprintf(why, len, "lowest latency of %zu healthy endpoints (%.1f ms)", healthy,
			 (double)r[best].latency_ns / 1e6);
	return best;
}
