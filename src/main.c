/* main.c - flywheel's entry point: parse flywheel's own options, dispatch.
 *
 * Nothing else happens here.  Commands that need the network stack are run
 * by execve'ing the flywheel-net helper, so this binary never loads libcurl. */
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>

#include "fw_build_config.h"
#include "flywheel/error.h"
#include "flywheel/launch.h"
#include "flywheel/report.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

static const char usage_text[] =
	"usage: flywheel [--mode=local|cache|executor] [--strict] [--report[=FILE]] [--json] [-v] [-q] COMMAND [ARGS]\n"
	"\n"
	"  bazel [STARTUP-OPTS] CMD [ARGS] [-- TARGETS]   validate, probe, stage, then exec Bazel\n"
	"  explain [same as bazel]     print the final argv (secrets redacted) and every decision\n"
	"  dev-attach                  checks + staging + a real round trip; green light or fix list\n"
	"  doctor [--json]             every check, no writes, no Bazel server started\n"
	"  probe [URL...]              reachability, TLS, auth, capabilities, latency\n"
	"  stage [--offline] [--verify]  fetch and verify manifest inputs\n"
	"  lock URL|FILE...            add or refresh manifest entries\n"
	"  inputs audit|coverage       downloads outside the manifest; required inputs staged?\n"
	"  keygen | sign | verify      Ed25519 keys and manifest signatures\n"
	"  proof [--class NAME] -- TARGETS   forced remote execution, writes proof-result.json\n"
	"  eligibility check|show      validate the target-class eligibility manifest\n"
	"  credential-helper get       Bazel credential-helper protocol\n"
	"  vendor DIR                  install the static binary and a tools/bazel shim\n"
	"  nix-check [--narinfo HASH]  Nix substituters reachable and signed by trusted keys\n"
	"  version\n"
	"\n"
	"Invoked as 'bazel' it behaves as 'flywheel bazel'. See flywheel(1).\n";

/* Commands flywheel-net runs. */
static const char *const net_commands[] = {
	"probe", "doctor", "stage", "lock", "inputs", "keygen", "sign", "verify",
	"proof", "dev-attach", "vendor", "nix-check",
};

/* `flywheel COMMAND --help`: one table, answered by the launcher for every
 * command (bazel's --help belongs to Bazel and is passed through). */
static const struct {
	const char *cmd;
	const char *text;
} command_help[] = {
	{ "explain", "usage: flywheel [--mode=M] [--json] explain [BAZEL-ARGS...]\n"
		     "Print the argv flywheel would exec (header values redacted), every injected option and\n"
		     "its fate, each decision, and every effective setting with the layer that set it.\n" },
	{ "dev-attach", "usage: flywheel dev-attach [--json] [--write-env] [--no-round-trip]\n"
			"Check Bazel, configuration, credentials, every endpoint, eligibility, Nix substituters,\n"
			"inputs and disk, then build a nonce target twice through flywheel. Exit 0 only when attached.\n" },
	{ "doctor", "usage: flywheel doctor [--json] [--timeout-ms=N]\n"
		    "Every check (configuration, credentials, endpoints), no writes, no Bazel server started.\n" },
	{ "probe", "usage: flywheel probe [--json] [--timeout-ms=N] [URL...]\n"
		   "Resolve and probe the configured endpoints (or the URLs given) in parallel under one\n"
		   "deadline: reachability, TLS, auth, capabilities, latency. Stores the verdicts.\n" },
	{ "stage", "usage: flywheel stage [--manifest F] [--distdir D]... [--repository-cache D] [--trust PUB]...\n"
		   "                      [--allow-unsigned] [--offline] [--verify] [--json]\n"
		   "Verify the signed manifest, then fetch and verify every input into the distdirs and the\n"
		   "repository cache. --offline uses only what is on disk; --verify re-hashes everything.\n" },
	{ "lock", "usage: flywheel lock [--manifest F] [--url-base URL]... [--status S] URL|FILE...\n"
		  "       flywheel lock --from-audit FILE\n"
		  "Add or refresh manifest entries (sha256, size, urls); the output is deterministic.\n" },
	{ "inputs", "usage: flywheel inputs audit --bep FILE [--manifest F] [--json] [--out F] [--strict]\n"
		    "       flywheel inputs coverage [--manifest F] [--json]\n"
		    "       flywheel inputs check-downloader-config FILE\n"
		    "What Bazel fetched outside the manifest, whether required inputs are staged, and whether\n"
		    "a downloader config has the traps Bazel fails on silently.\n" },
	{ "keygen", "usage: flywheel keygen NAME\nWrite NAME.key (0600) and NAME.pub (Ed25519, name:base64).\n" },
	{ "sign", "usage: flywheel sign --key NAME.key MANIFEST\nWrite the detached signature MANIFEST.sig.\n" },
	{ "verify", "usage: flywheel verify [--trust NAME.pub]... MANIFEST\n"
		    "Check MANIFEST.sig against the trusted keys, the expiry and the rollback record.\n" },
	{ "proof", "usage: flywheel proof [--class NAME] [--out FILE] [--test] -- TARGETS\n"
		   "Build with forced remote execution and write proof-result.json; exit 0 only when the\n"
		   "executor ran more than zero processes.\n" },
	{ "eligibility", "usage: flywheel eligibility check [FILE] [-- TARGETS]\n"
			 "       flywheel eligibility show [FILE]\n"
			 "Validate the target-class eligibility manifest, or list its classes.\n" },
	{ "credential-helper", "usage: flywheel credential-helper get < {\"uri\": \"...\"}\n"
			       "Bazel's credential-helper protocol: headers for the configured remotes only.\n" },
	{ "vendor", "usage: flywheel vendor [--force] [--allow-dynamic] DIR\n"
		    "Install the static flywheel binary, its SHA-256 and a tools/bazel shim into the spoke\n"
		    "repository DIR.\n" },
	{ "nix-check", "usage: flywheel nix-check [--nix-conf FILE] [--narinfo HASH] [--timeout-ms N] [--json]\n"
		       "Nix substituters reachable, StoreDir right, a narinfo signed by a trusted key.\n" },
	{ "version", "usage: flywheel version\nPrint flywheel's version.\n" },
};

