#include "cli/job_commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/agent.h"
#include "cli/cli_http.h"
#include "cli/job_code.h"
#include "gpu/gpu_probe.h"
#include "jobs/job_wire.h"
#include "jobs/k8s_render.h"
#include "net/http_client.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string Bytes(int64_t b) {
  char buf[32];
  if (b < 0) return "-";
  std::snprintf(buf, sizeof(buf), "%.1f GiB", b / 1073741824.0);
  return buf;
}

void PrintJob(const json& j) {
  std::cout << j.value("id", "") << "  " << j.value("state", "") << "  queue=" << j.value("queue", "")
            << "  priority=" << j.value("priority", 0) << "  attempts=" << j.value("attempts", 0);
  if (!j.value("reason", "").empty()) std::cout << "  reason=" << j.value("reason", "");
  if (j.contains("waiting_for")) std::cout << "  waiting_for=" << j.value("waiting_for", "");
  if (!j.value("agent_id", "").empty()) std::cout << "  agent=" << j.value("agent_id", "");
  if (j.contains("gpu_uuids") && !j["gpu_uuids"].empty()) std::cout << "  gpus=" << j["gpu_uuids"].dump();
  std::cout << "  run=" << j.value("run_id", "") << "\n";
}

bool SplitKv(const std::string& kv, json* into) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  (*into)[kv.substr(0, eq)] = kv.substr(eq + 1);
  return true;
}

}  // namespace

std::vector<std::string>& TrailingCommand() {
  static std::vector<std::string> cmd;
  return cmd;
}

int TakeJobCommand(int argc, char** argv) {
  bool jobs = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "jobs" || a == "triggers") jobs = true;
    if (a == "--" && jobs) {
      for (int k = i + 1; k < argc; ++k) TrailingCommand().push_back(argv[k]);
      return i;
    }
  }
  return argc;
}

