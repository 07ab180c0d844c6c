/* buildreport.c - summary line and flywheel-status/1 JSON after a child-mode
 * build; also the runner classification shared with execlog.c (it lives in
 * core so that the launcher can use it without the log decoders). */
#include "flywheel/buildreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "flywheel/util.h"
#include "flywheel/banned.h"

const char *execlog_class_name(enum execlog_class c)
{
	static const char *const names[EXECLOG_CLASS__MAX] = {
		[EXECLOG_REMOTE] = "remote",
		[EXECLOG_REMOTE_CACHE_HIT] = "remote cache hit",
		[EXECLOG_DISK_CACHE_HIT] = "disk cache hit",
		[EXECLOG_LOCAL] = "local",
		[EXECLOG_OTHER] = "other",
	};
	return (unsigned)c < EXECLOG_CLASS__MAX ? names[c] : "other";
}

static bool span_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && memcmp(s, lit, n) == 0;
}

static bool span_ends(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(s + len - n, lit, n) == 0;
}

enum execlog_class execlog_classify(const char *runner, size_t len, bool cache_hit)
{
	if (span_eq(runner, len, "disk cache hit"))
		return EXECLOG_DISK_CACHE_HIT;
	/* A cache hit is never evidence of execution, whatever the runner says. */
	if (cache_hit || span_eq(runner, len, "remote cache hit"))
		return EXECLOG_REMOTE_CACHE_HIT;
	if (span_eq(runner, len, "remote"))
		return EXECLOG_REMOTE;
	static const char *const local[] = {
		"local", "standalone", "sandboxed", "worker", "multiplex-worker", "docker",
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(local); i++)
		if (span_eq(runner, len, local[i]))
			return EXECLOG_LOCAL;
	/* linux-sandbox, processwrapper-sandbox, darwin-sandbox, windows-sandbox, ... */
	if (span_ends(runner, len, "-sandbox") || span_ends(runner, len, "-worker"))
		return EXECLOG_LOCAL;
	return EXECLOG_OTHER;
}

/* One summary line: "6 processes: 2 remote cache hit, 4 internal." (text
 * up to the end of line, not NUL-terminated). */
static bool parse_line(const char *s, size_t n, struct buildreport_counts *c)
{
	struct buildreport_counts out;
	memset(&out, 0, sizeof(out));
	size_t i = 0;
	uint64_t v = 0;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '9' && v < UINT64_MAX / 10)
		v = v * 10 + (uint64_t)(s[i++] - '0');
	const char *kw = " processes";
	size_t kl = strlen(kw);
	if (n - i < kl || memcmp(s + i, kw, kl) != 0)
		return false;
	i += kl;
	out.total = v;
	if (i < n && s[i] == '.') {
		out.found = true;
		*c = out;
		return true;
	}
	if (n - i < 2 || s[i] != ':' || s[i + 1] != ' ')
		return false;
	i += 2;
	while (i < n) {
		uint64_t k = 0;
		if (s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9' && k < UINT64_MAX / 10)
			k = k * 10 + (uint64_t)(s[i++] - '0');
		if (i >= n || s[i] != ' ')
			return false;
		i++;
		size_t st = i;
		while (i < n && s[i] != ',' && s[i] != '.')
			i++;
		const char *name = s + st;
		size_t nl = i - st;
		if (span_eq(name, nl, "internal"))
			out.internal += k;
		else
			out.by_class[execlog_classify(name, nl, false)] += k;
		if (i >= n || s[i] == '.')
			break;
		i++; /* ',' */
		while (i < n && s[i] == ' ')
			i++;
	}
	out.found = true;
	*c = out;
	return true;
}

int buildreport_parse_summary(const char *text, size_t len, struct buildreport_counts *ret)
{
	memset(ret, 0, sizeof(*ret));
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *line = text + i;
		size_t ll = end - i;
		/* "INFO: 6 processes: ..." possibly behind colour escapes */
		const char *info = memmem(line, ll, "INFO: ", 6);
		if (info) {
			size_t off = (size_t)(info - line) + 6;
			/* colour: "\033[32mINFO: \033[0m6 processes: ..." */
			while (off < ll && line[off] == '\033') {
				while (off < ll && line[off] != 'm')
					off++;
				off++;
			}
			if (off > ll)
				off = ll;
			struct buildreport_counts c;
			if (parse_line(line + off, ll - off, &c))
				*ret = c;
		}
		i = end + 1;
	}
	return 0;
}

static uint64_t spawns_of(const struct buildreport_counts *c)
{
	uint64_t n = 0;
	for (int k = 0; k < EXECLOG_CLASS__MAX; k++)
		n += c->by_class[k];
	return n;
}

