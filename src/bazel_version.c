/* bazel_version.c - parsing Bazel version strings and the one version table.
 *
 * Every version-dependent spelling or behaviour lives in cap_table below;
 * nothing else in flywheel compares version numbers.  Rows are data: a
 * capability, the first version it applies to (inclusive), the version it
 * stops applying at (exclusive, or none), the spelling, and where the fact
 * comes from (see docs/COMPATIBILITY.md, generated from this table).
 *
 * Pre-releases: a release candidate ("8.0.0rc2") is cut from the release
 * branch and carries that release's flags, so it counts as 8.0.0.  A rolling
 * pre-release ("7.0.0-pre.20230517.4", "6.0.0-pre.20220112.2") is a snapshot
 * of master taken up to a year before the release: it sorts before its
 * release, so it gets the previous spellings (which the later versions still
 * accept through Bazel's oldName aliases).
 *
 * Unknown versions are treated as 0.0.0: only rows that start at 0 apply,
 * which are the oldest spellings flywheel supports (Bazel 4.0 and later).
 */
#include "flywheel/bazel_version.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/util.h"

#include "flywheel/banned.h"

#define NOMAX -1, 0, 0
#define V(a, b, c) a, b, c

static const struct bazel_cap_row cap_table[] = {
	{ CAP_CREDENTIAL_HELPER, V(0, 0, 0), V(5, 4, 0), false, NULL,
	  "no credential helper before 5.4 (EngFlow credential-helper-spec)" },
	{ CAP_CREDENTIAL_HELPER, V(5, 4, 0), V(7, 0, 0), true, "experimental_credential_helper",
	  "5.4 release notes, PR #16880; 6.3 adds the stable name (PR #18752) and keeps this one" },
	{ CAP_CREDENTIAL_HELPER, V(7, 0, 0), NOMAX, true, "credential_helper",
	  "7.0 release notes; scopes host=path, *.host=path or unscoped" },
	{ CAP_CREDENTIAL_HELPER_DOWNLOADS, V(6, 3, 0), NOMAX, true, NULL,
	  "helper also used for repository downloads, PR #18429" },
	{ CAP_CREDENTIAL_HELPER_EXPIRES, V(7, 1, 0), NOMAX, true, NULL,
	  "helper \"expires\" honoured, PR #21429" },
	{ CAP_INJECT_REPOSITORY, V(8, 0, 0), NOMAX, true, "inject_repository",
	  "8.0 release notes" },
	{ CAP_OVERRIDE_REPOSITORY, V(0, 0, 0), NOMAX, true, "override_repository",
	  "every supported version (checked in 4.2.3 RepositoryOptions)" },
	{ CAP_DOWNLOADER_CONFIG, V(0, 0, 0), V(8, 2, 0), true, "experimental_downloader_config",
	  "checked in 4.2.3; the old name stays accepted later" },
	{ CAP_DOWNLOADER_CONFIG, V(8, 2, 0), NOMAX, true, "downloader_config",
	  "PR #25660" },
	{ CAP_EXECLOG_JSON, V(0, 0, 0), NOMAX, true, "execution_log_json_file",
	  "every supported version (checked in 4.2.3 ExecutionOptions)" },
	{ CAP_EXECLOG_COMPACT, V(7, 1, 0), V(7, 4, 0), true, "experimental_execution_log_compact_file",
	  "PR #21165" },
	{ CAP_EXECLOG_COMPACT, V(7, 4, 0), NOMAX, true, "execution_log_compact_file",
	  "PR #23825" },
	{ CAP_EXECLOG_ONE_FORMAT, V(9, 2, 0), NOMAX, true, NULL,
	  "only one execution log format per invocation from 9.2" },
	{ CAP_REMOTE_CACHE_FALLBACK, V(8, 5, 1), NOMAX, true,
	  "incompatible_remote_local_fallback_for_remote_cache",
	  "PRs #27996, #28001 (8.5.1 and 9.0); needs --remote_local_fallback too" },
	{ CAP_CIRCUIT_BREAKER, V(6, 3, 0), NOMAX, true, "experimental_circuit_breaker_strategy",
	  "PR #18541" },
	{ CAP_REPO_CANONICAL_ID, V(7, 0, 0), NOMAX, true, NULL,
	  "repository cache hit needs the id-<sha256(urls)> marker, PR #19549" },
	{ CAP_EXECLOG_CACHEHIT_KEY, V(0, 0, 0), V(7, 0, 0), false, "remoteCacheHit",
	  "JSON execution log field 13 before 7.0 (checked in 4.2.3)" },
	{ CAP_EXECLOG_CACHEHIT_KEY, V(7, 0, 0), NOMAX, true, "cacheHit",
	  "same proto field 13 renamed in 7.0" },
	{ CAP_REMOTE_CACHE_CHECK_BACKGROUND, V(7, 0, 0), V(8, 0, 0), true, NULL,
	  "7.x: error line then a silent all-local build (#25965); 8.0 fails at the first action (#27734)" },
	{ CAP_REMOTE_CACHE_FAIL_AT_ACTION, V(8, 0, 0), NOMAX, true, NULL,
	  "8.0+: fails at the first action (#27734) unless both fallback flags (8.5.1+)" },
	{ CAP_REPOSITORY_DISABLE_DOWNLOAD, V(4, 2, 0), V(7, 0, 0), true,
	  "experimental_repository_disable_download",
	  "PR #12940 (Feb 2021; checked in 4.2.3, 4.1 not confirmed)" },
	{ CAP_REPOSITORY_DISABLE_DOWNLOAD, V(7, 0, 0), NOMAX, true, "repository_disable_download",
	  "renamed for 7.0, old name kept as oldName" },
};

