/* config.c - layered configuration with the origin of every value. */
#include "flywheel/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ini.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flywheel/envfile.h"
#include "flywheel/banned.h"

#define CONFIG_FILE_MAX (256 * 1024)
#define CONFIG_VALUE_MAX 4096
#define INI_LINE_MAX 4096

const struct cfg_keydef cfg_keys[CFG__MAX] = {
#define X(id, ini, env, env2, def, flags, doc) [CFG_##id] = { ini, env, env2, def, flags, doc },
	FW_CONFIG_KEYS(X)
#undef X
};

static const char *const layer_names[LAYER__MAX] = {
	[LAYER_DEFAULT] = "default",
	[LAYER_REPO] = "flywheel.ini",
	[LAYER_USER] = "user config",
	[LAYER_ENVFILE] = ".env.flywheel.local",
	[LAYER_ENV] = "environment",
	[LAYER_OPTION] = "command line",
};

const char *cfg_layer_name(enum cfg_layer l)
{
	return (unsigned)l < LAYER__MAX ? layer_names[l] : "?";
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
}

static void value_free(const struct cfg_keydef *d, struct cfg_value *v)
{
	if (v->value) {
		if (d->flags & CK_SECRET)
			sodium_free(v->value); /* wipes before unmapping */
		else
			free(v->value);
	}
	free(v->origin);
	v->value = NULL;
	v->origin = NULL;
}

static void pairs_free(struct cfg_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
		free(p[i].origin);
	}
	free(p);
}

void config_release(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CFG__MAX; i++)
		value_free(&cfg_keys[i], &c->v[i]);
	pairs_free(c->trust, c->n_trust);
	pairs_free(c->mirrors, c->n_mirrors);
	free(c->workspace);
	memset(c, 0, sizeof(*c));
}

int config_trust_entries(const struct config *c, struct strv *ret)
{
	for (size_t i = 0; i < c->n_trust; i++) {
		int r = strv_pushf(ret, "%s=%s", c->trust[i].name, c->trust[i].value);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_key_lookup(const char *name)
{
	if (!name || !*name)
		return -1;
	for (int i = 0; i < CFG__MAX; i++) {
		const struct cfg_keydef *d = &cfg_keys[i];
		if (strcmp(d->ini, name) == 0 || strcmp(d->env, name) == 0 ||
		    (d->env2[0] && strcmp(d->env2, name) == 0))
			return i;
	}
	return -1;
}

static char *secret_dup(const char *s)
{
	static bool sodium_ready;
	if (!sodium_ready) {
		if (sodium_init() < 0)
			return NULL;
		sodium_ready = true;
	}
	size_t n = strlen(s) + 1;
	char *p = sodium_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* Make a relative path absolute against base_dir (a file's directory or cwd). */
static char *absolutize(const char *value, const char *base_dir)
{
	if (value[0] == '/' || value[0] == '\0' || !base_dir)
		return fw_strdup(value);
	return fw_asprintf("%s/%s", base_dir, value);
}

static char *absolutize_list(const char *value, const char *base_dir)
{
	if (!base_dir)
		return fw_strdup(value);
	size_t cap = strlen(value) * 2 + strlen(base_dir) * 8 + 16;
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ char *copy = fw_strdup(value);
	if (!copy)
		return NULL;
	size_t len = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *abs = absolutize(tok, base_dir);
		if (!abs)
			return NULL;
		size_t need = len + strlen(abs) + 2;
		if (need > cap)
			cap = need * 2;
		char *n = realloc(out, cap);
		if (!n)
			return NULL;
		out = n;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ":" : "", abs);
	}
	if (!out)
		return fw_strdup("");
	return steal_ptr(&out);
}

int config_set(struct config *c, enum cfg_key k, const char *value, enum cfg_layer layer,
	       const char *name, const char *origin, struct fw_error *err)
{
	const struct cfg_keydef *d = &cfg_keys[k];
	if (strlen(value) > CONFIG_VALUE_MAX) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s from %s", name, origin);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, "shorten it",
				    "value longer than %d bytes", CONFIG_VALUE_MAX);
	}
	char *v = (d->flags & CK_SECRET) ? secret_dup(value) : fw_strdup(value);
	char *o = fw_strdup(origin);
	if (!v || !o) {
		if (v && (d->flags & CK_SECRET))
			sodium_free(v);
		else
			free(v);
		free(o);
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	}
	value_free(d, &c->v[k]);
	c->v[k].value = v;
	c->v[k].origin = o;
	c->v[k].layer = layer;
	c->v[k].name = name;
	return 0;
}

