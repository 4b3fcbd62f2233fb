#include "cli/trigger_commands.h"

#include <ctime>
#include <iostream>

#include "cli/cli_http.h"
#include "cli/job_commands.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string When(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", std::gmtime(&t));
  return buf;
}

}  // namespace

TriggerCommands AddTriggerCommands(CLI::App& app) {
  TriggerCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;
  auto* triggers =
      app.add_subcommand("triggers",
                         "Retraining triggers: queue a job when a dataset tag moves, on a "
                         "schedule or when a deployment's inputs drift, and register its model.");
  triggers->require_subcommand(1);

  struct Args {
    Common c;
    std::string name, on_dataset, on_drift, schedule, queue, register_model, model_path = "model", tier;
    std::vector<std::string> data, env, command;
    int gpus = 0;
  };
  auto ca = std::make_shared<Args>();
  auto* create = triggers->add_subcommand("create",
                                          "Make a trigger (admins): tamga triggers create NAME --on-dataset "
                                          "train@prod --queue gpu --register-model fraud -- python train.py");
  AddServerOptions(create, &ca->c);
  create->add_option("name", ca->name, "Trigger name")->required();
  auto* on = create->add_option("--on-dataset", ca->on_dataset,
                                "NAME@TAG: fire when the tag moves (@latest: every push)");
  auto* sched = create->add_option("--schedule", ca->schedule, "Cron, UTC: \"0 3 * * *\"")->excludes(on);
  create
      ->add_option("--on-drift", ca->on_drift,
                   "DEPLOYMENT: fire when its inputs drift (a local deployment with monitoring)")
      ->excludes(on)
      ->excludes(sched);
  create->add_option("--queue", ca->queue, "Queue of the jobs")->required();
  create->add_option("--gpus", ca->gpus, "GPUs per job");
  create->add_option("--tier", ca->tier, "A resource tier instead of --gpus");
  create->add_option("--data", ca->data, "NAME[@REF][:PATH] more datasets for the job (repeat)");
  create->add_option("--env", ca->env,
                     "KEY=VALUE (repeat); {dataset} {version} {ref} {uri} {event} are filled in");
  create->add_option("--register-model", ca->register_model,
                     "Register the run's model under this name when the job succeeds");
  create->add_option("--model-path", ca->model_path, "The model's artifact path in the run")
      ->capture_default_str();
  create->add_option("command", ca->command, "-- COMMAND ARGS... ({ref} etc. are filled in)");
  create->callback([action, ca] {
    *action = [ca]() -> int {
      for (const auto& a : TrailingCommand()) ca->command.push_back(a);
      if (ca->command.empty()) {
        std::cerr << "error: give the job's command after --\n";
        return 2;
      }
      if (int(!ca->on_dataset.empty()) + int(!ca->schedule.empty()) + int(!ca->on_drift.empty()) != 1) {
        std::cerr << "error: give --on-dataset NAME@TAG, --schedule CRON or --on-drift DEPLOYMENT\n";
        return 2;
      }
      json job = {{"queue", ca->queue}, {"command", ca->command}};
      if (!ca->tier.empty())
        job["tier"] = ca->tier;
      else
        job["resources"] = {{"gpus", ca->gpus}};
      json env = json::object();
      for (const auto& kv : ca->env) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos)
          return std::cerr << "error: --env wants KEY=VALUE, got " << kv << "\n", 2;
        env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      job["env"] = env;
      if (!ca->data.empty()) {
        job["data"] = json::array();
        for (const auto& d : ca->data) {
          size_t colon = d.find(':');
          json e = {{"ref", d.substr(0, colon)}};
          if (colon != std::string::npos) e["path"] = d.substr(colon + 1);
          job["data"].push_back(e);
        }
      }
      json body = {{"name", ca->name}, {"job", job}, {"model_path", ca->model_path}};
      if (!ca->on_dataset.empty()) body["on_dataset"] = ca->on_dataset;
      if (!ca->schedule.empty()) body["schedule"] = ca->schedule;
      if (!ca->on_drift.empty()) body["on_drift"] = ca->on_drift;
      if (!ca->register_model.empty()) body["register_model"] = ca->register_model;
      int code = 0;
      auto r = Call(ca->c, "POST", "/api/2.0/tamga/triggers", body, &code);
      if (!r) return code;
      if (ca->c.as_json)
        std::cout << r->dump(2) << "\n";
      else
        std::cout << "trigger " << ca->name << " created\n";
      return 0;
    };
  });

  auto la = std::make_shared<Args>();
  auto* ls = triggers->add_subcommand("ls", "List triggers.");
  AddServerOptions(ls, &la->c);
  ls->callback([action, la] {
    *action = [la]() -> int {
      int code = 0;
      auto r = Call(la->c, "GET", "/api/2.0/tamga/triggers", nullptr, &code);
      if (!r) return code;
      if (la->c.as_json) return std::cout << r->dump(2) << "\n", 0;
      std::printf("%-24s %-12s %-28s %-12s %s\n", "NAME", "KIND", "EVENT", "QUEUE", "REGISTERS");
      for (const auto& t : (*r)["triggers"]) {
        std::string event =
            t.value("kind", "") == "schedule"
                ? t.value("schedule", "") + " (next " + When(t.value("next_fire_timestamp", int64_t{0})) + ")"
            : t.value("kind", "") == "drift" ? "drift of " + t.value("on_drift", "")
                                             : t.value("on_dataset", "");
        std::printf("%-24s %-12s %-28s %-12s %s\n", t.value("name", "").c_str(), t.value("kind", "").c_str(),
                    event.c_str(), t["job"].value("queue", "").c_str(),
                    t.value("register_model", "").c_str());
      }
      return 0;
    };
  });

  auto sa = std::make_shared<Args>();
  auto* show = triggers->add_subcommand("show", "A trigger and its firings (newest first).");
  AddServerOptions(show, &sa->c);
  show->add_option("name", sa->name, "Trigger")->required();
  show->callback([action, sa] {
    *action = [sa]() -> int {
      int code = 0;
      auto r = Call(sa->c, "GET", "/api/2.0/tamga/triggers/" + Escape(sa->name), nullptr, &code);
      if (!r) return code;
      if (sa->c.as_json) return std::cout << r->dump(2) << "\n", 0;
      std::cout << (*r)["trigger"].dump(2) << "\n";
      for (const auto& f : (*r)["firings"])
        std::printf("%-16s %-28s %-11s job %-34s %s%s\n",
                    When(f.value("creation_timestamp", int64_t{0})).c_str(), f.value("event", "").c_str(),
                    f.value("state", "").c_str(), f.value("job_id", "").c_str(),
                    f.value("model_version", "").c_str(), f.value("reason", "").c_str());
      return 0;
    };
  });

  auto fa = std::make_shared<Args>();
  auto* fire = triggers->add_subcommand("fire", "Fire a trigger now (admins).");
  AddServerOptions(fire, &fa->c);
  fire->add_option("name", fa->name, "Trigger")->required();
  fire->callback([action, fa] {
    *action = [fa]() -> int {
      int code = 0;
      auto r =
          Call(fa->c, "POST", "/api/2.0/tamga/triggers/" + Escape(fa->name) + "/fire", json::object(), &code);
      if (!r) return code;
      if (fa->c.as_json) return std::cout << r->dump(2) << "\n", 0;
      std::cout << "fired " << fa->name << ": job " << (*r)["firing"].value("job_id", "") << " ("
                << (*r)["firing"].value("state", "") << ")\n";
      return 0;
    };
  });

  auto ra = std::make_shared<Args>();
  auto* rm = triggers->add_subcommand("rm", "Delete a trigger (admins; its firings stay recorded).");
  AddServerOptions(rm, &ra->c);
  rm->add_option("name", ra->name, "Trigger")->required();
  rm->callback([action, ra] {
    *action = [ra]() -> int {
      int code = 0;
      auto r = Call(ra->c, "DELETE", "/api/2.0/tamga/triggers/" + Escape(ra->name), nullptr, &code);
      if (!r) return code;
      std::cout << "trigger " << ra->name << " deleted\n";
      return 0;
    };
  });
  return cmds;
}

int RunTriggerCommands(const TriggerCommands& commands) {
  if (!*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
