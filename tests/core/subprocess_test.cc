#include "core/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>

#include "core/bounded_executor.h"

namespace tamga {
namespace {

TEST(Subprocess, RunsFromArgvWithOnlyTheGivenEnvironment) {
  ::setenv("TAMGA_TEST_SECRET_TOKEN", "leak-me", 1);
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo \"[$TAMGA_TEST_SECRET_TOKEN][$MINE]\"; echo err >&2; exit 3"};
  o.env = MinimalEnvironment({{"MINE", "yes"}});
  auto run = RunCaptured(o, 1 << 16, 10000);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->out, "[][yes]\n");  // the parent's secret is not inherited
  EXPECT_EQ(run->err, "err\n");
  EXPECT_TRUE(run->exit.exited);
  EXPECT_EQ(run->exit.code, 3);
  EXPECT_EQ(run->exit.Describe(), "exit code 3");
  ::unsetenv("TAMGA_TEST_SECRET_TOKEN");
}

TEST(Subprocess, MissingProgramIsNotFound) {
  SpawnOptions o;
  o.argv = {"definitely-not-a-program-tamga"};
  o.env = MinimalEnvironment();
  auto pid = Spawn(o);
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), StatusCode::kNotFound);
}

TEST(Subprocess, DeadlineKillsTheWholeGroup) {
  SpawnOptions o;
  // The child starts a grandchild that would outlive it; both are in the child's group.
  o.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  o.env = MinimalEnvironment();
  auto start = std::chrono::steady_clock::now();
  auto run = RunCaptured(o, 1024, 300);
  EXPECT_EQ(run.status().code(), StatusCode::kDeadlineExceeded);
  // The grandchild held the pipes open; had it survived, reading would not have ended.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Subprocess, WaitForReportsSignals) {
  SpawnOptions o;
  o.argv = {"sh", "-c", "kill -9 $$"};
  o.env = MinimalEnvironment();
  auto pid = Spawn(o);
  ASSERT_TRUE(pid.ok());
  auto e = WaitFor(*pid, 10000);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->exited);
  EXPECT_EQ(e->signal, SIGKILL);
}

TEST(BoundedExecutor, RefusesPastTheQueueAndContainsExceptions) {
  std::atomic<int> ran{0};
  std::mutex gate;
  gate.lock();
  {
    BoundedExecutor pool({"test", 1, 2});
    EXPECT_TRUE(pool.TrySubmit([&] {
      std::lock_guard<std::mutex> l(gate);
      ++ran;
    }));  // running, blocked
    // Give the worker a moment to take the first task off the queue.
    for (int i = 0; i < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(pool.TrySubmit([&] { throw std::runtime_error("boom"); }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // queue (2) full
    gate.unlock();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace tamga