const char *config_get(const struct config *c, enum cfg_key k)
{
	return c->v[k].value;
}

bool config_get_bool(const struct config *c, enum cfg_key k)
{
	bool b = false;
	const char *v = c->v[k].value;
	return v && parse_bool(v, &b) == 0 && b;
}

uint64_t config_get_u64(const struct config *c, enum cfg_key k, uint64_t def)
{
	uint64_t n;
	const char *v = c->v[k].value;
	if (!v || !*v || parse_u64(v, UINT64_MAX, &n) < 0)
		return def;
	return n;
}

int config_subject(const struct config *c, enum cfg_key k, char *buf, size_t len)
{
	const struct cfg_value *v = &c->v[k];
	const char *name = v->name ? v->name : cfg_keys[k].ini;
	switch (v->layer) {
	case LAYER_DEFAULT:
		return snprintf(buf, len, "%s (default)", name);
	case LAYER_ENV:
		return snprintf(buf, len, "%s from environment", name);
	case LAYER_OPTION:
		return snprintf(buf, len, "%s from the command line", name);
	default:
		return snprintf(buf, len, "%s from %s", name, v->origin ? v->origin : cfg_layer_name(v->layer));
	}
}

/* ---- ini files ---------------------------------------------------------- */

struct ini_ctx {
	struct config *c;
	enum cfg_layer layer;
	const char *path;
	char *dir;
	const char *data;
	size_t len, pos;
	unsigned line;
	bool line_too_long;
	bool seen[CFG__MAX];
	struct fw_error *err;
};

/* inih reader: hands out one line at a time so the handler knows its number. */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *x = stream;
	if (x->pos >= x->len || x->line_too_long || fw_error_isset(x->err))
		return NULL;
	const char *start = x->data + x->pos;
	const char *nl = memchr(start, '\n', x->len - x->pos);
	size_t n = nl ? (size_t)(nl - start) + 1 : x->len - x->pos;
	x->line++;
	if (n + 1 > (size_t)num || memchr(start, '\0', n)) {
		x->line_too_long = true;
		return NULL;
	}
	memcpy(str, start, n);
	str[n] = '\0';
	x->pos += n;
	return str;
}

static int ini_fail(struct ini_ctx *x, const char *key, const char *fix, const char *what)
{
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "%s from %s:%u", key, x->path, x->line);
	fw_error_set(x->err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, fix, "%s", what);
	return 0; /* inih: stop counting this line as good */
}

