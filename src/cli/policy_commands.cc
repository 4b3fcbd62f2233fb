#include "cli/policy_commands.h"

#include <iostream>

#include "cli/cli_http.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string Gib(int64_t bytes) {
  if (bytes <= 0) return "-";
  if (bytes % (int64_t{1} << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  return std::to_string(bytes >> 20) + "MiB";
}

std::string Limit(const json& q, const char* key) {
  int v = q.value(key, -1);
  return v < 0 ? std::string("-") : std::to_string(v);
}

// Runs `call` and prints its JSON (--json) or `done`.
template <typename Print>
int Run(const Common& c, const std::string& method, const std::string& path, const json& body, Print print) {
  int code = 0;
  auto r = Call(c, method, path, body, &code);
  if (!r) return code;
  if (c.as_json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  print(*r);
  return 0;
}

}  // namespace

PolicyCommands AddPolicyCommands(CLI::App& app) {
  PolicyCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;

  // ---- queues
  auto* queues = app.add_subcommand("queues", "List and create job queues.");
  queues->require_subcommand(1);
  auto queue_c = std::make_shared<Common>();
  auto* queue_ls = queues->add_subcommand("ls", "Queues with queued/running counts and live agents.");
  AddServerOptions(queue_ls, queue_c.get());
  queue_ls->callback([action, queue_c] {
    *action = [queue_c]() -> int {
      int code = 0;
      auto r = Call(*queue_c, "GET", "/api/2.0/tamga/queues", json(), &code);
      if (!r) return code;
      if (queue_c->as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
      }
      for (const auto& q : (*r)["queues"]) {
        std::cout << q.value("name", "") << "  queued=" << q.value("queued", 0)
                  << "  running=" << q.value("running", 0) << "  agents=" << q.value("agents", 0)
                  << "  max_concurrency=" << q.value("max_concurrency", 0)
                  << "  strategy=" << q.value("strategy", "") << "\n";
        // Usage against each team's quota (-1 = no limit on that dimension).
        auto lim = [](const json& x, const char* k) {
          int v = x.value(k, -1);
          return v < 0 ? std::string("-") : std::to_string(v);
        };
        for (const auto& t : q.value("quotas", json::array())) {
          const json& u = t["usage"];
          std::cout << "  team " << t.value("team", "") << "  gpus=" << u.value("gpus", 0) << "/"
                    << lim(t, "max_gpus") << "  running=" << u.value("running", 0) << "/"
                    << lim(t, "max_running") << "  queued=" << u.value("queued", 0) << "/"
                    << lim(t, "max_queued");
          if (t.contains("tier"))
            std::cout << "  (" << t.value("count", 0) << " x " << t.value("tier", "") << ")";
          std::cout << "\n";
        }
      }
      return 0;
    };
  });
  struct QueueCreate {
    std::string name, strategy = "spread";
    int max_concurrency = 0;
  };
  auto queue_cr = std::make_shared<QueueCreate>();
  auto* queue_create = queues->add_subcommand("create", "Create or update a queue.");
  AddServerOptions(queue_create, queue_c.get());
  queue_create->add_option("name", queue_cr->name)->required();
  queue_create->add_option("--max-concurrency", queue_cr->max_concurrency,
                           "Jobs of the queue running at once (0 = unlimited)");
  queue_create->add_option("--strategy", queue_cr->strategy,
                           "GPU placement: spread (least loaded) or pack (best fit)");
  queue_create->callback([action, queue_c, queue_cr] {
    *action = [queue_c, queue_cr]() -> int {
      int code = 0;
      auto r = Call(*queue_c, "POST", "/api/2.0/tamga/queues",
                    {{"name", queue_cr->name},
                     {"max_concurrency", queue_cr->max_concurrency},
                     {"strategy", queue_cr->strategy}},
                    &code);
      if (!r) return code;
      std::cout << (queue_c->as_json ? r->dump(2) : "queue " + queue_cr->name + " saved") << "\n";
      return 0;
    };
  });

  // ---- tiers
  auto* tiers = app.add_subcommand("tiers", "Resource tiers jobs pick with --tier (admins define them).");
  tiers->require_subcommand(1);
  auto tc = std::make_shared<Common>();
  auto* tls = tiers->add_subcommand("ls", "List the tiers.");
  AddServerOptions(tls, tc.get());
  tls->callback([action, tc] {
    *action = [tc] {
      return Run(*tc, "GET", "/api/2.0/tamga/tiers", json(), [](const json& r) {
        for (const auto& t : r.value("tiers", json::array())) {
          std::cout << t.value("name", "") << "  cpus=" << t.value("cpus", 0)
                    << "  memory=" << Gib(t.value("memory", int64_t{0})) << "  gpus=" << t.value("gpus", 0)
                    << "  gpu_memory=" << Gib(t.value("gpu_memory", int64_t{0}));
          if (t.contains("description")) std::cout << "  " << t.value("description", "");
          std::cout << "\n";
        }
      });
    };
  });
  struct TierSet {
    std::string name, memory, gpu_memory, description;
    int cpus = 1, gpus = 0;
  };
  auto ts = std::make_shared<TierSet>();
  auto* tset = tiers->add_subcommand("set", "Create or change a tier (admins).");
  AddServerOptions(tset, tc.get());
  tset->add_option("name", ts->name, "e.g. cpu, gpu1, gpu8")->required();
  tset->add_option("--cpus", ts->cpus, "CPUs")->capture_default_str();
  tset->add_option("--memory", ts->memory, "Memory, e.g. 32GiB");
  tset->add_option("--gpus", ts->gpus, "GPUs")->capture_default_str();
  tset->add_option("--gpu-memory", ts->gpu_memory, "Memory per GPU (omit for whole GPUs)");
  tset->add_option("--description", ts->description, "Shown to users");
  tset->callback([action, tc, ts] {
    *action = [tc, ts] {
      json body = {{"name", ts->name}, {"cpus", ts->cpus}, {"gpus", ts->gpus}};
      if (!ts->memory.empty()) body["memory"] = ts->memory;
      if (!ts->gpu_memory.empty()) body["gpu_memory"] = ts->gpu_memory;
      if (!ts->description.empty()) body["description"] = ts->description;
      return Run(*tc, "PUT", "/api/2.0/tamga/tiers", body,
                 [ts](const json&) { std::cout << "tier " << ts->name << " saved\n"; });
    };
  });
  auto tname = std::make_shared<std::string>();
  auto* trm = tiers->add_subcommand("rm", "Remove a tier (admins); queued jobs keep their resources.");
  AddServerOptions(trm, tc.get());
  trm->add_option("name", *tname)->required();
  trm->callback([action, tc, tname] {
    *action = [tc, tname] {
      return Run(*tc, "DELETE", "/api/2.0/tamga/tiers/" + Escape(*tname), json(),
                 [tname](const json&) { std::cout << "tier " << *tname << " removed\n"; });
    };
  });

  // ---- quotas
  auto* quotas = app.add_subcommand("quotas", "Team quotas on job queues (admins set them).");
  quotas->require_subcommand(1);
  auto qc = std::make_shared<Common>();
  auto qq = std::make_shared<std::string>();
  auto* qls = quotas->add_subcommand("ls", "Quotas with what each team uses now.");
  AddServerOptions(qls, qc.get());
  qls->add_option("--queue", *qq, "Only this queue");
  qls->callback([action, qc, qq] {
    *action = [qc, qq] {
      std::string path = "/api/2.0/tamga/quotas" + (qq->empty() ? "" : "?queue=" + Escape(*qq));
      return Run(*qc, "GET", path, json(), [](const json& r) {
        for (const auto& q : r.value("quotas", json::array())) {
          const json& u = q["usage"];
          std::cout << q.value("queue", "") << "  team " << q.value("team", "")
                    << "  gpus=" << u.value("gpus", 0) << "/" << Limit(q, "max_gpus")
                    << "  running=" << u.value("running", 0) << "/" << Limit(q, "max_running")
                    << "  queued=" << u.value("queued", 0) << "/" << Limit(q, "max_queued");
          if (q.contains("tier"))
            std::cout << "  (" << q.value("count", 0) << " x " << q.value("tier", "") << ")";
          std::cout << "\n";
        }
      });
    };
  });
  struct QuotaSet {
    std::string queue, team, tier;
    int max_gpus = -1, max_running = -1, max_queued = -1, count = -1;
  };
  auto qs = std::make_shared<QuotaSet>();
  auto* qset = quotas->add_subcommand("set", "Set a team's quota on a queue (admins); omitted = no limit.");
  AddServerOptions(qset, qc.get());
  qset->add_option("queue", qs->queue)->required();
  qset->add_option("team", qs->team)->required();
  qset->add_option("--max-gpus", qs->max_gpus, "GPUs its running jobs hold at once");
  qset->add_option("--max-running", qs->max_running, "Jobs running at once");
  qset->add_option("--max-queued", qs->max_queued, "Jobs waiting at once");
  auto* tier = qset->add_option("--tier", qs->tier, "State the quota in a tier: --tier gpu2 --count 3");
  qset->add_option("--count", qs->count, "How many jobs of --tier")->needs(tier);
  qset->callback([action, qc, qs] {
    *action = [qc, qs] {
      json body = {{"queue", qs->queue}, {"team", qs->team}};
      if (qs->max_gpus >= 0) body["max_gpus"] = qs->max_gpus;
      if (qs->max_running >= 0) body["max_running"] = qs->max_running;
      if (qs->max_queued >= 0) body["max_queued"] = qs->max_queued;
      if (!qs->tier.empty()) body["tier"] = qs->tier;
      if (qs->count >= 0) body["count"] = qs->count;
      return Run(*qc, "PUT", "/api/2.0/tamga/quotas", body, [qs](const json&) {
        std::cout << "quota for team " << qs->team << " on queue " << qs->queue << " saved\n";
      });
    };
  });
  auto* qrm = quotas->add_subcommand("rm", "Remove a team's quota on a queue (admins).");
  AddServerOptions(qrm, qc.get());
  qrm->add_option("queue", qs->queue)->required();
  qrm->add_option("team", qs->team)->required();
  qrm->callback([action, qc, qs] {
    *action = [qc, qs] {
      return Run(*qc, "DELETE", "/api/2.0/tamga/quotas", {{"queue", qs->queue}, {"team", qs->team}},
                 [qs](const json&) { std::cout << "quota removed\n"; });
    };
  });
  return cmds;
}

int RunPolicyCommands(const PolicyCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
