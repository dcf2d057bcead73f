// XGRAD_SKIP(reason): ends a test case that cannot run here (no AVX-512 on this CPU) as skipped, not
// passed. Catch2 v2 has no skip, so the case prints a marker and returns; CTest, told by
// tests/CMakeLists.txt (SKIP_REGULAR_EXPRESSION), reports it skipped, and scripts/test.sh counts it.
// Use it first thing in a case, before any check: CTest ignores the outcome of a case that prints it.
#pragma once
#include <iostream>

#define XGRAD_SKIP(reason)                                         \
  do {                                                             \
    std::cout << "XGRAD_TEST_SKIPPED: " << (reason) << std::endl; \
    return;                                                        \
  } while (0)