static int pair_add(struct cfg_pair **arr, size_t *n, const char *name, const char *value, const char *origin)
{
	if (*n >= CFG_PAIRS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*arr)[i].name, name) == 0) {
			char *v = fw_strdup(value), *o = fw_strdup(origin);
			if (!v || !o) {
				free(v);
				free(o);
				return -ENOMEM;
			}
			free((*arr)[i].value);
			free((*arr)[i].origin);
			(*arr)[i].value = v;
			(*arr)[i].origin = o;
			return 0;
		}
	}
	struct cfg_pair *na = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!na)
		return -ENOMEM;
	*arr = na;
	struct cfg_pair *p = &na[*n];
	p->name = fw_strdup(name);
	p->value = fw_strdup(value);
	p->origin = fw_strdup(origin);
	if (!p->name || !p->value || !p->origin) {
		free(p->name);
		free(p->value);
		free(p->origin);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* A credential pasted into the committed policy file. */
static bool looks_secret(const char *value)
{
	static const char *const marks[] = { "Bearer ", "bearer ", "Basic ", "Authorization", "authorization",
					     "x-api-key", "X-Api-Key", "token=" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(marks); i++)
		if (strstr(value, marks[i]))
			return true;
	return false;
}

static int ini_on_value(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	if (fw_error_isset(x->err))
		return 0;
	char origin[FW_ERROR_SUBJECT_MAX];
	snprintf(origin, sizeof(origin), "%s:%u", x->path, x->line);

	/* [trust] and [mirrors] are free-form, except the one key of [mirrors]
	 * that names a hand-written downloader config */
	bool own_key = strcmp(section, "mirrors") == 0 && strcmp(name, "downloader_config") == 0;
	if (!own_key && (strcmp(section, "trust") == 0 || strcmp(section, "mirrors") == 0)) {
		bool trust = section[0] == 't';
		/* a key file named relative to this ini file: made absolute here, so every
		 * reader (stager, launcher) means the same file */
		bool key_literal = strchr(value, ':') && !strchr(value, '/') && !str_has_suffix(value, ".pub");
		_cleanup_free_ char *abs = trust && !key_literal ? absolutize(value, x->dir) : NULL;
		int r = trust ? pair_add(&x->c->trust, &x->c->n_trust, name, abs ? abs : value, origin)
			      : pair_add(&x->c->mirrors, &x->c->n_mirrors, name, value, origin);
		if (r < 0)
			return ini_fail(x, name, "keep at most 256 entries", "too many entries in this section");
		return 1;
	}
	char full[256];
	snprintf(full, sizeof(full), "%s.%s", section, name);
	int k = -1;
	for (int i = 0; i < CFG__MAX; i++)
		if (strcmp(cfg_keys[i].ini, full) == 0)
			k = i;
	if (k < 0)
		return ini_fail(x, full, "see docs/CONFIGURATION.md for the keys flywheel knows",
				"unknown key");
	const struct cfg_keydef *d = &cfg_keys[k];
	if (x->seen[k])
		return ini_fail(x, full, "keep one line per key", "set twice in the same file");
	x->seen[k] = true;
	if (x->layer == LAYER_REPO && ((d->flags & (CK_SECRET | CK_NOREPO)) || looks_secret(value)))
		return ini_fail(x, full,
				"the repository policy is committed: put credentials in .env.flywheel.local (token file paths), the environment or a credential helper",
				"secrets are not allowed in flywheel.ini");
	_cleanup_free_ char *v = NULL;
	if (d->flags & CK_PATH)
		v = (d->flags & CK_LIST) ? absolutize_list(value, x->dir) : absolutize(value, x->dir);
	else
		v = fw_strdup(value);
	if (!v || config_set(x->c, (enum cfg_key)k, v, x->layer, d->ini, origin, x->err) < 0) {
		fw_error_set(x->err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
		return 0;
	}
	return 1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return fw_strdup(".");
	if (slash == path)
		return fw_strdup("/");
	return fw_strndup(path, (size_t)(slash - path));
}

static int load_ini(struct config *c, const char *path, enum cfg_layer layer, struct fw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(path, CONFIG_FILE_MAX, false, &data, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    r == -EFBIG ? "keep it under 256 KiB" : "check that it is a readable regular file",
				    "cannot read: %s", strerror(-r));
	_cleanup_free_ char *dir = dir_of(path);
	struct ini_ctx x = { .c = c, .layer = layer, .path = path, .dir = dir, .data = data,
			     .len = len, .err = err };
	r = ini_parse_stream(ini_read_line, &x, ini_on_value, &x);
	if (fw_error_isset(err))
		return -1;
	if (x.line_too_long) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s:%u", path, x.line);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject, "shorten the line (at most 4096 bytes)",
				    "line too long or holds a NUL byte");
	}
	if (r != 0) {
		char subject[FW_ERROR_SUBJECT_MAX];
		snprintf(subject, sizeof(subject), "%s:%d", path, r);
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "write [section] headers and key = value lines",
				    "syntax error");
	}
	return 0;
}

/* ---- .env.flywheel.local ------------------------------------------------ */

struct envfile_ctx {
	struct config *c;
	const char *path;
	char *dir;
};

