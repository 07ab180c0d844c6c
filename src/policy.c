/* policy.c - strict validation of the effective configuration, and the plan. */
#include "flywheel/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/endpoint.h"
#include "flywheel/banned.h"

#define POLICY_MAX_CACHES 16
#define POLICY_MAX_LIST 64

const char *fw_mode_name(enum fw_mode m)
{
	switch (m) {
	case FW_MODE_LOCAL: return "local";
	case FW_MODE_CACHE: return "cache";
	case FW_MODE_EXECUTOR: return "executor";
	}
	return "?";
}

void plan_init(struct fw_plan *p)
{
	memset(p, 0, sizeof(*p));
	strv_init(&p->cache_candidates);
	strv_init(&p->distdirs);
	strv_init(&p->inject_repos);
}

void plan_release(struct fw_plan *p)
{
	if (!p)
		return;
	char **strs[] = { &p->cache_url, &p->executor_url, &p->instance_name, &p->platform,
			  &p->credential_helper_path, &p->credential_helper_host, &p->rc_file,
			  &p->tls_ca, &p->tls_client_cert, &p->tls_client_key, &p->repository_cache,
			  &p->downloader_config, &p->chromium, &p->output_user_root, &p->output_base,
			  &p->exec_log_path, &p->bep_json_path, &p->token_file, &p->manifest,
			  &p->eligibility, &p->requested_mode_origin };
	for (size_t i = 0; i < FW_ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	strv_release(&p->cache_candidates);
	strv_release(&p->distdirs);
	strv_release(&p->inject_repos);
	memset(p, 0, sizeof(*p));
}

int policy_parse_mode(const char *s, enum fw_mode *ret)
{
	static const struct {
		const char *word;
		enum fw_mode mode;
	} words[] = {
		{ "local", FW_MODE_LOCAL },
		{ "cache", FW_MODE_CACHE },
		{ "executor", FW_MODE_EXECUTOR },
		{ "shared-cache-backed", FW_MODE_CACHE },
		{ "executor-backed", FW_MODE_EXECUTOR },
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(words); i++) {
		if (strcmp(s, words[i].word) == 0) {
			*ret = words[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

const char *policy_header_problem(const char *line)
{
	const char *eq = strchr(line, '=');
	if (!eq || eq == line)
		return "a header is NAME=VALUE";
	for (const char *p = line; p < eq; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return "header name may only hold letters, digits, '-' and '_'";
	}
	for (const char *p = eq + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "header value holds a control character";
	if (!eq[1])
		return "header value is empty";
	return NULL;
}

/* ---- helpers that fill err with the key's subject ------------------------ */

static int key_error(const struct config *c, struct fw_error *err, enum cfg_key k, const char *fix,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int key_error(const struct config *c, struct fw_error *err, enum cfg_key k, const char *fix,
		     const char *fmt, ...)
{
	char subject[FW_ERROR_SUBJECT_MAX];
	config_subject(c, k, subject, sizeof(subject));
	va_list ap;
	va_start(ap, fmt);
	fw_error_setv(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, fix, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *get(const struct config *c, enum cfg_key k)
{
	const char *v = config_get(c, k);
	return v && *v ? v : NULL;
}

/* Split a list on ',' ':' or white space ("grpcs://a:443" keeps its colons:
 * for endpoint lists only ',' and white space separate). */
static int split_list(const char *s, const char *seps, struct strv *out)
{
	_cleanup_free_ char *copy = fw_strdup(s);
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
		if (out->n >= POLICY_MAX_LIST)
			return -E2BIG;
		int r = strv_push(out, t);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_types(const struct config *c, struct fw_error *err)
{
	for (int k = 0; k < CFG__MAX; k++) {
		const char *v = get(c, (enum cfg_key)k);
		const struct cfg_keydef *d = &cfg_keys[k];
		if (!v)
			continue;
		if (has_placeholder(v))
			return key_error(c, err, (enum cfg_key)k, "set the real value; flywheel does not expand ${...} or $(...)",
					 "holds an unexpanded placeholder");
		if (d->flags & CK_BOOL) {
			bool b;
			if (parse_bool(v, &b) < 0)
				return key_error(c, err, (enum cfg_key)k, "use true or false", "'%s' is not a boolean", v);
		}
		if (d->flags & CK_NUM) {
			uint64_t n;
			if (parse_u64(v, 1000000000ull, &n) < 0)
				return key_error(c, err, (enum cfg_key)k, "use a whole number", "'%s' is not a number", v);
		}
		if ((d->flags & CK_PATH) && !(d->flags & CK_LIST) && v[0] != '/' &&
		    k != CFG_BAZEL_REAL && k != CFG_CREDENTIAL_HELPER && k != CFG_REAPI_CREDENTIAL_HELPER)
			return key_error(c, err, (enum cfg_key)k, "use an absolute path", "'%s' is not an absolute path", v);
	}
	return 0;
}

struct ep_rules {
	bool allow_loopback;
	struct strv deny;
};

static int check_endpoint(const struct config *c, struct fw_error *err, enum cfg_key k, const char *url, unsigned schemes,
			  const struct ep_rules *rules, struct endpoint *ret)
{
	struct endpoint ep;
	enum ep_error e = endpoint_parse(url, schemes, &ep);
	if (e != EP_OK)
		return key_error(c, err, k, ep_error_fix(e), "'%s': %s", e == EP_E_USERINFO ? "<redacted>" : url,
				 ep_error_text(e));
	if (ep.loopback && ep.scheme != EP_UNIX && !rules->allow_loopback) {
		endpoint_release(&ep);
		return key_error(c, err, k,
				 "loopback endpoints are refused unless GF_BAZEL_LOCAL_PROOF=port-forward (a tunnel) or remote.allow_loopback = true",
				 "'%s' is a loopback address", url);
	}
	if (endpoint_denied(&ep, rules->deny.v, rules->deny.n)) {
		endpoint_release(&ep);
		return key_error(c, err, k, "this endpoint is retired (remote.denylist): use the current endpoint from your team's flywheel.ini",
				 "'%s' is on the denylist", url);
	}
	if (ret)
		*ret = ep;
	else
		endpoint_release(&ep);
	return 0;
}

static bool file_present(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int policy_build_inner(const struct config *c, const struct policy_opts *o, struct fw_plan *p,
			      struct strv *notes, struct fw_error *err)
{
	if (check_types(c, err) < 0)
		return -1;

	/* loopback and denylist rules */
	struct ep_rules rules = { .allow_loopback = config_get_bool(c, CFG_ALLOW_LOOPBACK) };
	strv_init(&rules.deny);
	const char *lp = get(c, CFG_LOCAL_PROOF);
	if (lp) {
		if (strcmp(lp, "port-forward") != 0)
			return key_error(c, err, CFG_LOCAL_PROOF, "the only value is port-forward", "unknown value '%s'", lp);
		rules.allow_loopback = true;
	}
	int r = 0;
	const char *deny = get(c, CFG_DENYLIST);
	if (deny && split_list(deny, ", \t", &rules.deny) < 0) {
		strv_release(&rules.deny);
		return key_error(c, err, CFG_DENYLIST, "list at most 64 entries", "too many entries");
	}

	/* mode */
	enum fw_mode mode = FW_MODE_LOCAL;
	const char *mode_word = get(c, CFG_MODE);
	bool mode_explicit = mode_word != NULL;
	if (mode_word && policy_parse_mode(mode_word, &mode) < 0) {
		strv_release(&rules.deny);
		return key_error(c, err, CFG_MODE, "use local, cache or executor (or shared-cache-backed, executor-backed)",
				 "unknown mode '%s'", mode_word);
	}
	if (mode_explicit) {
		char subj[FW_ERROR_SUBJECT_MAX];
		config_subject(c, CFG_MODE, subj, sizeof(subj));
		p->requested_mode_origin = fw_strdup(subj);
	}

	/* endpoints */
	const char *cache = get(c, CFG_REMOTE_CACHE);
	const char *exec = get(c, CFG_REMOTE_EXECUTOR);
	const char *exec_cache = get(c, CFG_REMOTE_EXECUTOR_CACHE);
	if (cache) {
		struct strv list;
		strv_init(&list);
		if (split_list(cache, ", \t", &list) < 0 || list.n > POLICY_MAX_CACHES) {
			strv_release(&list);
			strv_release(&rules.deny);
			return key_error(c, err, CFG_REMOTE_CACHE, "list at most 16 caches", "too many caches");
		}
		for (size_t i = 0; i < list.n && r == 0; i++)
			r = check_endpoint(c, err, CFG_REMOTE_CACHE, list.v[i], EP_CACHE_SCHEMES, &rules, NULL);
		if (r == 0)
			r = strv_extend(&p->cache_candidates, &list) < 0 ? key_error(c, err, CFG_REMOTE_CACHE, NULL, "out of memory") : 0;
		strv_release(&list);
	}
	if (r == 0 && exec)
		r = check_endpoint(c, err, CFG_REMOTE_EXECUTOR, exec, EP_EXEC_SCHEMES, &rules, NULL);
	if (r == 0 && exec_cache)
		r = check_endpoint(c, err, CFG_REMOTE_EXECUTOR_CACHE, exec_cache, EP_CACHE_SCHEMES, &rules, NULL);
	strv_release(&rules.deny);
	if (r < 0)
		return -1;

	/* mode agreement */
	if (!mode_explicit)
		mode = cache ? FW_MODE_CACHE : FW_MODE_LOCAL;
	if (mode == FW_MODE_CACHE && !cache)
		return key_error(c, err, CFG_MODE, "set BAZEL_REMOTE_CACHE (remote.cache), or use --mode=local",
				 "cache mode needs a cache endpoint, and none is configured");
	if (mode == FW_MODE_EXECUTOR && !exec)
		return key_error(c, err, CFG_MODE, "set BAZEL_REMOTE_EXECUTOR (remote.executor), or use --mode=cache",
				 "executor mode needs an executor endpoint, and none is configured");
	if (!mode_explicit && exec && notes)
		strv_push(notes, "an executor is configured but executor mode is opt-in: set --mode=executor or GF_BAZEL_SUBSTRATE_MODE=executor-backed");
	p->mode = mode;
	if (mode == FW_MODE_EXECUTOR) {
		p->executor_url = fw_strdup(exec);
		if (exec_cache && strcmp(exec_cache, exec) != 0) {
			if (!config_get_bool(c, CFG_ALLOW_SEPARATE_EXECUTOR_CACHE))
				return key_error(c, err, CFG_REMOTE_EXECUTOR_CACHE,
						 "set GF_BAZEL_ALLOW_SEPARATE_EXECUTOR_CACHE=true if the split is intended, or drop it",
						 "a cache other than the executor's needs explicit permission");
			p->cache_url = fw_strdup(exec_cache);
		} else {
			p->cache_url = fw_strdup(exec);
		}
		if (cache && notes)
			strv_push(notes, "executor mode uses the executor's cache; BAZEL_REMOTE_CACHE is not passed");
	} else if (mode == FW_MODE_CACHE) {
		p->cache_url = fw_strdup(p->cache_candidates.v[0]);
	} else if ((cache || exec) && notes) {
		strv_push(notes, "local mode: the configured remote endpoints are not used");
	}

	/* instance name */
	const char *inst = get(c, CFG_INSTANCE_NAME);
	if (inst) {
		const char *why = instance_name_problem(inst);
		if (why)
			return key_error(c, err, CFG_INSTANCE_NAME, "use letters, digits, '.', '_', '-' and '/'-separated parts", "%s", why);
		p->instance_name = fw_strdup(inst);
	}

	/* uploads: only trusted writers, never a read-only lane */
	const char *role = get(c, CFG_CACHE_ROLE);
	if (role && strcmp(role, "read-only") != 0 && strcmp(role, "read-write") != 0)
		return key_error(c, err, CFG_CACHE_ROLE, "use read-only or read-write", "unknown role '%s'", role);
	bool read_only = role && strcmp(role, "read-only") == 0;
	p->upload = config_get_bool(c, CFG_UPLOAD) && !read_only;
	if (read_only && config_get_bool(c, CFG_UPLOAD) && notes)
		strv_push(notes, "GF_BAZEL_CACHE_ROLE=read-only overrides GF_BAZEL_REMOTE_UPLOAD=true: nothing is uploaded");

	/* fallback */
	const char *fb = get(c, CFG_FALLBACK);
	if (fb && strcmp(fb, "local") != 0 && strcmp(fb, "fail") != 0)
		return key_error(c, err, CFG_FALLBACK, "use local or fail", "unknown value '%s'", fb);
	p->fallback_local = fb ? strcmp(fb, "local") == 0 : !c->ci;

	/* headers */
	static const enum cfg_key header_keys[] = { CFG_HEADER, CFG_CACHE_HEADER, CFG_EXEC_HEADER };
	bool any_header = false;
	for (size_t i = 0; i < FW_ARRAY_SIZE(header_keys); i++) {
		const char *h = get(c, header_keys[i]);
		if (!h)
			continue;
		const char *why = policy_header_problem(h);
		if (why)
			return key_error(c, err, header_keys[i], "write NAME=VALUE, e.g. Authorization=Bearer <token>", "%s", why);
		any_header = true;
	}

	/* executor-mode settings */
	p->force_execution = config_get_bool(c, CFG_FORCE_EXECUTION);
	p->platform = fw_strdup(get(c, CFG_PLATFORM));
	p->jobs = config_get_u64(c, CFG_JOBS, 0);
	p->max_connections = config_get_u64(c, CFG_MAX_CONNECTIONS, 0);
	p->remote_timeout = config_get_u64(c, CFG_REMOTE_TIMEOUT, 0);
	if (p->platform && strpbrk(p->platform, ",= \t"))
		return key_error(c, err, CFG_PLATFORM, "use a platform name without ',', '=' or spaces", "bad platform name");

	/* TLS files */
	p->tls_ca = fw_strdup(get(c, CFG_TLS_CA));
	p->tls_client_cert = fw_strdup(get(c, CFG_TLS_CLIENT_CERT));
	p->tls_client_key = fw_strdup(get(c, CFG_TLS_CLIENT_KEY));
	if (!p->tls_client_cert != !p->tls_client_key)
		return key_error(c, err, p->tls_client_cert ? CFG_TLS_CLIENT_CERT : CFG_TLS_CLIENT_KEY,
				 "set both remote.tls_client_cert and remote.tls_client_key", "mTLS needs a certificate and its key");

	/* credentials */
	const char *tf = get(c, CFG_TOKEN_FILE);
	const char *deftf = o && o->default_token_file ? o->default_token_file : POLICY_DEFAULT_TOKEN_FILE;
	if (tf)
		p->token_file = fw_strdup(tf);
	else if (file_present(deftf))
		p->token_file = fw_strdup(deftf);
	p->has_credentials = any_header || p->token_file || get(c, CFG_TOKEN) || get(c, CFG_CREDENTIAL_HELPER);
	if (p->has_credentials && p->mode != FW_MODE_LOCAL) {
		if (o && o->version && bazel_has(o->version, CAP_CREDENTIAL_HELPER)) {
			p->cred = FW_CRED_HELPER;
			const char *helper = get(c, CFG_REAPI_CREDENTIAL_HELPER);
			p->credential_helper_path = fw_strdup(helper ? helper : (o->self_exe ? o->self_exe : "flywheel"));
		} else {
			p->cred = FW_CRED_RCFILE;
			if (notes)
				strv_push(notes, "this Bazel has no credential-helper protocol: headers go in a private 0600 rc file, and Bazel itself copies them into its output base logs (output user root kept 0700)");
		}
	}

	/* repository inputs */
	const char *dd = get(c, CFG_DISTDIR);
	if (dd) {
		if (split_list(dd, ":", &p->distdirs) < 0)
			return key_error(c, err, CFG_DISTDIR, "list at most 64 directories", "too many directories");
		for (size_t i = 0; i < p->distdirs.n; i++)
			if (p->distdirs.v[i][0] != '/')
				return key_error(c, err, CFG_DISTDIR, "use absolute paths", "'%s' is not absolute", p->distdirs.v[i]);
	}
	p->repository_cache = fw_strdup(get(c, CFG_REPOSITORY_CACHE));
	const char *inj = get(c, CFG_INJECT_REPOSITORIES);
	if (inj) {
		if (split_list(inj, ":", &p->inject_repos) < 0)
			return key_error(c, err, CFG_INJECT_REPOSITORIES, "list at most 64 repositories", "too many entries");
		for (size_t i = 0; i < p->inject_repos.n; i++) {
			const char *e = p->inject_repos.v[i];
			const char *eq = strchr(e, '=');
			bool ok = eq && eq != e && eq[1] == '/';
			for (const char *q = e; ok && q < eq; q++)
				ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
				     *q == '_' || *q == '-' || *q == '.' || *q == '+' || *q == '~';
			if (!ok)
				return key_error(c, err, CFG_INJECT_REPOSITORIES, "write name=/absolute/dir, colon-separated",
						 "bad entry '%s'", e);
		}
	}
	p->disable_download = config_get_bool(c, CFG_DISABLE_DOWNLOAD);
	p->downloader_config = fw_strdup(get(c, CFG_DOWNLOADER_CONFIG));
	p->chromium = fw_strdup(get(c, CFG_CHROMIUM));
	p->output_user_root = fw_strdup(get(c, CFG_OUTPUT_USER_ROOT));
	p->output_base = fw_strdup(get(c, CFG_OUTPUT_BASE));
	p->manifest = fw_strdup(get(c, CFG_MANIFEST));
	if (p->manifest && !p->repository_cache && p->distdirs.n == 0) {
		/* staged inputs need a destination Bazel is told about */
		const char *xdg = getenv("XDG_CACHE_HOME");
		const char *home = getenv("HOME");
		if (xdg && xdg[0] == '/')
			p->repository_cache = fw_asprintf("%s/flywheel/repository-cache", xdg);
		else if (home && home[0] == '/')
			p->repository_cache = fw_asprintf("%s/.cache/flywheel/repository-cache", home);
		if (p->repository_cache && notes)
			strv_pushf(notes, "inputs manifest without bazel.repository_cache or bazel.distdir: staging into %s",
				   p->repository_cache);
	}
	p->eligibility = fw_strdup(get(c, CFG_ELIGIBILITY));
	return 0;
}

int policy_build(const struct config *c, const struct policy_opts *o, struct fw_plan *p,
		 struct strv *notes, struct fw_error *err)
{
	int r = policy_build_inner(c, o, p, notes, err);
	if (r < 0 && !fw_error_isset(err))
		fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "policy", NULL, "out of memory");
	return r < 0 ? -1 : 0;
}
