/* net_main.c - flywheel-net: the network and hashing commands.
 *
 * The launcher (flywheel) execs this helper for probe, doctor, stage, lock,
 * keygen, sign, verify, inputs, proof and dev-attach, so that libcurl and
 * OpenSSL are loaded only when a network step runs.  argv[1] is the command. */
#include <stdio.h>
#include <string.h>

#include "flywheel/error.h"
#include "flywheel/report.h"
#include "flywheel/banned.h"

struct net_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct net_command net_commands[] = {
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	report_init(0, false);
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
