// libFuzzer's entry for programs with their own main (compiler-rt FuzzerInterface.h).
// Only the fuzzing build (-sanitize=fuzzer) links it; see fuzz/Sources/Entry.swift.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*user_callback)(const uint8_t *data, size_t size));
