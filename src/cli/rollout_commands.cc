#include "cli/rollout_commands.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_http.h"
#include "registry/model_uri.h"

namespace tamga {
namespace {

using json = nlohmann::json;

// A table to send: a regular file of at most 256 MiB (the server's body limit bounds it anyway; a FIFO or a
// device such as /dev/zero would be read forever).
constexpr std::streamsize kMaxTableBytes = std::streamsize{256} << 20;
std::optional<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (static_cast<std::streamsize>(out.size()) > kMaxTableBytes) return std::nullopt;
  }
  return out;
}

// A number field as the server wrote it; NaN and infinities arrive as strings.
double Field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const json& v = j[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::strtod(v.get<std::string>().c_str(), nullptr);
  return 0;
}

std::string Num(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", d);
  return buf;
}

}  // namespace

RolloutCommands AddRolloutCommands(CLI::App& app) {
  RolloutCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;
  CLI::App* models = app.get_subcommand("models");
  struct Args {
    Common c;
    std::string uri, inputs, expected;
    double atol = 1e-6, rtol = 1e-5;
    bool mlflow_predictions = false;
  };
  auto a = std::make_shared<Args>();
  auto* validate = models->add_subcommand("validate",
                                          "Reference-score test: score --inputs with the version's serving "
                                          "runtime, compare with --expected, store "
                                          "the result on the version (exit 0 passed, 1 failed).");
  AddServerOptions(validate, &a->c);
  validate->add_option("model_uri", a->uri, "models:/NAME/VERSION or models:/NAME@ALIAS")->required();
  validate->add_option("--inputs", a->inputs, "CSV of model inputs with a header row")->required();
  validate->add_option("--expected", a->expected, "CSV of expected scores with a header row")->required();
  validate->add_option("--atol", a->atol, "Absolute tolerance (default 1e-6)");
  validate->add_option("--rtol", a->rtol, "Relative tolerance (default 1e-5)");
  validate->add_flag("--mlflow-predictions", a->mlflow_predictions,
                     "Compare the flavor's predict() result (e.g. class labels) instead of raw scores");
  validate->callback([action, a] {
    *action = [a]() -> int {
      if (!std::isfinite(a->atol) || a->atol < 0 || !(a->rtol >= 0) || !(a->rtol <= 1)) {
        std::cerr << "error: --atol must be finite and non-negative, --rtol in [0, 1]\n";
        return 2;
      }
      auto uri = ParseModelUri(a->uri);
      if (!uri.ok() || (uri->kind != ModelUri::Kind::kVersion && uri->kind != ModelUri::Kind::kAlias) ||
          !uri->sub_path.empty()) {
        std::cerr << "error: give a registered version as models:/NAME/VERSION or models:/NAME@ALIAS\n";
        return 2;
      }
      int code = 0;
      std::string version = std::to_string(uri->version);
      if (uri->kind == ModelUri::Kind::kAlias) {
        auto r = Call(a->c, "GET", "/api/2.0/tamga/models/resolve?uri=" + Escape(a->uri), nullptr, &code);
        if (!r) return code;
        version = r->value("version", "");
      }
      auto inputs = ReadFile(a->inputs);
      auto expected = ReadFile(a->expected);
      if (!inputs || !expected) {
        std::cerr << "error: cannot read " << (inputs ? a->expected : a->inputs)
                  << " (a regular file of at most 256 MiB)\n";
        return 2;
      }
      json body = {{"name", uri->name},
                   {"version", version},
                   {"inputs", *inputs},
                   {"expected", *expected},
                   {"atol", a->atol},
                   {"rtol", a->rtol},
                   {"mlflow_predictions", a->mlflow_predictions}};
      auto r = Call(a->c, "POST", "/api/2.0/tamga/model-versions/reference-test", body, &code, 600000);
      if (!r) return code;
      bool passed = r->value("status", "") == "passed";
      if (a->c.as_json) {
        std::cout << r->dump(2) << "\n";
        return passed ? 0 : 1;
      }
      std::string target = "models:/" + uri->name + "/" + version;
      if (r->contains(
              "reference_stats_note")) {  // monitoring of this version will have nothing to compare with
        std::cerr << "note: no reference statistics for outlier and drift monitoring: "
                  << r->value("reference_stats_note", "") << "\n";
      }
      if (passed) {
        std::cout << "passed: " << target << "  " << static_cast<int64_t>(Field(*r, "rows"))
                  << " rows, max |delta| " << Num(Field(*r, "max_abs_delta")) << " (atol " << Num(a->atol)
                  << ", rtol " << Num(a->rtol) << ")\n";
        return 0;
      }
      std::cout << "FAILED: " << target << "  " << static_cast<int64_t>(Field(*r, "mismatched_rows"))
                << " of " << static_cast<int64_t>(Field(*r, "rows")) << " rows differ beyond atol "
                << Num(a->atol) << " + rtol " << Num(a->rtol) << " x |expected|; max |delta| "
                << Num(Field(*r, "max_abs_delta")) << "\n";
      for (const auto& m : r->value("mismatches", json::array())) {
        std::cout << "  row " << static_cast<int64_t>(Field(m, "row")) << "  " << m.value("column", "")
                  << "  expected " << Num(Field(m, "expected")) << "  got " << Num(Field(m, "got")) << "\n";
      }
      return 1;
    };
  });

  // rollout
  auto* rollout =
      app.add_subcommand("rollout", "Progressive rollouts of local deployments: status and manual control.");
  rollout->require_subcommand(1);
  struct RolloutArgs {
    Common c;
    std::string deployment;
  };
  auto ra = std::make_shared<RolloutArgs>();
  for (const char* verb : {"status", "promote", "pause", "resume", "abort"}) {
    std::string v = verb;
    const char* help = v == "status"
                           ? "Show the rollout: stable and candidate versions, stage, window, decisions."
                       : v == "promote" ? "Promote the candidate now."
                       : v == "pause"   ? "Hold the rollout at its stage (gates are not judged)."
                       : v == "resume"  ? "Resume a paused rollout (its stage's window starts again)."
                                        : "Roll back: unload the candidate and move the alias back.";
    auto* cmd = rollout->add_subcommand(v, help);
    AddServerOptions(cmd, &ra->c);
    cmd->add_option("deployment", ra->deployment, "Deployment name")->required();
    cmd->callback([action, ra, v] {
      *action = [ra, v]() -> int {
        int code = 0;
        std::string path = "/api/2.0/tamga/deployments/" + Escape(ra->deployment) + "/rollout";
        auto r = v == "status" ? Call(ra->c, "GET", path, nullptr, &code)
                               : Call(ra->c, "POST", path + "/" + v, json::object(), &code);
        if (!r) return code;
        if (ra->c.as_json) {
          std::cout << r->dump(2) << "\n";
          return 0;
        }
        std::cout << r->value("deployment", "") << "  " << r->value("model", "") << "@"
                  << r->value("alias", "") << "  " << r->value("state", "") << "  stable v"
                  << r->value("stable_version", "");
        if (r->contains("candidate_version")) {
          std::cout << "  candidate v" << r->value("candidate_version", "") << "  " << r->value("stage", "");
        }
        std::cout << "\n";
        if (r->contains("window") && (*r)["window"].is_object()) {
          const json& w = (*r)["window"];
          std::cout << "  window: " << static_cast<int64_t>(Field(*r, "stage_seconds")) << " s, "
                    << static_cast<int64_t>(Field(w, "requests")) << " requests, "
                    << static_cast<int64_t>(Field(w, "failures")) << " failures, p99 "
                    << Num(Field(w, "p99_ms")) << " ms, shadow agree/disagree/failed "
                    << static_cast<int64_t>(Field(w, "shadow_agree")) << "/"
                    << static_cast<int64_t>(Field(w, "shadow_disagree")) << "/"
                    << static_cast<int64_t>(Field(w, "shadow_failed")) << "\n";
        }
        for (const auto& h : r->value("history", json::array())) {
          if (h.is_string()) std::cout << "  " << h.get<std::string>() << "\n";
        }
        return 0;
      };
    });
  }
  return cmds;
}

int RunRolloutCommands(const RolloutCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
