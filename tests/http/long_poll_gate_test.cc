#include "http/long_poll_gate.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(LongPollGate, BoundsPerClientAndInTotalAndFreesOnRelease) {
  LongPollGate gate({2, 3});
  auto a1 = gate.TryEnter("a");
  auto a2 = gate.TryEnter("a");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(a2);
  EXPECT_FALSE(gate.TryEnter("a"));  // per client
  auto b1 = gate.TryEnter("b");
  ASSERT_TRUE(b1);
  EXPECT_FALSE(gate.TryEnter("c"));  // total
  a1.reset();
  EXPECT_TRUE(gate.TryEnter("a"));  // a slot came back (and is released again at once)
  auto copy = a2;                   // copies share one slot: a2 + b1 are held, one slot is free
  a2.reset();
  auto c1 = gate.TryEnter("c");
  EXPECT_TRUE(c1);
  EXPECT_FALSE(gate.TryEnter("d"));
}

}  // namespace
}  // namespace tamga
