// JobService: queues, resource tiers and team quotas (docs/jobs.md, "Tiers and quotas"). Usage per (queue,
// team) is counted as jobs move (queued, leased/running, GPUs held), so a lease decision reads it without a
// scan.
#include "core/utf8.h"
#include "jobs/job_service.h"

namespace tamga {
namespace {

constexpr const char* kTier = "tier";
constexpr const char* kQuota = "quota";

std::string QuotaKey(const std::string& queue, const std::string& team) { return queue + "\t" + team; }

}  // namespace

Status JobService::LoadPolicies() {
  TAMGA_ASSIGN_OR_RETURN(auto tiers, store_->ListPolicies(kTier));
  for (const auto& json : tiers) {
    auto t = ParseResourceTier(json);
    if (!t.ok()) return Internal("stored tier is unreadable: " + t.status().message());
    tiers_[t->name] = *t;
  }
  TAMGA_ASSIGN_OR_RETURN(auto quotas, store_->ListPolicies(kQuota));
  for (const auto& json : quotas) {
    auto q = ParseTeamQuota(json, nullptr);  // stored resolved: the tier is only a note
    if (!q.ok()) return Internal("stored quota is unreadable: " + q.status().message());
    quotas_[{q->queue, q->team}] = *q;
  }
  return Status::Ok();
}

void JobService::Charge(const Job& job, int queued, int running) {
  if (job.spec.team.empty()) return;
  TeamUsage& u = usage_[{job.spec.queue, job.spec.team}];
  u.queued += queued;
  u.running += running;
  u.gpus += running * job.spec.resources.gpus;
}

std::map<std::string, TeamQuotaView> JobService::QuotaViews(const std::string& queue) const {
  std::map<std::string, TeamQuotaView> out;
  for (auto it = quotas_.lower_bound({queue, ""}); it != quotas_.end() && it->first.first == queue; ++it) {
    TeamQuotaView v;
    v.quota = it->second;
    auto u = usage_.find(it->first);
    if (u != usage_.end()) v.usage = u->second;
    out[it->first.second] = v;
  }
  return out;
}

Status JobService::AdmitSpecs(std::vector<JobSpec>& specs) {
  std::map<TeamKey, int> adding;
  for (size_t i = 0; i < specs.size(); ++i) {
    JobSpec& spec = specs[i];
    std::string where = specs.size() == 1 ? "" : "jobs[" + std::to_string(i) + "]: ";
    if (!spec.tier.empty()) {
      auto t = tiers_.find(spec.tier);
      if (t == tiers_.end()) {
        std::string names;
        for (const auto& [n, _] : tiers_) names += (names.empty() ? "" : ", ") + n;
        return InvalidArgument(where + "unknown tier '" + std::string(Utf8Prefix(spec.tier, 64)) + "'" +
                               (names.empty() ? "; no tiers are defined" : "; tiers: " + names));
      }
      if (spec.resources_given)
        return InvalidArgument(where + "a job names either a tier or its resources, not both");
      spec.resources = t->second.resources;
    }
    if (!spec.team.empty()) adding[{spec.queue, spec.team}]++;
  }
  for (const auto& [key, n] : adding) {
    auto q = quotas_.find(key);
    if (q == quotas_.end() || q->second.max_queued < 0) continue;
    auto u = usage_.find(key);
    auto p = pending_.find(key);
    int held = (u == usage_.end() ? 0 : u->second.queued) + (p == pending_.end() ? 0 : p->second);
    if (held + n > q->second.max_queued) {
      return ResourceExhausted("team '" + key.second + "' quota on queue '" + key.first +
                               "': " + std::to_string(held) + " of " + std::to_string(q->second.max_queued) +
                               " queued jobs in use; this submission adds " + std::to_string(n) +
                               ". Wait for jobs to start, or ask an admin for a larger quota.");
    }
  }
  for (const auto& [key, n] : adding) pending_[key] += n;
  return Status::Ok();
}

void JobService::ReleasePending(const std::vector<Job>& jobs) {
  for (const auto& j : jobs) {
    if (j.spec.team.empty()) continue;
    auto p = pending_.find({j.spec.queue, j.spec.team});
    if (p != pending_.end() && --p->second <= 0) pending_.erase(p);
  }
}

Result<ResourceTier> JobService::PutTier(ResourceTier tier) {
  MutexLock lock(&mu_);
  TAMGA_RETURN_IF_ERROR(store_->PutPolicy(kTier, tier.name, ResourceTierJson(tier)));
  tiers_[tier.name] = tier;
  return tier;
}

Status JobService::DeleteTier(const std::string& name) {
  MutexLock lock(&mu_);
  if (!tiers_.count(name)) return NotFound("tier '" + std::string(Utf8Prefix(name, 64)) + "' does not exist");
  TAMGA_RETURN_IF_ERROR(store_->DeletePolicy(kTier, name));
  tiers_.erase(name);
  return Status::Ok();
}

std::vector<ResourceTier> JobService::ListTiers() {
  MutexLock lock(&mu_);
  std::vector<ResourceTier> out;
  for (const auto& [_, t] : tiers_) out.push_back(t);
  return out;
}

Result<TeamQuota> JobService::PutQuota(const std::string& json) {
  Callbacks out;
  TeamQuota q;
  {
    MutexLock lock(&mu_);
    TAMGA_ASSIGN_OR_RETURN(q, ParseTeamQuota(json, &tiers_));
    if (!queues_.count(q.queue))
      return NotFound("queue '" + std::string(Utf8Prefix(q.queue, 64)) + "' does not exist");
    for (char c : q.team) {
      if (static_cast<unsigned char>(c) < 0x20)
        return InvalidArgument("field 'team' has a control character");
    }
    TAMGA_RETURN_IF_ERROR(store_->PutPolicy(kQuota, QuotaKey(q.queue, q.team), TeamQuotaJson(q)));
    quotas_[{q.queue, q.team}] = q;
    ServeWaiters(&out);  // a raised quota may let jobs start
  }
  for (auto& f : out) f();
  return q;
}

Status JobService::DeleteQuota(const std::string& queue, const std::string& team) {
  Callbacks out;
  {
    MutexLock lock(&mu_);
    if (!quotas_.count({queue, team}))
      return NotFound("no quota for team '" + std::string(Utf8Prefix(team, 64)) + "' on queue '" +
                      std::string(Utf8Prefix(queue, 64)) + "'");
    TAMGA_RETURN_IF_ERROR(store_->DeletePolicy(kQuota, QuotaKey(queue, team)));
    quotas_.erase({queue, team});
    ServeWaiters(&out);
  }
  for (auto& f : out) f();
  return Status::Ok();
}

std::vector<QuotaSummary> JobService::ListQuotas(const std::string& queue) {
  MutexLock lock(&mu_);
  std::vector<QuotaSummary> out;
  for (const auto& [key, q] : quotas_) {
    if (!queue.empty() && key.first != queue) continue;
    QuotaSummary s;
    s.quota = q;
    auto u = usage_.find(key);
    if (u != usage_.end()) s.usage = u->second;
    out.push_back(s);
  }
  return out;
}

std::string JobService::QuotaTeam(const std::string& queue, const std::vector<std::string>& teams) {
  MutexLock lock(&mu_);
  std::string best;
  for (const auto& t : teams) {
    if (quotas_.count({queue, t}) && (best.empty() || t < best)) best = t;
  }
  return best;
}

// ---- queues -------------------------------------------------------------------------------------------

Result<QueueInfo> JobService::PutQueue(QueueInfo q) {
  if (q.name.empty() || q.name.size() > 64 ||
      q.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos ||
      q.name[0] == '.' || q.name[0] == '-' || q.name[0] == '_') {
    return InvalidArgument("invalid queue name '" + std::string(Utf8Prefix(q.name, 64)) +
                           "': use letters, digits, '.', '_' and '-'");
  }
  if (q.max_concurrency < 0 || q.max_concurrency > 1000000)
    return InvalidArgument("max_concurrency must be in [0, 1000000]");
  if (!ParsePlacementStrategy(q.strategy)) return InvalidArgument("strategy must be 'spread' or 'pack'");
  Callbacks out;
  {
    MutexLock lock(&mu_);
    auto it = queues_.find(q.name);
    q.created_ms = it == queues_.end() ? clock_->NowMillis() : it->second.created_ms;
    TAMGA_RETURN_IF_ERROR(store_->PutQueue({q.name, q.max_concurrency, q.strategy, q.created_ms}));
    queues_[q.name] = q;
    ServeWaiters(&out);  // a raised limit may let jobs start
  }
  for (auto& f : out) f();
  return q;
}

bool JobService::QueueExists(const std::string& name) {
  {
    MutexLock lock(&mu_);
    if (queues_.count(name)) return true;
    if (loaded_) return false;
  }
  // Not loaded (another replica runs the scheduler): the job store knows every queue.
  auto stored = store_->ListQueues();
  if (!stored.ok()) return false;
  for (const auto& q : *stored)
    if (q.name == name) return true;
  return false;
}

std::vector<QueueSummary> JobService::ListQueues() {
  MutexLock lock(&mu_);
  std::vector<QueueSummary> out;
  for (const auto& [name, q] : queues_) {
    QueueSummary s;
    s.queue = q;
    auto it = queued_.find(name);
    s.queued = it == queued_.end() ? 0 : static_cast<int>(it->second.size());
    s.running = RunningIn(name);
    for (const auto& [id, a] : agents_) {
      if (!a.live) continue;
      for (const auto& aq : a.report.queues) s.agents += aq == name ? 1 : 0;
    }
    for (auto& [team, v] : QuotaViews(name)) s.quotas.push_back({std::move(v.quota), v.usage});
    out.push_back(s);
  }
  return out;
}

}  // namespace tamga