void buildreport_build(const struct buildreport_input *in, struct buildreport *ret)
{
	struct buildreport r;
	memset(&r, 0, sizeof(r));
	buildreport_parse_summary(in->stderr_tail ? in->stderr_tail : "", in->stderr_tail_len, &r.counts);
	uint64_t spawns = spawns_of(&r.counts);
	uint64_t hits = r.counts.by_class[EXECLOG_REMOTE_CACHE_HIT];
	if (r.counts.found && spawns > 0) {
		r.have_rate = true;
		r.cache_hit_rate = (double)hits / (double)spawns;
	}
	uint64_t slow_ms = in->slow_ms ? in->slow_ms : BUILDREPORT_SLOW_MS_DEFAULT;
	r.slow = in->elapsed_ms >= slow_ms;
	if (r.slow) {
		bool remote_mode = in->mode && strcmp(in->mode, "local") != 0;
		if (in->fallback_reason)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "remote unusable, built locally: %s",
				 in->fallback_reason);
		else if (in->quota_wait_ms > 0)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "waited %.1f s for remote quota",
				 (double)in->quota_wait_ms / 1000.0);
		else if (in->ineligible_reason)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "targets not eligible for the executor: %s",
				 in->ineligible_reason);
		else if (remote_mode && r.have_rate && r.cache_hit_rate < 0.5)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "cache misses: %llu of %llu spawns ran",
				 (unsigned long long)(spawns - hits), (unsigned long long)spawns);
		else if (in->fetches > 0)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "Bazel fetched %llu external inputs itself",
				 (unsigned long long)in->fetches);
		else if (!remote_mode)
			snprintf(r.likely_reason, sizeof(r.likely_reason), "local mode: no remote cache configured");
		else
			snprintf(r.likely_reason, sizeof(r.likely_reason), "no single cause found");
	}
	size_t off = (size_t)snprintf(r.summary, sizeof(r.summary), "build report: exit %d in %.1f s, mode %s%s%s%s",
				      in->exit_status, (double)in->elapsed_ms / 1000.0, in->mode ? in->mode : "local",
				      in->endpoint ? " (" : "", in->endpoint ? in->endpoint : "",
				      in->endpoint ? ")" : "");
	if (off < sizeof(r.summary) && r.counts.found) {
		off += (size_t)snprintf(r.summary + off, sizeof(r.summary) - off, ", %llu processes",
					(unsigned long long)r.counts.total);
		for (int k = 0; k < EXECLOG_CLASS__MAX && off < sizeof(r.summary); k++)
			if (r.counts.by_class[k])
				off += (size_t)snprintf(r.summary + off, sizeof(r.summary) - off, ", %llu %s",
							(unsigned long long)r.counts.by_class[k],
							execlog_class_name((enum execlog_class)k));
	}
	if (off < sizeof(r.summary) && r.have_rate)
		off += (size_t)snprintf(r.summary + off, sizeof(r.summary) - off, "; remote cache hit rate %.0f%%",
					r.cache_hit_rate * 100.0);
	if (off < sizeof(r.summary) && in->attempts > 1)
		off += (size_t)snprintf(r.summary + off, sizeof(r.summary) - off, "; %u attempts (quota)", in->attempts);
	if (off < sizeof(r.summary) && r.slow)
		snprintf(r.summary + off, sizeof(r.summary) - off, "; slow: %s", r.likely_reason);
	*ret = r;
}

char *buildreport_json(const struct buildreport_input *in, const struct buildreport *r)
{
	json_t *actions = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "known", r->counts.found, "total",
				    (json_int_t)r->counts.total, "internal", (json_int_t)r->counts.internal, "remote",
				    (json_int_t)r->counts.by_class[EXECLOG_REMOTE], "remote_cache_hit",
				    (json_int_t)r->counts.by_class[EXECLOG_REMOTE_CACHE_HIT], "disk_cache_hit",
				    (json_int_t)r->counts.by_class[EXECLOG_DISK_CACHE_HIT], "local",
				    (json_int_t)r->counts.by_class[EXECLOG_LOCAL], "other",
				    (json_int_t)r->counts.by_class[EXECLOG_OTHER]);
	json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:I, s:I, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:I, s:s}",
				 "schema", "flywheel-status/1", "kind", "build-report", "mode", in->mode ? in->mode : "local",
				 "endpoint", in->endpoint ? json_string(in->endpoint) : json_null(), "exit_code",
				 in->exit_status, "attempts", (int)in->attempts, "quota_wait_ms",
				 (json_int_t)in->quota_wait_ms, "elapsed_ms", (json_int_t)in->elapsed_ms, "actions",
				 actions ? actions : json_null(), "remote_cache_hit_rate",
				 r->have_rate ? json_real(r->cache_hit_rate) : json_null(),
				 /* the stderr summary has no timings; the execution log would */
				 "time_to_first_cache_hit_ms", json_null(), "slow", r->slow, "likely_reason",
				 r->slow ? json_string(r->likely_reason) : json_null(), "fallback_reason",
				 in->fallback_reason ? json_string(in->fallback_reason) : json_null(),
				 "ineligible_reason", in->ineligible_reason ? json_string(in->ineligible_reason) : json_null(),
				 "external_fetches", (json_int_t)in->fetches, "summary", r->summary);
	return fw_json_text(root);
}
