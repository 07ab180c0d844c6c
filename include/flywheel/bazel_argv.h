/* bazel_argv.h - Bazel's command line as a structure, and merging flywheel's
 * options into it.
 *
 * Bazel's command line is `[startup options] command [options] [-- residue]`.
 * bazel_cmdline_parse() splits a user's arguments into those parts without
 * changing a byte; bazel_argv_build() puts injected startup options before the
 * user's startup options and injected command options right after the command
 * (before the user's, so the user's own options still win where Bazel's
 * last-wins rule applies), and decides, per injected option, whether the
 * user's same option makes it redundant, drops it, or is a conflict.
 */
#ifndef FLYWHEEL_BAZEL_ARGV_H
#define FLYWHEEL_BAZEL_ARGV_H

#include <stdbool.h>
#include <stddef.h>

#include "flywheel/error.h"
#include "flywheel/util.h"

#define BAZEL_ARGS_MAX 16384  /* arguments flywheel accepts on one command line */
#define BAZEL_OPTS_MAX 1024   /* injected options per list */

/* ---- the user's command line --------------------------------------------- */

struct bazel_cmdline {
	struct strv startup;   /* startup options as given ("--output_base", "/x" stay two words) */
	char *command;         /* NULL: none (empty command line, or --version/--help before it) */
	struct strv args;      /* command options and targets before "--" */
	bool has_dashdash;     /* a "--" followed the command */
	struct strv residue;   /* everything after that "--", untouched */
	bool client_only;      /* --version, -h or --help came before any command */
};

void bazel_cmdline_init(struct bazel_cmdline *c);
void bazel_cmdline_release(struct bazel_cmdline *c);

/* Split args[0..n) (the arguments after "bazel") into c, which must be
 * initialised.  Errors (usage, exit 64): a unary startup option without its
 * value, more than BAZEL_ARGS_MAX arguments.  On error c is left empty. */
int bazel_cmdline_parse(size_t n, char *const *args, struct bazel_cmdline *c,
			struct fw_error *err);

/* Target patterns of a build-like command: the words before "--" that are
 * neither options nor option values, plus the residue (for `run`: only the
 * first word; the rest is the program's arguments).  *ret_ambiguous is set
 * when the list may be incomplete or include a non-target: an option flywheel
 * does not know given as "--opt word", --target_pattern_file, or a query
 * command (whose argument is an expression).  Ambiguity errs towards listing
 * a word, never towards hiding one.  ret must be initialised. */
int bazel_argv_targets(const struct bazel_cmdline *c, struct strv *ret, bool *ret_ambiguous);

/* ---- commands ------------------------------------------------------------- */

/* Which groups of options a command accepts and flywheel injects into it. */
enum {
	BAZEL_SCOPE_REMOTE = 1u << 0, /* remote cache/executor options (RemoteOptions) */
	BAZEL_SCOPE_AUTH = 1u << 1,   /* credential helper, TLS (AuthAndTLSOptions) */
	BAZEL_SCOPE_REPO = 1u << 2,   /* distdir, repository cache, overrides, downloader config */
	BAZEL_SCOPE_EXEC = 1u << 3,   /* --jobs, --spawn_strategy, execution log (ExecutionOptions) */
	BAZEL_SCOPE_BEP = 1u << 4,    /* --build_event_json_file */
	BAZEL_SCOPE_TEST = 1u << 5,   /* --test_env */
};

struct bazel_command_info {
	const char *name;
	unsigned scope;   /* BAZEL_SCOPE_* bits; 0: startup options only */
	const char *why;  /* one line for explain */
};

/* The row for a command; unknown commands get a row with scope 0 (nothing
 * but startup options is injected into a command flywheel does not know). */
const struct bazel_command_info *bazel_command_lookup(const char *name);
unsigned bazel_command_scope(const char *name);
const struct bazel_command_info *bazel_command_table(size_t *ret_n);

/* ---- injected options ------------------------------------------------------ */

enum bazel_strength {
	BAZEL_OPT_DEFAULT,  /* the user's explicit same option wins; ours is dropped */
	BAZEL_OPT_REQUIRED, /* the user's same option with another value is a conflict */
};

enum bazel_fate {
	BAZEL_FATE_PENDING,  /* not merged yet */
	BAZEL_FATE_KEPT,     /* in the final argv */
	BAZEL_FATE_SAME,     /* the user gave the same value; ours left out as redundant */
	BAZEL_FATE_DROPPED,  /* DEFAULT overridden by the user */
	BAZEL_FATE_CONFLICT, /* REQUIRED contradicted by the user */
};

const char *bazel_fate_name(enum bazel_fate f);

struct bazel_opt {
	char *name;        /* without "--", e.g. "remote_cache" */
	char *value;       /* NULL: the option alone ("--name") */
	enum bazel_strength strength;
	const char *why;   /* static text naming the plan item, for explain */
	enum bazel_fate fate;  /* filled by bazel_argv_build */
	char *user_arg;    /* the user's argument behind SAME/DROPPED/CONFLICT */
};

struct bazel_opts {
	struct bazel_opt *v;
	size_t n, cap;
};

void bazel_opts_init(struct bazel_opts *o);
void bazel_opts_release(struct bazel_opts *o);
/* Append a copy of name/value.  0, -ENOMEM, -E2BIG past BAZEL_OPTS_MAX. */
int bazel_opts_add(struct bazel_opts *o, enum bazel_strength s, const char *why,
		   const char *name, const char *value);
int bazel_opts_addf(struct bazel_opts *o, enum bazel_strength s, const char *why,
		    const char *name, const char *value_fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* "--name=value" or "--name"; malloc'd, NULL on OOM. */
char *bazel_opt_format(const struct bazel_opt *o);

/* Flags for bazel_argv_build. */
enum {
	/* explain: record every conflict and finish the argv instead of failing */
	BAZEL_ARGV_RECORD_CONFLICTS = 1u << 0,
};

/* Merge.  ret_argv (initialised, normally empty) gets the arguments after
 * argv[0]: injected startup options that survive, the user's startup options,
 * the command, injected command options that survive, the user's options and
 * targets, then "--" and the residue exactly as given.  With no command
 * (client_only or an empty command line) nothing is injected.  Each injected
 * option's fate is filled in.  A REQUIRED option contradicted by the user
 * fails with class config, exit 78, subject "--name" (unless
 * BAZEL_ARGV_RECORD_CONFLICTS).  Either opts list may be NULL. */
int bazel_argv_build(const struct bazel_cmdline *c, struct bazel_opts *inject_startup,
		     struct bazel_opts *inject_cmd, unsigned flags, struct strv *ret_argv,
		     struct fw_error *err);

#endif
