/* fuzz_execlog_compact.c - libFuzzer entry for the execlog_compact parser (body in fuzz_targets.h). */
#include "fuzz_targets.h"

#include "flywheel/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_execlog_compact(data, size);
}
