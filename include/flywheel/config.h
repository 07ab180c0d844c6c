/* config.h - layered configuration: every effective value with the layer that set it.
 *
 * Layers, lowest to highest: built-in defaults < flywheel.ini (workspace root)
 * < $XDG_CONFIG_HOME/flywheel/config.ini < .env.flywheel.local (workspace root)
 * < environment < flywheel's own options.  Nothing is ever run by a shell.
 *
 * Lifecycle: config_init() then config_load(); config_release() always.
 * Secret values live in sodium_malloc memory and are wiped on release.
 */
#ifndef FLYWHEEL_CONFIG_H
#define FLYWHEEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "flywheel/config_keys.h"
#include "flywheel/error.h"
#include "flywheel/util.h"

enum cfg_key {
#define X(id, ini, env, env2, def, flags, doc) CFG_##id,
	FW_CONFIG_KEYS(X)
#undef X
	CFG__MAX
};

enum cfg_layer {
	LAYER_DEFAULT,
	LAYER_REPO,    /* flywheel.ini */
	LAYER_USER,    /* $XDG_CONFIG_HOME/flywheel/config.ini */
	LAYER_ENVFILE, /* .env.flywheel.local */
	LAYER_ENV,     /* process environment */
	LAYER_OPTION,  /* flywheel's own command-line options */
	LAYER__MAX
};

struct cfg_keydef {
	const char *ini;   /* "section.key" */
	const char *env;   /* primary environment name or "" */
	const char *env2;  /* alternative environment name or "" */
	const char *def;   /* default value or NULL */
	unsigned flags;    /* CK_* */
	const char *doc;
};

struct cfg_value {
	char *value;          /* NULL when unset; sodium memory when CK_SECRET */
	enum cfg_layer layer; /* where the effective value came from */
	char *origin;         /* "path:line", the environment variable, or "--mode" */
	const char *name;     /* the name the value was set under (static: ini key or env name) */
};

/* A free-form "name = value" entry of [trust] or [mirrors]. */
struct cfg_pair {
	char *name;
	char *value;
	char *origin;
};

#define CFG_PAIRS_MAX 256

struct config {
	struct cfg_value v[CFG__MAX];
	char *workspace;   /* workspace root (absolute), NULL outside a workspace */
	struct cfg_pair *trust;  /* [trust] name = public key or key file */
	size_t n_trust;
	struct cfg_pair *mirrors; /* [mirrors] pattern = mirror URLs */
	size_t n_mirrors;
	bool ci;           /* CI is set in the environment */
	bool interactive;  /* stdin and stderr are terminals */
};

struct config_opts {
	char *const *envp;        /* environment to read (NULL: environ) */
	const char *cwd;          /* start of the workspace search (NULL: getcwd) */
	const char *workspace;    /* explicit workspace root, skips the search */
	bool no_user_file;        /* ignore $XDG_CONFIG_HOME (tests) */
	/* flywheel's own options, highest layer; NULL when not given */
	const char *opt_mode;
};

extern const struct cfg_keydef cfg_keys[CFG__MAX];

const char *cfg_layer_name(enum cfg_layer l);

void config_init(struct config *c);
void config_release(struct config *c);

/* Load every layer.  Errors (bad syntax, unknown key, secret in flywheel.ini,
 * unsafe env-file value) fill err with class config, exit 78, and a subject
 * "<KEY> from <layer>" (with file:line where there is one). */
int config_load(struct config *c, const struct config_opts *o, struct fw_error *err);

/* Set one value in a layer (used by the loaders and by tests). */
int config_set(struct config *c, enum cfg_key k, const char *value, enum cfg_layer layer,
	       const char *name, const char *origin, struct fw_error *err);

const char *config_get(const struct config *c, enum cfg_key k);
bool config_get_bool(const struct config *c, enum cfg_key k);
/* Returns the number, or def when unset. */
uint64_t config_get_u64(const struct config *c, enum cfg_key k, uint64_t def);
/* "BAZEL_REMOTE_CACHE from environment" / "remote.cache from /w/flywheel.ini:3" */
int config_subject(const struct config *c, enum cfg_key k, char *buf, size_t len);
/* "name=value" for every [trust] entry (key files as absolute paths), for
 * stagecheck_trust_id.  ret must be initialised.  0 or -ENOMEM. */
int config_trust_entries(const struct config *c, struct strv *ret);
/* Look a key up by ini name or environment name; -1 when unknown. */
int config_key_lookup(const char *name);

#endif