static const char *help_for(const char *cmd)
{
	for (size_t i = 0; i < FW_ARRAY_SIZE(command_help); i++)
		if (strcmp(command_help[i].cmd, cmd) == 0)
			return command_help[i].text;
	return NULL;
}

static int usage_error(const char *what, const char *arg)
{
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, arg, "see 'flywheel --help'", "%s", what);
	report_error(&err);
	return FW_EX_USAGE;
}

static bool is_net_command(const char *cmd)
{
	for (size_t i = 0; i < FW_ARRAY_SIZE(net_commands); i++)
		if (strcmp(net_commands[i], cmd) == 0)
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
	struct launch_opts lo = { 0 };
	/* Secrets may be loaded: no core dump of this process (the flag resets
	 * on execve, so Bazel keeps the user's own setting). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	fw_json_fail_closed();
	const char *name = argc > 0 ? base_name(argv[0]) : "flywheel";

	/* Multi-call: as `bazel` every argument belongs to Bazel. */
	if (strcmp(name, "bazel") == 0 || strcmp(name, "bazelisk") == 0) {
		report_init(0, false);
		lo.argv0 = argv[0];
		return launch_bazel(&lo, argc - 1, argv + 1, false);
	}
	if (strcmp(name, "dev-attach") == 0) {
		report_init(0, false);
		argv[0] = (char *)"dev-attach";
		return launch_exec_net(&lo, argc, argv);
	}

	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (a[0] != '-')
			break;
		if ((v = str_after(a, "--mode="))) {
			lo.mode = v;
		} else if (strcmp(a, "--mode") == 0) {
			if (++i == argc)
				return usage_error("--mode needs a value (local, cache or executor)", "--mode");
			lo.mode = argv[i];
		} else if (strcmp(a, "--json") == 0) {
			lo.json = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			lo.verbosity++;
		} else if (strcmp(a, "-vv") == 0) {
			lo.verbosity += 2;
		} else if (strcmp(a, "--strict") == 0) {
			lo.strict = true;
		} else if (strcmp(a, "--report") == 0) {
			lo.report = "";
		} else if ((v = str_after(a, "--report="))) {
			lo.report = v;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			lo.quiet = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("flywheel %s\n", FLYWHEEL_VERSION);
			return 0;
		} else {
			return usage_error("unknown option", a);
		}
	}
	report_init(lo.verbosity, lo.quiet);
	lo.argv0 = argv[0];
	if (i == argc) {
		fputs(usage_text, stderr);
		return FW_EX_USAGE;
	}
	const char *cmd = argv[i];
	if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0) && help_for(cmd)) {
		fputs(help_for(cmd), stdout);
		return 0;
	}
	if (strcmp(cmd, "bazel") == 0) {
		/* `flywheel bazel --report ...`: Bazel has no such startup option */
		if (i + 1 < argc && strcmp(argv[i + 1], "--report") == 0) {
			lo.report = "";
			i++;
		} else if (i + 1 < argc && str_has_prefix(argv[i + 1], "--report=")) {
			lo.report = argv[i + 1] + strlen("--report=");
			i++;
		}
		if (lo.report) {
			argv[i] = (char *)"bazel-report";
			return launch_exec_net(&lo, argc - i, argv + i);
		}
		return launch_bazel(&lo, argc - i - 1, argv + i + 1, false);
	}
	if (strcmp(cmd, "explain") == 0)
		return launch_bazel(&lo, argc - i - 1, argv + i + 1, true);
	if (strcmp(cmd, "version") == 0) {
		printf("flywheel %s\n", FLYWHEEL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "credential-helper") == 0)
		return launch_credential_helper(&lo, argc - i, argv + i);
	if (strcmp(cmd, "eligibility") == 0)
		return launch_eligibility(&lo, argc - i, argv + i);
	if (is_net_command(cmd))
		return launch_exec_net(&lo, argc - i, argv + i);
	return usage_error("unknown command", cmd);
}
