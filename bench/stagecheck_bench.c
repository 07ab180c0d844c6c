/* stagecheck_bench.c - time stagecheck_warm() (the launcher's stat-only warm
 * path) for a manifest whose inputs are already staged.
 * Usage: stagecheck_bench MANIFEST REPO_CACHE DISTDIR ITERATIONS TRUSTED-PUB
 * (prints ms per check; TRUSTED-PUB as given to `flywheel stage --trust`) */
#include <stdio.h>
#include <stdlib.h>

#include "flywheel/stagecheck.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"

int main(int argc, char **argv)
{
	if (argc != 6)
		return 64;
	const char *dists[1] = { argv[3] };
	const char *trust[1] = { argv[5] };
	char trust_id[17];
	stagecheck_trust_id(trust, 1, trust_id);
	struct stagecheck_opts o = { .distdirs = dists, .n_distdirs = 1, .repo_cache = argv[2],
				     .canonical_ids = true, .trust_id = trust_id };
	uint64_t n = 0;
	if (parse_u64(argv[4], 1000000, &n) < 0 || n == 0)
		return 64;
	bool all = false;
	struct fw_error e = { 0 };
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (stagecheck_warm(argv[1], &o, &all, &e) < 0 || !all)
			return 1;
	printf("%.3f\n", (double)(now_ns() - t0) / 1e6 / (double)n);
	return 0;
}