static const char *const cap_names[CAP__MAX] = {
	[CAP_CREDENTIAL_HELPER] = "credential helper",
	[CAP_CREDENTIAL_HELPER_DOWNLOADS] = "credential helper for repository downloads",
	[CAP_CREDENTIAL_HELPER_EXPIRES] = "credential helper expires honoured",
	[CAP_INJECT_REPOSITORY] = "repository injection (inject)",
	[CAP_OVERRIDE_REPOSITORY] = "repository override",
	[CAP_DOWNLOADER_CONFIG] = "downloader config",
	[CAP_EXECLOG_JSON] = "execution log (JSON)",
	[CAP_EXECLOG_COMPACT] = "execution log (compact)",
	[CAP_EXECLOG_ONE_FORMAT] = "one execution log format per invocation",
	[CAP_REMOTE_CACHE_FALLBACK] = "local fallback for remote cache",
	[CAP_CIRCUIT_BREAKER] = "remote circuit breaker",
	[CAP_REPO_CANONICAL_ID] = "repository cache canonical id",
	[CAP_EXECLOG_CACHEHIT_KEY] = "execution log JSON cache-hit key",
	[CAP_REMOTE_CACHE_CHECK_BACKGROUND] = "remote cache check in background",
	[CAP_REPOSITORY_DISABLE_DOWNLOAD] = "repository download disable",
	[CAP_REMOTE_CACHE_FAIL_AT_ACTION] = "unreachable cache fails at first action",
};

const struct bazel_cap_row *bazel_cap_table(size_t *ret_n)
{
	*ret_n = FW_ARRAY_SIZE(cap_table);
	return cap_table;
}

const char *bazel_cap_name(enum bazel_cap cap)
{
	if ((unsigned)cap >= CAP__MAX || !cap_names[cap])
		return "unknown capability";
	return cap_names[cap];
}

/* ---- parsing ------------------------------------------------------------ */

static bool is_rolling_pre(const char *pre)
{
	return str_has_prefix(pre, "pre");
}

static int parse_uint_part(const char **pp, unsigned *ret)
{
	const char *p = *pp;
	unsigned long v = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 99999)
			return -ERANGE;
		p++;
	}
	*ret = (unsigned)v;
	*pp = p;
	return 0;
}

