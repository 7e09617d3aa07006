/* fuzz.h — the libFuzzer entry points every harness in tests/fuzz/ defines. Built two ways (Makefile): with clang's
 * -fsanitize=fuzzer for `make fuzz`, and with replay.c's main() for `make check`, which runs each harness once over
 * its seed corpus and the crashes kept in tests/fuzz/regressions/<harness>/. */
#ifndef KNOOP_FUZZ_H
#define KNOOP_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
