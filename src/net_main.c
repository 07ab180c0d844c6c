/* net_main.c - flywheel-net: the network and hashing commands.
 *
 * The launcher (flywheel) execs this helper for probe, doctor, stage, lock,
 * keygen, sign, verify, inputs, proof and dev-attach, so that libcurl and
 * OpenSSL are loaded only when a network step runs.  argv[1] is the command. */
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>

#include "flywheel/audit.h"
#include "flywheel/bazel_report.h"
#include "flywheel/devattach.h"
#include "flywheel/error.h"
#include "flywheel/util.h"
#include "flywheel/report.h"
#include "flywheel/probe.h"
#include "flywheel/sign.h"
#include "flywheel/stage.h"
#include "flywheel/proof.h"
#include "flywheel/narinfo.h"
#include "flywheel/vendor.h"
#include "flywheel/banned.h"

struct net_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct net_command net_commands[] = {
	{ "bazel-report", cmd_bazel_report },
	{ "dev-attach", cmd_dev_attach },
	{ "probe", cmd_probe },
	{ "doctor", cmd_doctor },
	{ "keygen", cmd_keygen },
	{ "sign", cmd_sign },
	{ "verify", cmd_verify },
	{ "stage", cmd_stage },
	{ "lock", cmd_lock },
	{ "inputs", cmd_inputs },
	{ "proof", cmd_proof },
	{ "execlog", cmd_execlog },
	{ "nix-check", cmd_nix_check },
	{ "vendor", cmd_vendor },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	report_init(0, false);
	/* Secrets may be loaded: no core dump of this process (the flag resets
	 * on execve, so Bazel keeps the user's own setting). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	fw_json_fail_closed();
	if (argc < 2) {
		struct fw_error err = { 0 };
		fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, "flywheel-net", "run it through flywheel",
			     "no command given");
		report_error(&err);
		return FW_EX_USAGE;
	}
	for (size_t i = 0; net_commands[i].name; i++)
		if (strcmp(net_commands[i].name, argv[1]) == 0)
			return net_commands[i].run(argc - 1, argv + 1);
	struct fw_error err = { 0 };
	fw_error_set(&err, FW_CLASS_USAGE, FW_EX_USAGE, argv[1], "see 'flywheel --help'",
		     "unknown command");
	report_error(&err);
	return FW_EX_USAGE;
}