/* "7.4.1", "8.0.0rc2", "6.0.0-pre.20220112.2", "7.4.1- (@non-git)".
 * Returns true when s holds a version; fills major.minor.patch and pre. */
static bool parse_numbers(const char *s, struct bazel_version *v)
{
	const char *p = s;
	unsigned a, b, c;
	if (parse_uint_part(&p, &a) < 0 || *p++ != '.')
		return false;
	if (parse_uint_part(&p, &b) < 0 || *p++ != '.')
		return false;
	if (parse_uint_part(&p, &c) < 0)
		return false;
	char pre[sizeof(v->pre)] = "";
	if (str_has_prefix(p, "rc")) {
		const char *q = p + 2;
		unsigned n;
		if (parse_uint_part(&q, &n) < 0 || (*q && *q != ' '))
			return false;
		snprintf(pre, sizeof(pre), "rc%u", n);
	} else if (*p == '-') {
		p++;
		size_t n = strcspn(p, " \t");
		if (n >= sizeof(pre))
			return false;
		memcpy(pre, p, n);
		pre[n] = '\0';
		p += n;
		if (*p && *p != ' ' && *p != '\t')
			return false;
	} else if (*p && *p != ' ' && *p != '\t') {
		return false;
	}
	v->major = a;
	v->minor = b;
	v->patch = c;
	memcpy(v->pre, pre, sizeof(pre));
	return true;
}

int bazel_version_parse(const char *text, struct bazel_version *ret)
{
	if (!text)
		return -EINVAL;
	for (const unsigned char *q = (const unsigned char *)text; *q; q++)
		if ((*q < 0x20 && *q != '\n' && *q != '\r' && *q != '\t') || *q == 0x7f)
			return -EINVAL;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	/* first line only; `bazel --version` prints one */
	size_t len = strcspn(text, "\r\n");
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	struct bazel_version v = { 0 };
	if (len >= sizeof(v.raw))
		return -EINVAL;
	memcpy(v.raw, text, len);
	v.raw[len] = '\0';

	const char *s = v.raw;
	static const char *const prefixes[] = { "bazel ", "Build label: ", "release ", "blaze " };
	for (size_t i = 0; i < FW_ARRAY_SIZE(prefixes); i++) {
		const char *a = str_after(s, prefixes[i]);
		if (a) {
			s = a;
			break;
		}
	}
	v.known = parse_numbers(s, &v);
	if (!v.known)
		v.major = v.minor = v.patch = 0;
	*ret = v; /* source and origin are the caller's to fill */
	return 0;
}

