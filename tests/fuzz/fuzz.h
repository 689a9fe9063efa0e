/* The libFuzzer entry points every target defines (declared here so the
 * compiler checks their signatures; -Wmissing-prototypes). */
#ifndef SKY_FUZZ_H
#define SKY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