static int envfile_assign(void *userdata, const char *key, const char *value, unsigned line,
			  struct fw_error *err)
{
	struct envfile_ctx *x = userdata;
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "%s from %s:%u", key, x->path, line);
	int k = -1;
	for (int i = 0; i < CFG__MAX; i++)
		if (strcmp(cfg_keys[i].env, key) == 0 || (cfg_keys[i].env2[0] && strcmp(cfg_keys[i].env2, key) == 0))
			k = i;
	if (k < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "only flywheel's variables belong here (docs/CONFIGURATION.md); set others in your shell",
				    "unknown variable");
	char origin[FW_ERROR_SUBJECT_MAX];
	snprintf(origin, sizeof(origin), "%s:%u", x->path, line);
	_cleanup_free_ char *v = NULL;
	const struct cfg_keydef *d = &cfg_keys[k];
	if ((d->flags & CK_PATH) && *value)
		v = (d->flags & CK_LIST) ? absolutize_list(value, x->dir) : absolutize(value, x->dir);
	else
		v = fw_strdup(value);
	if (!v)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	if (!*value)
		return 0; /* KEY= leaves lower layers in place, as an empty shell variable would for ${KEY:-} */
	return config_set(x->c, (enum cfg_key)k, v, LAYER_ENVFILE, strcmp(d->env, key) == 0 ? d->env : d->env2, origin, err);
}

static int load_envfile(struct config *c, const char *path, struct fw_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_small_file(path, ENVFILE_MAX_SIZE, false, &data, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, path,
				    r == -EFBIG ? "keep it under 64 KiB" : "check that it is a readable regular file",
				    "cannot read: %s", strerror(-r));
	_cleanup_free_ char *dir = dir_of(path);
	struct envfile_ctx x = { .c = c, .path = path, .dir = dir };
	return envfile_parse(data, len, path, envfile_assign, &x, err);
}

/* ---- environment --------------------------------------------------------- */

/* FLYWHEEL_SECRETS_FILE: the secrets flywheel moved out of Bazel's environment
 * at launch, read back by `flywheel credential-helper get` that Bazel runs.
 * Only secret keys; the file must be ours, regular and 0600. */
struct secrets_ctx {
	struct config *c;
	const char *path;
};

static int secrets_assign(void *userdata, const char *key, const char *value, unsigned line,
			  struct fw_error *err)
{
	struct secrets_ctx *x = userdata;
	int k = config_key_lookup(key);
	char subject[FW_ERROR_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "%s from %s:%u", key, x->path, line);
	if (k < 0 || !(cfg_keys[k].flags & CK_SECRET))
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, subject,
				    "the secrets file holds only secret keys; let flywheel write it", "not a secret key");
	return config_set(x->c, (enum cfg_key)k, value, LAYER_ENV, cfg_keys[k].env, "FLYWHEEL_SECRETS_FILE", err);
}

static int load_secrets_file(struct config *c, const char *path, struct fw_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fw_error_set(err, FW_CLASS_CONFIG, FW_EX_CONFIG, "FLYWHEEL_SECRETS_FILE",
				    "unset it; flywheel sets it for Bazel's credential helper", "cannot open '%s': %s",
				    path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    st.st_size > ENVFILE_MAX_SIZE)
		return fw_error_set(err, FW_CLASS_AUTH, FW_EX_NOPERM, "FLYWHEEL_SECRETS_FILE",
				    "it must be a regular file you own with mode 0600; unset the variable",
				    "'%s' is not a private file", path);
	if (sodium_init() < 0)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "libsodium", NULL, "cannot initialise");
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = sodium_malloc(cap);
	if (!buf)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	struct secrets_ctx x = { .c = c, .path = path };
	int r = envfile_parse(buf, len, path, secrets_assign, &x, err);
	sodium_free(buf); /* wipes */
	return r;
}

