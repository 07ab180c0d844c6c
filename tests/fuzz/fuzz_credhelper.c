/* fuzz_credhelper.c - libFuzzer entry for the credhelper parser (body in fuzz_targets.h). */
#include "fuzz_targets.h"

#include "flywheel/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_credhelper(data, size);
}
