/*
 * fuzz_common — what every opswall fuzz target shares.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer it is a
 * libFuzzer target (tests/fuzz/CMakeLists.txt); linked with replay_main.c it is a plain program
 * that runs saved inputs (corpus, regressions) under any compiler (tests/unit/CMakeLists.txt).
 * A broken invariant prints what broke and aborts, which both drivers report as a crash.
 */
#ifndef OW_FUZZ_COMMON_H
#define OW_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz invariant broken: %s\n", what);
        abort();
    }
}

#endif