int bazel_version_cmp(const struct bazel_version *a, const struct bazel_version *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	bool ap = a->pre[0] != '\0', bp = b->pre[0] != '\0';
	if (ap != bp)
		return ap ? -1 : 1;
	int c = strcmp(a->pre, b->pre);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/* ---- the table lookup ------------------------------------------------------ */

/* Version as compared against the table: (major, minor, patch, rolling). */
static long long cap_key(unsigned a, unsigned b, unsigned c, bool rolling)
{
	return (((long long)a * 100000 + b) * 100000 + c) * 2 + (rolling ? 0 : 1);
}

static const struct bazel_cap_row *find_row(const struct bazel_version *v, enum bazel_cap cap)
{
	long long k = 0; /* unknown: below every release */
	if (v && v->known)
		k = cap_key(v->major, v->minor, v->patch, is_rolling_pre(v->pre));
	for (size_t i = 0; i < FW_ARRAY_SIZE(cap_table); i++) {
		const struct bazel_cap_row *r = &cap_table[i];
		if (r->cap != cap)
			continue;
		long long lo = r->min_major == 0 && r->min_minor == 0 && r->min_patch == 0
			? 0 : cap_key((unsigned)r->min_major, (unsigned)r->min_minor, (unsigned)r->min_patch, false);
		if (k < lo)
			continue;
		if (r->max_major >= 0 &&
		    k >= cap_key((unsigned)r->max_major, (unsigned)r->max_minor, (unsigned)r->max_patch, false))
			continue;
		return r;
	}
	return NULL;
}

bool bazel_has(const struct bazel_version *v, enum bazel_cap cap)
{
	const struct bazel_cap_row *r = find_row(v, cap);
	return r && r->present;
}

const char *bazel_flag(const struct bazel_version *v, enum bazel_cap cap)
{
	const struct bazel_cap_row *r = find_row(v, cap);
	return r && r->present ? r->spelling : NULL;
}

const char *bazel_spelling(const struct bazel_version *v, enum bazel_cap cap)
{
	const struct bazel_cap_row *r = find_row(v, cap);
	return r ? r->spelling : NULL;
}

static const char *source_name(enum bv_source s)
{
	switch (s) {
	case BV_SRC_BINARY: return "binary";
	case BV_SRC_BAZELISK: return "bazelisk";
	case BV_SRC_CONFIG: return "config";
	case BV_SRC_NONE: break;
	}
	return "none";
}

void bazel_version_describe(const struct bazel_version *v, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	const char *origin = v->origin[0] ? v->origin : source_name(v->source);
	if (!v->known) {
		snprintf(buf, len, "unknown%s%s%s (from %s): using the oldest spellings",
			 v->raw[0] ? " \"" : "", v->raw, v->raw[0] ? "\"" : "", origin);
		return;
	}
	snprintf(buf, len, "%u.%u.%u%s%s (from %s)", v->major, v->minor, v->patch,
		 v->pre[0] && !str_has_prefix(v->pre, "rc") ? "-" : "", v->pre, origin);
}

/* ---- docs/COMPATIBILITY.md ------------------------------------------------ */

static const char *const sample_versions[] = {
	"4.2.3", "5.4.1", "6.2.0", "6.3.0", "7.0.0", "7.1.0", "7.4.1",
	"8.0.0", "8.2.0", "8.5.1", "9.1.0", "9.2.0", "no_version",
};

static int fmt_bound(char *buf, size_t len, int a, int b, int c)
{
	if (a < 0)
		return snprintf(buf, len, "-");
	if (a == 0 && b == 0 && c == 0)
		return snprintf(buf, len, "any");
	return snprintf(buf, len, "%d.%d.%d", a, b, c);
}

int bazel_compat_markdown(char **ret)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (!f)
		return -ENOMEM;
	fputs("# Bazel version compatibility\n\n"
	      "Generated from the version table in `src/bazel_version.c` by\n"
	      "`scripts/gen-compat.sh`; the unit test `bazel_version` fails when this file\n"
	      "differs from the table. Do not edit by hand.\n\n"
	      "Rows apply from `from` (inclusive) up to `until` (exclusive). `any` means every\n"
	      "version flywheel supports (4.0 and later). A release candidate (`8.0.0rc2`)\n"
	      "counts as its release; a rolling pre-release (`7.0.0-pre.20230517.4`) sorts\n"
	      "before its release. A Bazel whose version is unknown (Debian's `bazel\n"
	      "no_version`, no configured `bazel_version`) gets the oldest row.\n\n"
	      "## Table\n\n"
	      "| capability | from | until | present | spelling | source |\n"
	      "|---|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < FW_ARRAY_SIZE(cap_table); i++) {
		const struct bazel_cap_row *r = &cap_table[i];
		char lo[32], hi[32];
		fmt_bound(lo, sizeof(lo), r->min_major, r->min_minor, r->min_patch);
		fmt_bound(hi, sizeof(hi), r->max_major, r->max_minor, r->max_patch);
		fprintf(f, "| %s | %s | %s | %s | %s%s%s | %s |\n", bazel_cap_name(r->cap), lo, hi,
			r->present ? "yes" : "no", r->spelling ? "`" : "", r->spelling ? r->spelling : "",
			r->spelling ? "`" : "", r->source);
	}
	fputs("\n## Matrix\n\n`-` means absent; `yes` present without a flag of its own.\n\n| capability |", f);
	for (size_t j = 0; j < FW_ARRAY_SIZE(sample_versions); j++)
		fprintf(f, " %s |", sample_versions[j]);
	fputs("\n|---|", f);
	for (size_t j = 0; j < FW_ARRAY_SIZE(sample_versions); j++)
		fputs("---|", f);
	fputc('\n', f);
	for (int c = 0; c < CAP__MAX; c++) {
		fprintf(f, "| %s |", bazel_cap_name((enum bazel_cap)c));
		for (size_t j = 0; j < FW_ARRAY_SIZE(sample_versions); j++) {
			struct bazel_version v = { 0 };
			bazel_version_parse(sample_versions[j], &v);
			const char *sp = bazel_spelling(&v, (enum bazel_cap)c);
			bool has = bazel_has(&v, (enum bazel_cap)c);
			if (has && sp)
				fprintf(f, " `%s` |", sp);
			else if (has)
				fputs(" yes |", f);
			else if (sp)
				fprintf(f, " - (`%s`) |", sp);
			else
				fputs(" - |", f);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

/* ---- Bazelisk's resolution, offline ------------------------------------- */

#define BAZELISKRC_MAX (64 * 1024)
#define BAZELVERSION_MAX 4096
#define RESOLVE_DEPTH_MAX 256

static void trim_inplace(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	size_t k = strspn(s, " \t");
	if (k)
		memmove(s, s + k, n - k + 1);
}

/* value of key in a .bazeliskrc (KEY=VALUE lines, #comments, optional
 * "export ", optional quotes); copies into buf.  1 found, 0 not, -errno. */
static int bazeliskrc_get(const char *path, const char *key, char *buf, size_t len)
{
	_cleanup_free_ char *data = NULL;
	int r = read_small_file(path, BAZELISKRC_MAX, false, &data, NULL);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	int found = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		trim_inplace(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		const char *l = line;
		const char *e = str_after(l, "export ");
		if (e)
			l = e;
		size_t kn = strlen(key);
		if (strncmp(l, key, kn) != 0 || l[kn] != '=')
			continue;
		char val[256];
		if (strlen(l + kn + 1) >= sizeof(val))
			return -E2BIG;
		snprintf(val, sizeof(val), "%s", l + kn + 1);
		trim_inplace(val);
		size_t vn = strlen(val);
		if (vn >= 2 && (val[0] == '"' || val[0] == '\'') && val[vn - 1] == val[0]) {
			val[vn - 1] = '\0';
			memmove(val, val + 1, vn - 1);
		}
		snprintf(buf, len, "%s", val);
		found = 1; /* last assignment wins, as in a dotenv file */
	}
	return found;
}

static bool is_workspace_root(const char *dir)
{
	static const char *const markers[] = { "MODULE.bazel", "REPO.bazel", "WORKSPACE", "WORKSPACE.bazel" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(markers); i++) {
		_cleanup_free_ char *p = fw_asprintf("%s/%s", dir, markers[i]);
		struct stat st;
		if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return true;
	}
	return false;
}

/* Walk up from cwd to the first directory holding a workspace marker. */
static char *find_workspace_root(const char *cwd)
{
	_cleanup_free_ char *d = fw_strdup(cwd);
	if (!d)
		return NULL;
	for (int depth = 0; depth < RESOLVE_DEPTH_MAX; depth++) {
		if (is_workspace_root(d))
			return steal_ptr(&d);
		char *slash = strrchr(d, '/');
		if (!slash || strcmp(d, "/") == 0)
			return NULL;
		if (slash == d)
			d[1] = '\0';
		else
			*slash = '\0';
	}
	return NULL;
}

/* Fill ret from a Bazelisk version value found at origin. */
static void resolve_value(const char *value, const char *origin, struct bazel_version *ret)
{
	char val[128];
	snprintf(val, sizeof(val), "%s", value);
	trim_inplace(val);
	/* a fork ("org/7.4.1") downloads from a different place; the number is the same */
	const char *v = strrchr(val, '/');
	v = v ? v + 1 : val;
	struct bazel_version out = { 0 };
	if (bazel_version_parse(v, &out) < 0 || !out.known) {
		memset(&out, 0, sizeof(out));
		snprintf(out.raw, sizeof(out.raw), "%s", val);
		out.known = false;
		out.source = BV_SRC_BAZELISK;
		snprintf(out.origin, sizeof(out.origin),
			 "%s says \"%s\", which Bazelisk resolves with a download; flywheel never downloads Bazel",
			 origin, val);
		*ret = out;
		return;
	}
	out.source = BV_SRC_BAZELISK;
	snprintf(out.origin, sizeof(out.origin), "%s", origin);
	*ret = out;
}

/* "[silent:|warn:|error:]VERSION" (USE_BAZEL_FALLBACK_VERSION) */
static const char *fallback_value(const char *s)
{
	static const char *const kinds[] = { "silent:", "warn:", "error:" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(kinds); i++) {
		const char *a = str_after(s, kinds[i]);
		if (a)
			return a;
	}
	return s;
}

int bazelisk_resolve(const char *workspace, const char *cwd, char *const *envp,
		     struct bazel_version *ret)
{
	char here[PATH_MAX];
	if (!cwd) {
		if (!getcwd(here, sizeof(here)))
			return -errno;
		cwd = here;
	}
	const char *e = env_lookup(envp, "USE_BAZEL_VERSION");
	if (e && *e) {
		resolve_value(e, "USE_BAZEL_VERSION", ret);
		return 0;
	}
	_cleanup_free_ char *root = workspace ? fw_strdup(workspace) : find_workspace_root(cwd);
	_cleanup_free_ char *ws_rc = root ? fw_asprintf("%s/.bazeliskrc", root) : NULL;
	const char *home = env_lookup(envp, "HOME");
	_cleanup_free_ char *home_rc = home && *home ? fw_asprintf("%s/.bazeliskrc", home) : NULL;
	const char *rcs[] = { ws_rc, home_rc };
	char val[256];
	for (size_t i = 0; i < FW_ARRAY_SIZE(rcs); i++) {
		if (!rcs[i])
			continue;
		int r = bazeliskrc_get(rcs[i], "USE_BAZEL_VERSION", val, sizeof(val));
		if (r < 0)
			return r;
		if (r > 0 && val[0]) {
			resolve_value(val, rcs[i], ret);
			return 0;
		}
	}
	if (root) {
		_cleanup_free_ char *bv = fw_asprintf("%s/.bazelversion", root);
		if (!bv)
			return -ENOMEM;
		_cleanup_free_ char *data = NULL;
		int r = read_small_file(bv, BAZELVERSION_MAX, false, &data, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0) {
			data[strcspn(data, "\r\n")] = '\0';
			trim_inplace(data);
			if (data[0]) {
				resolve_value(data, bv, ret);
				return 0;
			}
		}
	}
	e = env_lookup(envp, "USE_BAZEL_FALLBACK_VERSION");
	if (e && *e) {
		resolve_value(fallback_value(e), "USE_BAZEL_FALLBACK_VERSION", ret);
		return 0;
	}
	for (size_t i = 0; i < FW_ARRAY_SIZE(rcs); i++) {
		if (!rcs[i])
			continue;
		int r = bazeliskrc_get(rcs[i], "USE_BAZEL_FALLBACK_VERSION", val, sizeof(val));
		if (r < 0)
			return r;
		if (r > 0 && val[0]) {
			resolve_value(fallback_value(val), rcs[i], ret);
			return 0;
		}
	}
	struct bazel_version out = { 0 };
	out.source = BV_SRC_BAZELISK;
	snprintf(out.origin, sizeof(out.origin),
		 "no USE_BAZEL_VERSION, .bazeliskrc or .bazelversion: Bazelisk would download the latest release");
	*ret = out;
	return 0;
}