static int load_environment(struct config *c, char *const *envp, const char *cwd, struct fw_error *err)
{
	const char *secrets = env_lookup(envp, "FLYWHEEL_SECRETS_FILE");
	if (secrets && secrets[0] == '/' && load_secrets_file(c, secrets, err) < 0)
		return -1;
	/* One pass over the environment (this runs before every Bazel command):
	 * only BAZEL_*, GF_* and FLYWHEEL_* entries are matched against the keys. */
	const char *primary[CFG__MAX] = { 0 }, *alternate[CFG__MAX] = { 0 };
	for (char *const *e = envp; *e; e++) {
		const char *entry = *e;
		if (entry[0] != 'B' && entry[0] != 'G' && entry[0] != 'F')
			continue;
		const char *eq = strchr(entry, '=');
		if (!eq || !eq[1])
			continue;
		size_t n = (size_t)(eq - entry);
		for (int k = 0; k < CFG__MAX; k++) {
			const struct cfg_keydef *d = &cfg_keys[k];
			if (!primary[k] && strncmp(d->env, entry, n) == 0 && d->env[n] == '\0')
				primary[k] = eq + 1;
			else if (!alternate[k] && d->env2[0] && strncmp(d->env2, entry, n) == 0 && d->env2[n] == '\0')
				alternate[k] = eq + 1;
		}
	}
	for (int k = 0; k < CFG__MAX; k++) {
		const struct cfg_keydef *d = &cfg_keys[k];
		const char *name = primary[k] ? d->env : d->env2;
		const char *v = primary[k] ? primary[k] : alternate[k];
		if (!v)
			continue;
		_cleanup_free_ char *abs = NULL;
		if (d->flags & CK_PATH)
			abs = (d->flags & CK_LIST) ? absolutize_list(v, cwd) : absolutize(v, cwd);
		if ((d->flags & CK_PATH) && !abs)
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
		if (config_set(c, (enum cfg_key)k, abs ? abs : v, LAYER_ENV, name, name, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- workspace ----------------------------------------------------------- */

static bool is_workspace_root(const char *dir)
{
	static const char *const markers[] = { "MODULE.bazel", "WORKSPACE.bazel", "WORKSPACE", "REPO.bazel" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(markers); i++) {
		char p[PATH_MAX];
		struct stat st;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, markers[i]) < sizeof(p) &&
		    stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return true;
	}
	return false;
}

static char *find_workspace(const char *cwd)
{
	_cleanup_free_ char *dir = fw_strdup(cwd);
	if (!dir)
		return NULL;
	for (unsigned depth = 0; depth < 128; depth++) {
		if (is_workspace_root(dir))
			return steal_ptr(&dir);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return is_workspace_root("/") ? fw_strdup("/") : NULL;
		*slash = '\0';
	}
	return NULL;
}

int config_load(struct config *c, const struct config_opts *o, struct fw_error *err)
{
	extern char **environ;
	char *const *envp = o && o->envp ? o->envp : environ;
	char cwdbuf[PATH_MAX];
	const char *cwd = o && o->cwd ? o->cwd : getcwd(cwdbuf, sizeof(cwdbuf));
	if (!cwd)
		return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_OSERR, "working directory",
				    "cd to a directory that exists", "cannot be read: %s", strerror(errno));

	for (int k = 0; k < CFG__MAX; k++)
		if (cfg_keys[k].def && config_set(c, (enum cfg_key)k, cfg_keys[k].def, LAYER_DEFAULT, cfg_keys[k].ini, "default", err) < 0)
			return -1;

	const char *ci = env_lookup(envp, "CI");
	c->ci = ci && *ci && strcmp(ci, "false") != 0 && strcmp(ci, "0") != 0;
	c->interactive = isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1;

	if (o && o->workspace) {
		c->workspace = fw_strdup(o->workspace);
		if (!c->workspace) /* never load as if there were no repository policy */
			return fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	} else
		c->workspace = find_workspace(cwd);

	if (c->workspace) {
		_cleanup_free_ char *p = fw_asprintf("%s/flywheel.ini", c->workspace);
		if (!p || load_ini(c, p, LAYER_REPO, err) < 0)
			return fw_error_isset(err) ? -1 : fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	}
	if (!(o && o->no_user_file)) {
		const char *xdg = env_lookup(envp, "XDG_CONFIG_HOME");
		const char *home = env_lookup(envp, "HOME");
		_cleanup_free_ char *p = NULL;
		if (xdg && xdg[0] == '/')
			p = fw_asprintf("%s/flywheel/config.ini", xdg);
		else if (home && home[0] == '/')
			p = fw_asprintf("%s/.config/flywheel/config.ini", home);
		if (p && load_ini(c, p, LAYER_USER, err) < 0)
			return -1;
	}
	if (c->workspace) {
		_cleanup_free_ char *p = fw_asprintf("%s/.env.flywheel.local", c->workspace);
		if (!p || load_envfile(c, p, err) < 0)
			return fw_error_isset(err) ? -1 : fw_error_set(err, FW_CLASS_INTERNAL, FW_EX_SOFTWARE, "config", NULL, "out of memory");
	}
	if (load_environment(c, envp, cwd, err) < 0)
		return -1;
	if (o && o->opt_mode && config_set(c, CFG_MODE, o->opt_mode, LAYER_OPTION, "--mode", "--mode", err) < 0)
		return -1;
	return 0;
}
