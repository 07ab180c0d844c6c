/* resolve.h - name resolution with c-ares: A and AAAA in parallel for every
 * host, /etc/hosts honoured, under one hard deadline.
 *
 * The addresses are handed to libcurl as CURLOPT_RESOLVE entries
 * (resolve_curl_entry) so that nothing is resolved twice and libcurl's own
 * blocking resolver is never used.  Net module.
 */
#ifndef FLYWHEEL_RESOLVE_H
#define FLYWHEEL_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flywheel/error.h"

#define RESOLVE_ADDRS_MAX 8
#define RESOLVE_ADDR_LEN 46 /* INET6_ADDRSTRLEN */
#define RESOLVE_QUERIES_MAX 64

struct resolve_query {
	const char *host;    /* in: DNS name or IP literal (no brackets); borrowed */
	uint16_t port;       /* in: for the CURLOPT_RESOLVE entry */
	/* out: */
	int status;          /* 0; -ENOENT no such name; -ENODATA no address;
			      * -ETIMEDOUT deadline hit; -EHOSTUNREACH resolver failed */
	size_t n;
	char addrs[RESOLVE_ADDRS_MAX][RESOLVE_ADDR_LEN];
	bool literal;        /* host was an address: nothing was looked up */
	uint64_t elapsed_ns;
	char detail[128];    /* c-ares' error text on failure */
};

/* Resolve every q[i].host until all answered or the absolute deadline
 * (now_ns() clock) passes; statuses per query.  Returns 0, or fills err when
 * c-ares cannot be set up at all (class internal). */
int resolve_run(struct resolve_query *q, size_t n, uint64_t deadline_ns, struct fw_error *err);

/* "host:port:addr1,[v6addr],…" for CURLOPT_RESOLVE.  -ENOENT when q has no
 * address, -ENOSPC when buf is too small. */
int resolve_curl_entry(const struct resolve_query *q, char *buf, size_t len);

/* Describe a failed query as a dns-class error with its fix. Returns -1. */
int resolve_error(const struct resolve_query *q, const char *subject, uint64_t budget_ms,
		  struct fw_error *err);

#endif
