/* resolve.c - c-ares resolution of every endpoint host under one deadline. */
#include "flywheel/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

struct pending {
	struct resolve_query *q;
	uint64_t start;
	bool done;
};

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct pending *p = arg;
	struct resolve_query *q = p->q;
	p->done = true;
	q->elapsed_ns = now_ns() - p->start;
	if (status != ARES_SUCCESS) {
		switch (status) {
		case ARES_ENOTFOUND:
			q->status = -ENOENT;
			break;
		case ARES_ENODATA:
			q->status = -ENODATA;
			break;
		case ARES_ETIMEOUT:
		case ARES_ECANCELLED:
		case ARES_EDESTRUCTION:
			q->status = -ETIMEDOUT;
			break;
		default:
			q->status = -EHOSTUNREACH;
		}
		snprintf(q->detail, sizeof(q->detail), "%s", ares_strerror(status));
		if (res)
			ares_freeaddrinfo(res);
		return;
	}
	q->n = 0;
	/* IPv4 first, then IPv6: loopback test servers and most caches listen on v4 */
	for (int pass = 0; pass < 2; pass++) {
		for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && q->n < RESOLVE_ADDRS_MAX; n = n->ai_next) {
			if ((pass == 0) != (n->ai_family == AF_INET))
				continue;
			const void *src = n->ai_family == AF_INET
						  ? (const void *)&((const struct sockaddr_in *)(const void *)n->ai_addr)->sin_addr
						  : (const void *)&((const struct sockaddr_in6 *)(const void *)n->ai_addr)->sin6_addr;
			if (!inet_ntop(n->ai_family, src, q->addrs[q->n], RESOLVE_ADDR_LEN))
				continue;
			bool dup = false;
			for (size_t i = 0; i < q->n; i++)
				dup |= strcmp(q->addrs[i], q->addrs[q->n]) == 0;
			if (!dup)
				q->n++;
		}
	}
	q->status = q->n ? 0 : -ENODATA;
	if (!q->n)
		snprintf(q->detail, sizeof(q->detail), "no A or AAAA record");
	ares_freeaddrinfo(res);
}

static bool is_literal(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int resolve_run(struct resolve_query *q, size_t n, uint64_t deadline_ns, struct fw_error *err)
{
	if (n > RESOLVE_QUERIES_MAX)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "endpoints", "configure fewer endpoints",
				    "more than %d hosts to resolve", RESOLVE_QUERIES_MAX);
	struct pending pend[RESOLVE_QUERIES_MAX];
	size_t lookups = 0;
	for (size_t i = 0; i < n; i++) {
		q[i].n = 0;
		q[i].detail[0] = '\0';
		q[i].literal = is_literal(q[i].host);
		q[i].status = -ETIMEDOUT;
		if (q[i].literal) {
			snprintf(q[i].addrs[0], RESOLVE_ADDR_LEN, "%s", q[i].host);
			q[i].n = 1;
			q[i].status = 0;
			q[i].elapsed_ns = 0;
		} else {
			lookups++;
		}
	}
	if (lookups == 0)
		return 0;

	int r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "c-ares", NULL, "%s", ares_strerror(r));
	uint64_t now = now_ns();
	uint64_t budget_ms = deadline_ns > now ? (deadline_ns - now) / 1000000u : 1;
	struct ares_options opts = { 0 };
	/* several tries inside the budget: one lost UDP packet must not cost it all */
	opts.timeout = (int)(budget_ms / 3 > 50 ? budget_ms / 3 : 50);
	opts.tries = 3;
	ares_channel ch;
	r = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		ares_library_cleanup();
		return fw_error_set(err, FW_CLASS_DNS, FW_EX_UNAVAILABLE, "resolver",
				    "check /etc/resolv.conf", "cannot initialise the resolver: %s", ares_strerror(r));
	}
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	size_t np = 0;
	for (size_t i = 0; i < n; i++) {
		if (q[i].literal)
			continue;
		pend[np] = (struct pending){ .q = &q[i], .start = now_ns() };
		ares_getaddrinfo(ch, q[i].host, NULL, &hints, on_addrinfo, &pend[np]);
		np++;
	}
	for (;;) {
		bool all = true;
		for (size_t i = 0; i < np; i++)
			all &= pend[i].done;
		if (all)
			break;
		now = now_ns();
		if (now >= deadline_ns)
			break;
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		nfds_t nfds = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (ARES_GETSOCK_READABLE(bits, i))
				ev |= POLLIN;
			/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31 (undefined) */
			if ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev)
				pfd[nfds++] = (struct pollfd){ .fd = socks[i], .events = ev };
		}
		struct timeval tv_max, tv;
		uint64_t left = deadline_ns - now;
		tv_max.tv_sec = (time_t)(left / 1000000000u);
		tv_max.tv_usec = (suseconds_t)((left % 1000000000u) / 1000u);
		struct timeval *tvp = ares_timeout(ch, &tv_max, &tv);
		int ms = (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) + 1;
		int pr = poll(pfd, nfds, ms);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (nfds_t i = 0; i < nfds; i++)
			ares_process_fd(ch, pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD,
					pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
	}
	/* deadline: whatever is still pending is cancelled and marked timed out */
	ares_cancel(ch);
	for (size_t i = 0; i < np; i++)
		if (pend[i].q->status == -ETIMEDOUT && !pend[i].q->detail[0])
			snprintf(pend[i].q->detail, sizeof(pend[i].q->detail), "no answer before the deadline");
	ares_destroy(ch);
	ares_library_cleanup();
	return 0;
}

int resolve_curl_entry(const struct resolve_query *q, char *buf, size_t len)
{
	if (q->n == 0)
		return -ENOENT;
	int w = snprintf(buf, len, "%s:%u:", q->host, (unsigned)q->port);
	if (w < 0 || (size_t)w >= len)
		return -ENOSPC;
	size_t off = (size_t)w;
	for (size_t i = 0; i < q->n; i++) {
		bool v6 = strchr(q->addrs[i], ':') != NULL;
		w = snprintf(buf + off, len - off, "%s%s%s%s", i ? "," : "", v6 ? "[" : "", q->addrs[i], v6 ? "]" : "");
		if (w < 0 || (size_t)w >= len - off)
			return -ENOSPC;
		off += (size_t)w;
	}
	return 0;
}

int resolve_error(const struct resolve_query *q, const char *subject, uint64_t budget_ms,
		  struct fw_error *err)
{
	switch (q->status) {
	case -ENOENT:
		return fw_error_set(err, FW_CLASS_DNS, FW_EX_UNAVAILABLE, subject,
				    "check the host name for typos, or connect the VPN that serves it",
				    "host '%s' does not exist (%s)", q->host, q->detail);
	case -ENODATA:
		return fw_error_set(err, FW_CLASS_DNS, FW_EX_UNAVAILABLE, subject,
				    "check the host name; the name exists but has no address",
				    "host '%s' has no IPv4 or IPv6 address", q->host);
	case -ETIMEDOUT:
		return fw_error_set(err, FW_CLASS_DNS, FW_EX_UNAVAILABLE, subject,
				    "check the network or VPN and the nameservers in /etc/resolv.conf",
				    "no DNS answer for '%s' within %llu ms", q->host, (unsigned long long)budget_ms);
	default:
		return fw_error_set(err, FW_CLASS_DNS, FW_EX_UNAVAILABLE, subject,
				    "check the nameservers in /etc/resolv.conf",
				    "cannot resolve '%s' (%s)", q->host, q->detail);
	}
}
