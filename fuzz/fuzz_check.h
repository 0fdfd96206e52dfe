// What every fuzz target checks besides the sanitizers: bad input may only end in s2s::Error
// (the one-line message the CLI prints before exit 2). Any other exception escapes the target,
// and libFuzzer reports it as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

// A property of the code under test failed: print it and abort, so libFuzzer keeps the input.
#define S2S_FUZZ_REQUIRE(condition)                                                               \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
