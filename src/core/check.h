#pragma once
// TAMGA_CHECK: for our own invariants only, never for user input. Aborts with a message.
#include <cstdio>
#include <cstdlib>

#define TAMGA_CHECK(cond)                                                             \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)
