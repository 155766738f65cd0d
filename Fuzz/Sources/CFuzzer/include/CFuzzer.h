#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that keep their own main (compiler-rt FuzzerInterface.h):
// SwiftPM links an executable's main to the module's top-level code, so the fuzz targets
// start libFuzzer from there instead of letting it supply main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