JobCommands AddJobCommands(CLI::App& app) {
  JobCommands out;
  out.action = std::make_shared<std::function<int()>>();
  auto action = out.action;

  // ---- tamga agent
  auto agent_cfg = std::make_shared<AgentConfig>();
  auto memory = std::make_shared<std::string>();
  auto* agent = app.add_subcommand("agent", "Run jobs from the server's queues on this machine.");
  agent_cfg->server = DefaultUri();
  agent
      ->add_option("--tracking-uri", agent_cfg->server,
                   "Tamga server URL (env TAMGA_TRACKING_URI / MLFLOW_TRACKING_URI)")
      ->capture_default_str();
  agent->add_option("--server", agent_cfg->server, "Old spelling of --tracking-uri")->group("");
  agent->add_option("--token", agent_cfg->token,
                    "Agent token (env TAMGA_TOKEN): tamga tokens create --role agent");
  agent->add_option("--queue", agent_cfg->queues, "Queue to serve (repeat; the first has priority)")
      ->required();
  agent->add_option("--gpus", agent_cfg->gpus, "all | none | comma-separated NVML indices or UUIDs")
      ->check(CheckGpuSelection)
      ->capture_default_str();
  agent->add_option("--name", agent_cfg->name, "Agent name (default: hostname)");
  agent->add_flag("--keep-job-dirs", agent_cfg->keep_job_dirs,
                  "Keep each job's scratch folder after it ends (default: removed)");
  agent->add_option("--cpus", agent_cfg->cpus, "CPUs offered (default: all cores)");
  agent->add_option("--memory", *memory, "Memory offered, e.g. 32GiB (default: MemTotal)");
  agent->add_option("--work-dir", agent_cfg->work_dir, "Scratch directories and the agent id live here")
      ->capture_default_str();
  agent->add_option("--heartbeat-ms", agent_cfg->heartbeat_ms, "Heartbeat interval")->capture_default_str();
  agent->add_option("--grace-ms", agent_cfg->grace_ms, "SIGTERM to SIGKILL on abort or timeout")
      ->capture_default_str();
  agent
      ->add_option("--metrics-port", agent_cfg->metrics_port,
                   "GPU metrics (dcgm-exporter names) on /metrics; 0 picks a free port, -1 turns it off")
      ->capture_default_str();
  agent->add_option("--metrics-host", agent_cfg->metrics_host, "Address /metrics listens on")
      ->capture_default_str();
  agent->add_option("--metrics-port-file", agent_cfg->metrics_port_file,
                    "Write the bound metrics port to this file");
  agent->callback([action, agent_cfg, memory] {
    *action = [agent_cfg, memory]() -> int {
      if (!memory->empty()) {
        auto b = ParseByteSize(*memory);
        if (!b.ok()) {
          std::cerr << "error: --memory: " << b.status().message() << "\n";
          return 2;
        }
        agent_cfg->memory_bytes = *b;
      }
      std::unique_ptr<GpuProbe> probe;
      if (agent_cfg->gpus != "none") probe = NewNvmlProbe();
      JobAgent a(*agent_cfg, std::move(probe));
      Status s = a.Run();
      if (!s.ok()) {
        std::cerr << "error: " << s.message() << "\n";
        return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
      }
      return 0;
    };
  });

  // ---- tamga jobs
  auto* jobs = app.add_subcommand("jobs", "Submit, inspect, abort and follow jobs.");
  jobs->require_subcommand(1);

  struct Submit {
    Common c;
    json spec = json::object();
    std::string queue, gpu_memory, memory, workdir, git_repo, git_commit, experiment, experiment_name,
        run_name, tier, team;
    int priority = 0, gpus = 0, cpus = 1, max_retries = 2;
    int64_t timeout = 0;
    std::vector<std::string> env, tags, command, data;
    CodeOptions code;
    int max_code_mb = 50, max_untracked_mb = 1;
  };
  auto sub = std::make_shared<Submit>();
  auto* submit = jobs->add_subcommand("submit", "Queue a job; prints its id on the last line.");
  AddServerOptions(submit, &sub->c);
  submit->add_option("--queue", sub->queue, "Queue")->required();
  submit->add_option("--priority", sub->priority, "Higher runs first");
  auto* tier =
      submit->add_option("--tier", sub->tier, "A resource tier (tamga tiers ls) instead of quantities");
  submit->add_option("--team", sub->team, "Team the job is charged to (quotas; default: yours with a quota)");
  submit->add_option("--gpus", sub->gpus, "GPUs")->excludes(tier);
  submit->add_option("--gpu-memory", sub->gpu_memory, "Memory per GPU, e.g. 8GiB (omit for whole GPUs)")
      ->excludes(tier);
  submit->add_option("--cpus", sub->cpus, "CPUs")->excludes(tier);
  submit->add_option("--memory", sub->memory, "Memory, e.g. 4GiB")->excludes(tier);
  submit->add_option("--timeout", sub->timeout, "Seconds before the job is stopped (0 = none)");
  submit->add_option("--max-retries", sub->max_retries, "Requeues after infrastructure failures");
  submit->add_option("--env", sub->env,
                     "KEY=VALUE (repeat); 'requirements' re-creates this Python's packages on the agent");
  submit->add_option("--tag", sub->tags, "KEY=VALUE run tag (repeat)");
  submit->add_option("--data", sub->data,
                     "NAME[@VERSION|@TAG][:PATH] a dataset checked out into the job's folder (default "
                     "data/NAME) and recorded on its run (repeat)");
  submit->add_option("--workdir", sub->workdir, "Working directory on the agent");
  submit->add_option("--git-repo", sub->git_repo, "Clone this repository for the job");
  submit->add_option("--git-commit", sub->git_commit, "Commit or ref to check out");
  auto* exp_id = submit->add_option("--experiment-id", sub->experiment, "Experiment (id) of the job's run");
  submit
      ->add_option("--experiment", sub->experiment_name,
                   "Experiment (name) of the job's run; created when missing, like mlflow.set_experiment")
      ->excludes(exp_id);
  submit->add_option("--run-name", sub->run_name, "Name of the job's run");
  submit
      ->add_option("--code", sub->code.mode,
                   "Ship the code: auto (git inside a checkout, else dir), git, dir, none (docs/jobs.md)")
      ->check(CLI::IsMember({"auto", "git", "dir", "none"}))
      ->capture_default_str();
  submit->add_option("--max-code-mb", sub->max_code_mb, "Largest code patch or archive shipped")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  submit
      ->add_option("--max-untracked-mb", sub->max_untracked_mb,
                   "Untracked files larger than this stay behind")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  submit->add_option("command", sub->command, "-- COMMAND ARGS...");
  submit->callback([action, sub] {
    *action = [sub]() -> int {
      for (const auto& a : TrailingCommand()) sub->command.push_back(a);
      if (sub->command.empty()) {
        std::cerr << "error: give the job's command after --, e.g. tamga jobs submit --queue q -- python3 "
                     "train.py\n";
        return 2;
      }
      json& s = sub->spec;
      s["queue"] = sub->queue;
      s["priority"] = sub->priority;
      s["command"] = sub->command;
      json res = {{"cpus", sub->cpus}, {"gpus", sub->gpus}};
      if (!sub->gpu_memory.empty()) res["gpu_memory"] = sub->gpu_memory;
      if (!sub->memory.empty()) res["memory"] = sub->memory;
      if (sub->tier.empty()) {
        s["resources"] = res;
      } else {
        s["tier"] = sub->tier;
      }
      if (!sub->team.empty()) s["team"] = sub->team;
      s["timeout_s"] = sub->timeout;
      s["max_retries"] = sub->max_retries;
      json env = json::object(), tags = json::object();
      for (const auto& kv : sub->env) {
        if (kv == "requirements") {  // --env requirements: re-create this Python's packages on the agent
          sub->code.requirements = true;
          continue;
        }
        if (!SplitKv(kv, &env))
          return std::cerr << "error: --env wants KEY=VALUE or 'requirements', got " << kv << "\n", 2;
      }
      for (const auto& kv : sub->tags) {
        if (!SplitKv(kv, &tags)) return std::cerr << "error: --tag wants KEY=VALUE, got " << kv << "\n", 2;
      }
      s["env"] = env;
      s["tags"] = tags;
      if (!sub->data.empty()) {
        s["data"] = json::array();
        for (const auto& d : sub->data) {
          size_t colon = d.find(':');
          json entry = {{"ref", d.substr(0, colon)}};
          if (colon != std::string::npos) entry["path"] = d.substr(colon + 1);
          s["data"].push_back(entry);
        }
      }
      if (!sub->workdir.empty()) s["working_dir"] = sub->workdir;
      if (!sub->git_repo.empty()) s["git_repo"] = sub->git_repo;
      if (!sub->git_commit.empty()) s["git_commit"] = sub->git_commit;
      int code = 0;
      if (!sub->experiment_name.empty()) {
        auto id = ExperimentByName(sub->c, sub->experiment_name, &code);
        if (!id) return code;
        sub->experiment = *id;
      }
      if (!sub->experiment.empty()) s["experiment_id"] = sub->experiment;
      if (!sub->run_name.empty()) s["run_name"] = sub->run_name;
      sub->code.max_bytes = int64_t{sub->max_code_mb} << 20;
      sub->code.max_untracked_file_bytes = int64_t{sub->max_untracked_mb} << 20;
      // The queue first: nothing is packed or uploaded for a submission the server will refuse.
      auto queues = Call(sub->c, "GET", "/api/2.0/tamga/queues", json(), &code);
      if (!queues) return code;
      bool known = false;
      for (const auto& q : queues->value("queues", json::array()))
        known = known || q.value("name", "") == sub->queue;
      if (!known)
        return std::cerr << "error: queue '" << sub->queue << "' does not exist (tamga queues ls)\n", 1;
      Status shipped = ShipJobCode(sub->c, sub->code, sub->command, &s);
      if (!shipped.ok()) return std::cerr << "error: " << shipped.message() << "\n", 2;
      auto r = Call(sub->c, "POST", "/api/2.0/tamga/jobs", s, &code);
      if (!r) return code;
      if (sub->c.as_json)
        std::cout << r->dump(2) << "\n";
      else
        PrintJob((*r)["job"]);
      std::cout << (*r)["job"].value("id", "") << "\n";
      return 0;
    };
  });

  // ---- tamga jobs submit-batch FILE: JSON lines, sent kMaxJobBatch at a time (each request all or none).
  struct Batch {
    Common c;
    std::string file;
  };
  auto batch = std::make_shared<Batch>();
  auto* submit_batch = jobs->add_subcommand(
      "submit-batch",
      "Queue many jobs from a file of JSON job specs, one per line ('-' = stdin); prints their ids.");
  AddServerOptions(submit_batch, &batch->c);
  submit_batch->add_option("file", batch->file, "JSON lines: one job spec (as POST /jobs takes) per line")
      ->required();
  submit_batch->callback([action, batch] {
    *action = [batch]() -> int {
      std::ifstream f;
      if (batch->file != "-") {
        f.open(batch->file);
        if (!f) return std::cerr << "error: cannot read " << batch->file << "\n", 2;
      }
      std::istream& in = batch->file == "-" ? std::cin : f;
      std::vector<json> specs;
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json spec = json::parse(line, nullptr, false);
        if (!spec.is_object()) return std::cerr << "error: line " << n << " is not a JSON object\n", 2;
        specs.push_back(std::move(spec));
      }
      if (specs.empty()) return std::cerr << "error: no job specs in " << batch->file << "\n", 2;
      size_t queued = 0;
      for (size_t start = 0; start < specs.size(); start += kMaxJobBatch) {
        size_t end = std::min(specs.size(), start + kMaxJobBatch);
        json body = {{"jobs", json(std::vector<json>(specs.begin() + start, specs.begin() + end))}};
        int code = 0;
        auto r = Call(batch->c, "POST", "/api/2.0/tamga/jobs/batch", body, &code);
        if (!r) {
          std::cerr << "error: specs " << start + 1 << ".." << end
                    << " of the file were refused (jobs[i] above is spec " << start + 1 << "+i); " << queued
                    << " jobs were queued before them\n";
          return code;
        }
        for (const auto& j : (*r)["jobs"]) std::cout << j.value("id", "") << "\n";
        queued += (*r)["jobs"].size();
      }
      return 0;
    };
  });

  struct One {
    Common c;
    std::string id;
    bool follow = false;
    int abort_wait_s = 60;
  };
  auto one = std::make_shared<One>();
  auto* show = jobs->add_subcommand("show", "Show a job (state, reason, run, GPUs).");
  AddServerOptions(show, &one->c);
  show->add_option("id", one->id, "Job id (job-...)")->required();
  show->callback([action, one] {
    *action = [one]() -> int {
      int code = 0;
      auto r = Call(one->c, "GET", "/api/2.0/tamga/jobs/" + Escape(one->id), json(), &code);
      if (!r) return code;
      if (one->c.as_json)
        std::cout << (*r)["job"].dump(2) << "\n";
      else
        PrintJob((*r)["job"]);
      return 0;
    };
  });
  auto* abort =
      jobs->add_subcommand("abort", "Abort a job (queued: at once; running: SIGTERM, grace, SIGKILL).");
  AddServerOptions(abort, &one->c);
  abort->add_option("id", one->id, "Job id (job-...)")->required();
  abort
      ->add_option("--wait", one->abort_wait_s,
                   "Seconds to wait for the job to end and print its final state")
      ->capture_default_str();
  abort->callback([action, one] {
    *action = [one]() -> int {
      int code = 0;
      auto r =
          Call(one->c, "POST", "/api/2.0/tamga/jobs/" + Escape(one->id) + "/abort", json::object(), &code);
      if (!r) return code;
      // A running job ends after SIGTERM, its grace period and maybe SIGKILL: show the state it ends in.
      json job = (*r)["job"];
      auto terminal = [](const json& j) {
        auto st = ParseJobState(j.is_object() ? j.value("state", "") : "");
        return st && IsTerminal(*st);
      };
      for (int waited_ms = 0; !terminal(job) && waited_ms < one->abort_wait_s * 1000; waited_ms += 500) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        auto g = Call(one->c, "GET", "/api/2.0/tamga/jobs/" + Escape(one->id), nullptr, &code);
        if (!g) return code;
        job = (*g)["job"];
      }
      if (one->c.as_json)
        std::cout << job.dump(2) << "\n";
      else
        PrintJob(job);
      if (!terminal(job))
        std::cerr << "the job has not ended yet; `tamga jobs show " << one->id << "` later\n";
      return 0;
    };
  });
  auto* logs = jobs->add_subcommand("logs", "Print a job's output; -f follows it until the job ends.");
  AddServerOptions(logs, &one->c);  // --json: one {"seq", "stream", "data"} object per line
  logs->add_option("id", one->id)->required();
  logs->add_flag("-f,--follow", one->follow, "Follow");
  logs->callback([action, one] {
    *action = [one]() -> int {
      int64_t after = 0;
      for (;;) {
        int code = 0;
        std::string path = "/api/2.0/tamga/jobs/" + Escape(one->id) + "/logs?after=" + std::to_string(after) +
                           (one->follow ? "&wait_ms=10000" : "");
        auto r = Call(one->c, "GET", path, json(), &code, 30000);
        if (!r) return code;
        for (const auto& c : (*r)["chunks"]) {
          if (one->c.as_json)
            std::cout << c.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
          else
            (c.value("stream", "") == "stdout" ? std::cout : std::cerr) << c.value("data", "");
        }
        std::cout.flush();
        after = r->value("next_after", after);
        bool done = r->value("done", false);
        if ((*r)["chunks"].empty() && (!one->follow || done)) return 0;
      }
    };
  });
  struct Render {
    Common c;
    std::string id;
    K8sJobOptions options;
  };
  auto rd = std::make_shared<Render>();
  auto* render = jobs->add_subcommand("render", "Print the job as a Kubernetes batch/v1 Job manifest.");
  AddServerOptions(render, &rd->c);
  render->add_option("id", rd->id)->required();
  render->add_option("--image", rd->options.image, "Container image")->capture_default_str();
  render->add_option("--namespace", rd->options.ns, "Namespace")->capture_default_str();
  render->add_option("--gpu-product", rd->options.gpu_product,
                     "GPU Feature Discovery nvidia.com/gpu.product value");
  render->callback([action, rd] {
    *action = [rd]() -> int {
      int code = 0;
      auto r = Call(rd->c, "GET", "/api/2.0/tamga/jobs/" + Escape(rd->id), json(), &code);
      if (!r) return code;
      auto job = JobFromJson((*r)["job"].dump());
      if (!job.ok()) {
        std::cerr << "error: " << job.status().message() << "\n";
        return 1;
      }
      if (!job->spec.git_repo.empty() || !job->spec.code.empty()) {
        std::cerr
            << "error: job " << rd->id
            << " runs code shipped to Tamga's agents (git checkout, patch or uploaded folder), which a "
               "plain Kubernetes Job cannot fetch: put the code in --image and submit with --code none\n";
        return 1;
      }
      if (rd->options.tracking_uri.empty()) rd->options.tracking_uri = rd->c.uri;
      std::string yaml = RenderK8sJob(*job, rd->options);
      if (rd->c.as_json)
        std::cout << json{{"job_id", rd->id}, {"manifest", yaml}}.dump(2) << "\n";
      else
        std::cout << yaml;
      return 0;
    };
  });

  struct Ls {
    Common c;
    std::string queue, state;
    int max = 50;
  };
  auto ls = std::make_shared<Ls>();
  auto* jls = jobs->add_subcommand("ls", "List jobs, newest first.");
  AddServerOptions(jls, &ls->c);
  jls->add_option("--queue", ls->queue);
  jls->add_option("--state", ls->state);
  jls->add_option("--max-results", ls->max);
  jls->callback([action, ls] {
    *action = [ls]() -> int {
      int code = 0;
      std::string q = "/api/2.0/tamga/jobs?max_results=" + std::to_string(ls->max);
      if (!ls->queue.empty()) q += "&queue=" + Escape(ls->queue);
      if (!ls->state.empty()) q += "&state=" + Escape(ls->state);
      auto r = Call(ls->c, "GET", q, json(), &code);
      if (!r) return code;
      if (ls->c.as_json)
        std::cout << r->dump(2) << "\n";
      else
        for (const auto& j : (*r)["jobs"]) PrintJob(j);
      return 0;
    };
  });

  // ---- tamga gpu
  auto gc = std::make_shared<Common>();
  auto gserver = std::make_shared<bool>(false);
  auto* gpu = app.add_subcommand(
      "gpu", "This machine's GPUs (like nvidia-smi), with the job and run owning each process.");
  gpu->add_option("--tracking-uri", gc->uri, "Also ask this server which job owns each process");
  gpu->add_option("--server", gc->uri, "Old spelling of --tracking-uri")->group("");
  gpu->add_flag("--json", gc->as_json, "JSON");
  gpu->callback([action, gc] {
    *action = [gc]() -> int {
      GpuSnapshot s = NewNvmlProbe()->Snapshot();
      // pid -> job, from the agents' reports.
      std::map<uint32_t, std::pair<std::string, std::string>> owner;
      if (!gc->uri.empty()) {
        int code = 0;
        auto agents = Call(*gc, "GET", "/api/2.0/tamga/agents", json(), &code);
        if (agents) {
          for (const auto& a : (*agents)["agents"]) {
            for (const auto& [job, pids] : a["report"].value("job_pids", json::object()).items()) {
              std::string run;
              auto j = Call(*gc, "GET", "/api/2.0/tamga/jobs/" + Escape(job), json(), &code);
              if (j) run = (*j)["job"].value("run_id", "");
              for (const auto& p : pids) owner[p.get<uint32_t>()] = {job, run};
            }
          }
        }
      }
      if (gc->as_json) {
        json o = {{"available", s.available},
                  {"error", s.error},
                  {"driver_version", s.driver_version},
                  {"cuda_driver_version", s.cuda_driver_version},
                  {"gpus", json::array()}};
        for (const auto& g : s.gpus) {
          json gj = json::parse(GpuInfoJson(g));
          for (auto& p : gj["processes"]) {
            auto it = owner.find(p.value("pid", 0u));
            if (it != owner.end()) {
              p["job_id"] = it->second.first;
              p["run_id"] = it->second.second;
            }
          }
          o["gpus"].push_back(gj);
        }
        std::cout << o.dump(2) << "\n";
        return 0;
      }
      if (!s.available) {
        std::cout << "No GPUs: " << s.error << "\n";
        return 0;
      }
      std::cout << "Driver " << s.driver_version << "  CUDA " << s.cuda_driver_version << "\n";
      std::printf("%-3s %-28s %-40s %10s %10s %5s %5s %8s %s\n", "#", "Name", "UUID", "Used", "Total", "Util",
                  "Temp", "Power", "Health");
      for (const auto& g : s.gpus) {
        std::printf("%-3d %-28.28s %-40.40s %10s %10s %4d%% %4dC %7.0fW %s\n", g.index, g.name.c_str(),
                    g.uuid.c_str(), Bytes(g.used_bytes).c_str(), Bytes(g.total_bytes).c_str(),
                    g.utilization_gpu, g.temperature_c, g.power_watts,
                    g.healthy ? "ok" : g.health_reason.c_str());
      }
      std::printf("\n%-3s %-8s %10s  %-18s %s\n", "#", "PID", "GPU mem", "Job", "Run");
      for (const auto& g : s.gpus) {
        for (const auto& p : g.processes) {
          auto it = owner.find(p.pid);
          std::printf("%-3d %-8u %10s  %-18s %s\n", g.index, p.pid, Bytes(p.used_bytes).c_str(),
                      it == owner.end() ? "-" : it->second.first.c_str(),
                      it == owner.end() ? "-" : it->second.second.c_str());
        }
      }
      return 0;
    };
  });
  return out;
}

int RunJobCommands(const JobCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
