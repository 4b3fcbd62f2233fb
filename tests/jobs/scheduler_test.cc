// The scheduler's decisions and the job spec rules, as pure functions over values.
#include <gtest/gtest.h>

#include <random>

#include "jobs/scheduler.h"

namespace tamga {
namespace {

constexpr int64_t GiB = int64_t{1} << 30;

Job MakeJob(const std::string& id, const std::string& queue, int priority, int64_t seq, int cpus = 1,
            int gpus = 0, int64_t gpu_mem = 0) {
  Job j;
  j.id = id;
  j.seq = seq;
  j.spec.queue = queue;
  j.spec.priority = priority;
  j.spec.resources.cpus = cpus;
  j.spec.resources.gpus = gpus;
  j.spec.resources.gpu_memory_bytes = gpu_mem;
  return j;
}

// Sorted like the service's per-queue index: priority desc, then seq.
std::vector<const Job*> Ordered(std::vector<Job>& jobs, const std::string& queue) {
  std::vector<const Job*> out;
  for (auto& j : jobs) {
    if (j.spec.queue == queue) out.push_back(&j);
  }
  std::sort(out.begin(), out.end(), [](const Job* a, const Job* b) {
    return a->spec.priority != b->spec.priority ? a->spec.priority > b->spec.priority : a->seq < b->seq;
  });
  return out;
}

AgentView Cpu(int cpus, std::vector<std::string> queues) {
  AgentView a;
  a.id = "a1";
  a.cpus_free = cpus;
  a.queues = std::move(queues);
  return a;
}

GpuInfo Gpu(const std::string& uuid, int64_t free_gib) {
  GpuInfo g;
  g.uuid = uuid;
  g.total_bytes = 80 * GiB;
  g.free_bytes = free_gib * GiB;
  g.used_bytes = g.total_bytes - g.free_bytes;
  return g;
}

TEST(Scheduler, HigherPriorityFirstThenFifo) {
  std::vector<Job> jobs = {MakeJob("j1", "q", 0, 1), MakeJob("j2", "q", 5, 2), MakeJob("j3", "q", 5, 3)};
  auto d = PickJob(Cpu(4, {"q"}), {Ordered(jobs, "q")}, {{"q", {}}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->job->id, "j2");
}

TEST(Scheduler, PriorityBeatsQueueOrderAndQueueOrderBreaksTies) {
  std::vector<Job> jobs = {MakeJob("a", "first", 1, 1), MakeJob("b", "second", 2, 2),
                           MakeJob("c", "second", 1, 0)};
  AgentView agent = Cpu(4, {"first", "second"});
  auto d = PickJob(agent, {Ordered(jobs, "first"), Ordered(jobs, "second")}, {{"first", {}}, {"second", {}}});
  EXPECT_EQ(d.lease->job->id, "b");
  jobs[1].spec.priority = 1;  // now a tie at priority 1: the agent's first queue wins even over an older job
  d = PickJob(agent, {Ordered(jobs, "first"), Ordered(jobs, "second")}, {{"first", {}}, {"second", {}}});
  EXPECT_EQ(d.lease->job->id, "a");
}

TEST(Scheduler, AJobThatDoesNotFitWaitsWithAReasonAndSmallerOnesPass) {
  std::vector<Job> jobs = {MakeJob("big", "q", 9, 1, 8), MakeJob("small", "q", 0, 2, 1)};
  auto d = PickJob(Cpu(2, {"q"}), {Ordered(jobs, "q")}, {{"q", {}}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->job->id, "small");
  ASSERT_TRUE(d.waiting.count("big"));
  EXPECT_NE(d.waiting["big"].find("needs 8 CPU(s)"), std::string::npos);
}

TEST(Scheduler, QueueConcurrencyLimit) {
  std::vector<Job> jobs = {MakeJob("j1", "q", 0, 1)};
  QueueView full;
  full.max_concurrency = 2;
  full.running = 2;
  auto d = PickJob(Cpu(4, {"q"}), {Ordered(jobs, "q")}, {{"q", full}});
  EXPECT_FALSE(d.lease);
  EXPECT_NE(d.waiting["j1"].find("maximum of 2"), std::string::npos);
}

TEST(Scheduler, GpuJobsNeedAGpuAgentAndMemory) {
  std::vector<Job> jobs = {MakeJob("g", "q", 0, 1, 1, 1, 20 * GiB)};
  auto cpu_only = PickJob(Cpu(4, {"q"}), {Ordered(jobs, "q")}, {{"q", {}}});
  EXPECT_FALSE(cpu_only.lease);
  EXPECT_NE(cpu_only.waiting["g"].find("CPU jobs only"), std::string::npos);
  AgentView a = Cpu(4, {"q"});
  a.gpus_enabled = true;
  a.gpus = {Gpu("GPU-small", 10), Gpu("GPU-big", 60)};
  auto d = PickJob(a, {Ordered(jobs, "q")}, {{"q", {}}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->gpu_uuids, std::vector<std::string>{"GPU-big"});
  // 50 GiB promised to a running job on GPU-big: 10 left, the job waits.
  a.ledger = {{"GPU-big", "other", 50 * GiB, false, {}}};
  d = PickJob(a, {Ordered(jobs, "q")}, {{"q", {}}});
  EXPECT_FALSE(d.lease);
}

TEST(Scheduler, MemoryRequestsAreCheckedWhenTheAgentReportsMemory) {
  std::vector<Job> jobs = {MakeJob("m", "q", 0, 1)};
  jobs[0].spec.resources.memory_bytes = 8 * GiB;
  AgentView a = Cpu(4, {"q"});
  a.memory_free = 4 * GiB;
  EXPECT_FALSE(PickJob(a, {Ordered(jobs, "q")}, {{"q", {}}}).lease);
  a.memory_free = -1;  // not reported
  EXPECT_TRUE(PickJob(a, {Ordered(jobs, "q")}, {{"q", {}}}).lease);
}

// Randomized: the chosen job always fits, and no queued job that fits is more urgent than the chosen one
// (higher priority, or equal priority in an earlier queue of the agent, or equal in the same queue but
// older).
TEST(Scheduler, RandomizedChoiceIsTheMostUrgentFittingJob) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<Job> jobs;
    std::vector<std::string> queues = {"q0", "q1", "q2"};
    int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      jobs.push_back(MakeJob("j" + std::to_string(i), queues[rng() % 3], static_cast<int>(rng() % 4), i,
                             1 + static_cast<int>(rng() % 4)));
    }
    AgentView a = Cpu(1 + static_cast<int>(rng() % 4), queues);
    std::vector<std::vector<const Job*>> cand;
    std::map<std::string, QueueView> qv;
    for (const auto& q : queues) {
      cand.push_back(Ordered(jobs, q));
      qv[q] = {};
    }
    auto d = PickJob(a, cand, qv);
    auto rank = [&](const Job* j) {
      int qi = static_cast<int>(std::find(queues.begin(), queues.end(), j->spec.queue) - queues.begin());
      return std::make_tuple(-j->spec.priority, qi, j->seq);
    };
    const Job* best = nullptr;
    for (const auto& j : jobs) {
      if (j.spec.resources.cpus > a.cpus_free) continue;
      if (!best || rank(&j) < rank(best)) best = &j;
    }
    if (!best) {
      ASSERT_FALSE(d.lease) << trial;
      continue;
    }
    ASSERT_TRUE(d.lease) << trial;
    ASSERT_EQ(d.lease->job->id, best->id) << trial;
  }
}

TEST(JobSpec, ValidatesFieldsAndNamesThem) {
  EXPECT_TRUE(
      ParseJobSpec(R"({"queue":"q","command":["echo","hi"],"resources":{"gpus":2,"gpu_memory":"8GiB"}})")
          .ok());
  auto s = ParseJobSpec(
      R"({"queue":"q","command":["x"],"resources":{"gpus":1,"gpu_memory":"8GiB","memory":"512MiB"}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->resources.gpu_memory_bytes, 8 * GiB);
  EXPECT_EQ(s->resources.memory_bytes, 512LL << 20);
  struct Case {
    const char* json;
    const char* field;
  } bad[] = {
      {R"({"command":["x"]})", "queue"},
      {R"({"queue":"q"})", "command"},
      {R"({"queue":"q","command":[]})", "command"},
      {R"({"queue":"q","command":[1]})", "command"},
      {R"({"queue":"q","command":["x"],"priority":"high"})", "priority"},
      {R"({"queue":"q","command":["x"],"resources":{"gpu_memory":"8GiB"}})", "gpu_memory"},
      {R"({"queue":"q","command":["x"],"resources":{"gpus":1,"gpu_memory":"8 parsecs"}})", "gpu_memory"},
      {R"({"queue":"q","command":["x"],"resources":{"tpus":1}})", "tpus"},
      {R"({"queue":"q","command":["x"],"env":{"A":1}})", "env"},
      {R"({"queue":"q","command":["x"],"colour":"red"})", "colour"},
      {R"({"queue":"../etc","command":["x"]})", "queue"},
      {R"({"queue":"q","command":["x"],"git_commit":"abc"})", "git_commit"},
      {R"({"queue":"q","command":["x"],"timeout_s":-1})", "timeout_s"},
      {R"(not json)", "JSON"},
  };
  for (const auto& c : bad) {
    auto r = ParseJobSpec(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.field), std::string::npos)
        << c.json << " -> " << r.status().message();
  }
}

TEST(JobSpec, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("8GiB"), 8 * GiB);
  EXPECT_EQ(*ParseByteSize("2G"), 2000000000);
  EXPECT_EQ(*ParseByteSize("1.5 GiB"), GiB + GiB / 2);
  EXPECT_EQ(*ParseByteSize("100"), 100);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("99999999999TiB").ok());
}

}  // namespace
TEST(Scheduler, TeamQuotaOnRunningJobsHoldsTheTeamBackButNotOthers) {
  std::vector<Job> jobs = {MakeJob("v1", "q", 5, 1), MakeJob("n1", "q", 0, 2)};
  jobs[0].spec.team = "vision";
  jobs[1].spec.team = "nlp";
  QueueView qv;
  TeamQuotaView vision;
  vision.quota.queue = "q";
  vision.quota.team = "vision";
  vision.quota.max_running = 2;
  vision.usage.running = 2;
  qv.teams["vision"] = vision;
  auto d = PickJob(Cpu(8, {"q"}), {Ordered(jobs, "q")}, {{"q", qv}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->job->id, "n1");  // the higher-priority vision job waits on its team's quota
  EXPECT_EQ(d.waiting["v1"], "team 'vision' quota on queue 'q': 2 of 2 running jobs in use");
  qv.teams["vision"].usage.running = 1;
  d = PickJob(Cpu(8, {"q"}), {Ordered(jobs, "q")}, {{"q", qv}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->job->id, "v1");
}

TEST(Scheduler, TeamQuotaOnGpusCountsTheJobsGpus) {
  std::vector<Job> jobs = {MakeJob("big", "q", 0, 1, 1, 2), MakeJob("small", "q", 0, 2, 1, 1)};
  for (auto& j : jobs) j.spec.team = "vision";
  AgentView a = Cpu(8, {"q"});
  a.gpus_enabled = true;
  a.gpus = {Gpu("GPU-a", 80), Gpu("GPU-b", 80), Gpu("GPU-c", 80), Gpu("GPU-d", 80)};
  QueueView qv;
  TeamQuotaView vision;
  vision.quota.max_gpus = 4;
  vision.usage.gpus = 3;
  qv.teams["vision"] = vision;
  auto d = PickJob(a, {Ordered(jobs, "q")}, {{"q", qv}});
  ASSERT_TRUE(d.lease);
  EXPECT_EQ(d.lease->job->id, "small");  // 3 + 2 > 4, 3 + 1 fits
  EXPECT_EQ(d.waiting["big"], "team 'vision' quota on queue 'q': 3 of 4 GPUs in use; this job needs 2");
  // CPU jobs are not held by a GPU quota; a job of a team without a quota is not held at all.
  Job cpu = MakeJob("cpu", "q", 0, 3);
  cpu.spec.team = "vision";
  qv.teams["vision"].usage.gpus = 4;
  std::vector<std::string> gpus;
  EXPECT_EQ(FitJob(cpu, a, qv, &gpus), "");
  Job other = MakeJob("o", "q", 0, 4, 1, 1);
  other.spec.team = "nlp";
  EXPECT_EQ(FitJob(other, a, qv, &gpus), "");
}

TEST(JobQuota, ParsesTiersAndQuotasStatedInTiers) {
  auto tier = ParseResourceTier(R"({"name":"gpu2","cpus":8,"memory":"32GiB","gpus":2})");
  ASSERT_TRUE(tier.ok()) << tier.status().ToString();
  EXPECT_EQ(tier->resources.memory_bytes, 32 * GiB);
  std::map<std::string, ResourceTier> tiers = {{"gpu2", *tier}};
  auto q = ParseTeamQuota(R"({"queue":"q","team":"vision","tier":"gpu2","count":3,"max_queued":10})", &tiers);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->max_running, 3);
  EXPECT_EQ(q->max_gpus, 6);
  EXPECT_EQ(q->max_queued, 10);
  // Stored form reads back without the tier (it may since have been removed).
  auto back = ParseTeamQuota(TeamQuotaJson(*q), nullptr);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->max_gpus, 6);
  EXPECT_EQ(back->tier_count, 3);
  for (const char* bad :
       {R"({"queue":"q","team":"t","tier":"nope","count":1})", R"({"queue":"q","team":"t","tier":"gpu2"})",
        R"({"queue":"q","team":"t","count":2})", R"({"queue":"q","team":"t","max_gpus":-2})",
        R"({"queue":"q","team":"","max_gpus":1})", R"({"queue":"q","team":"t","max_gpus":"4"})",
        R"({"queue":"q","team":"t","x":1})", R"([1])", R"({"team":"t"})"}) {
    EXPECT_FALSE(ParseTeamQuota(bad, &tiers).ok()) << bad;
  }
  for (const char* bad :
       {R"({"name":"-x"})", R"({"name":"a","gpus":65})", R"({"name":"a","gpu_memory":"8GiB"})",
        R"({"name":"a","memory":"lots"})", R"({"cpus":1})"}) {
    EXPECT_FALSE(ParseResourceTier(bad).ok()) << bad;
  }
}

}  // namespace tamga
