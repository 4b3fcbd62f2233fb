#include "cli/score_job.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "data/dataset_ref.h"
#include "data/digest.h"
#include "jobs/job_types.h"
#include "net/http_client.h"

namespace tamga {
namespace fs = std::filesystem;
using json = nlohmann::json;
namespace {

std::string Base(const Common& c) {
  std::string b = c.uri;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

std::string ArtifactUrl(const Common& c, const std::string& exp, const std::string& run,
                        const std::string& path) {
  return Base(c) + "/api/2.0/mlflow-artifacts/artifacts/" + Escape(exp) + "/" + Escape(run) + "/artifacts/" +
         path;
}

// "NAME@REF[:FILE]": the dataset version and a relative file inside it (no "..", not absolute).
struct DatasetInput {
  std::string ref;   // NAME@REF
  std::string name;  // NAME
  std::string file;  // "" = the whole version (its top-level *.csv files)
};

Result<DatasetInput> ParseInput(const std::string& input) {
  std::error_code ec;
  if (fs::exists(input, ec)) {
    return InvalidArgument(
        "with --queue the input is a dataset version (NAME@REF or NAME@REF:FILE), which the "
        "agent checks out; '" +
        input + "' is a local file: push it first (tamga data push)");
  }
  DatasetInput d;
  size_t colon = input.find(':');
  d.ref = input.substr(0, colon);
  if (colon != std::string::npos) {
    d.file = input.substr(colon + 1);
    if (d.file.empty()) return InvalidArgument("FILE after ':' in NAME@REF:FILE is empty");
  }
  TAMGA_ASSIGN_OR_RETURN(DatasetRef ref, ParseDatasetRef(d.ref));
  if (d.ref.find('@') == std::string::npos)
    return InvalidArgument("with --queue the input names a dataset version: NAME@REF[:FILE], got '" + input +
                           "'");
  d.name = ref.name;
  if (!d.file.empty()) {
    fs::path p(d.file);
    bool bad = p.is_absolute() || d.file.size() > 1024;
    for (const auto& part : p) bad = bad || part == ".." || part == ".";
    if (bad) return InvalidArgument("FILE in NAME@REF:FILE must be a relative path inside the dataset");
  }
  return d;
}

std::string FileName(const DatasetInput& in) {
  std::string base = in.file.empty() ? in.name : fs::path(in.file).stem().string();
  return "scores-" + base + ".csv";
}

int Fail(const std::string& what, int code) {
  std::cerr << "error: " << what << "\n";
  return code;
}

// Streams the run's artifact to `output` (via output.partial, renamed when complete).
Status Download(const Common& c, const std::string& url, const std::string& output) {
  std::string tmp = output + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return Unavailable("cannot write " + output);
  HttpClientRequest req;
  req.url = url;
  req.timeout_ms = 600000;
  AddAuth(c, &req);
  req.on_body = [&out](std::string_view piece) {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    return out ? Status::Ok() : Unavailable("cannot write the scores");
  };
  auto r = HttpCall(req);
  out.close();
  if (!r.ok() || r->status != 200 || !out) {
    fs::remove(tmp);
    return Unavailable(
        "cannot download the scores: " +
        (r.ok() ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300) : r.status().message()));
  }
  std::error_code ec;
  fs::rename(tmp, output, ec);
  if (ec) return Unavailable("cannot write " + output + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

int SubmitScoreJob(const ScoreJobRequest& r, const ScoreJobOptions& o) {
  auto input = ParseInput(r.input);
  if (!input.ok()) return Fail(input.status().message(), 2);
  if (r.model.rfind("models:/", 0) != 0)
    return Fail("with --queue the model is a registered version: models:/NAME/N or models:/NAME@ALIAS", 2);
  int code = 0;
  // The exact version now: the job scores with it even if the alias moves while it waits in the queue.
  std::string rest = r.model.substr(8);
  std::string name, version;
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    name = rest.substr(0, at);
    auto v = Call(r.c, "GET",
                  "/api/2.0/mlflow/registered-models/alias?name=" + Escape(name) +
                      "&alias=" + Escape(rest.substr(at + 1)),
                  nullptr, &code);
    if (!v) return code;
    version = (*v)["model_version"].value("version", "");
  } else if (size_t slash = rest.rfind('/'); slash != std::string::npos) {
    name = rest.substr(0, slash);
    version = rest.substr(slash + 1);
    auto v = Call(r.c, "GET",
                  "/api/2.0/mlflow/model-versions/get?name=" + Escape(name) + "&version=" + Escape(version),
                  nullptr, &code);
    if (!v) return code;
  } else {
    return Fail("with --queue the model is models:/NAME/N or models:/NAME@ALIAS", 2);
  }
  std::string exact = "models:/" + name + "/" + version;
  // The dataset version must exist now (the agent would only find out after queueing).
  DatasetRef ref = *ParseDatasetRef(input->ref);
  if (!Call(r.c, "GET",
            "/api/2.0/tamga/datasets/versions/get?name=" + Escape(ref.name) + "&version=" + Escape(ref.ref),
            nullptr, &code))
    return code;
  std::string file = FileName(*input);
  std::string job_input = "data/" + input->name + (input->file.empty() ? "" : "/" + input->file);
  json command = {"tamga",        "score",        exact,
                  "--input",      job_input,      "--output",
                  file,           "--batch-rows", std::to_string(r.batch_rows),
                  "--log-to-run", "--cache-dir",  ".tamga-model-cache"};
  if (r.mlflow_predictions) command.push_back("--mlflow-predictions");
  if (r.threads > 0) {
    command.push_back("--threads");
    command.push_back(std::to_string(r.threads));
  }
  if (o.gpus > 0) {
    command.push_back("--device");
    command.push_back("cuda:0");  // the job sees only its GPUs
  }
  json spec = {{"queue", o.queue},
               {"command", command},
               {"resources", {{"cpus", o.cpus}, {"gpus", o.gpus}}},
               {"data", json::array({{{"ref", input->ref}}})},
               {"run_name", "score " + exact + " " + r.input},
               {"tags", {{"tamga.score.model_version", exact}, {"tamga.score.input", r.input}}}};
  auto submitted = Call(r.c, "POST", "/api/2.0/tamga/jobs", spec, &code);
  if (!submitted) return code;
  json job = (*submitted)["job"];
  std::string id = job.value("id", ""), run = job.value("run_id", "");
  std::cout << "submitted scoring job " << id << " (run " << run << ") on queue " << o.queue << ": " << exact
            << " on " << r.input << "\n";
  if (o.detach) {
    std::cout << "the scores will be the run's artifact scores/" << file << "; `tamga jobs show " << id
              << "` follows it\n";
    return 0;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_s);
  std::string last_state;
  for (;;) {
    auto g = Call(r.c, "GET", "/api/2.0/tamga/jobs/" + Escape(id), nullptr, &code);
    if (!g) return code;
    job = (*g)["job"];
    std::string state = job.value("state", "");
    if (state != last_state) {
      std::cerr << "job " << id << ": " << state << "\n";
      last_state = state;
    }
    auto st = ParseJobState(state);
    if (st && IsTerminal(*st)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail("the job has not finished within --wait-s; it keeps running: tamga jobs show " + id, 1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (last_state != "succeeded") {
    return Fail("the scoring job " + id + " ended " + last_state +
                    (job.value("reason", "").empty() ? "" : ": " + job.value("reason", "")) +
                    " (tamga jobs logs " + id + ")",
                1);
  }
  auto got = Call(r.c, "GET", "/api/2.0/mlflow/runs/get?run_id=" + Escape(run), nullptr, &code);
  if (!got) return code;
  std::string exp = (*got)["run"]["info"].value("experiment_id", "0");
  Status s = Download(r.c, ArtifactUrl(r.c, exp, run, "scores/" + file), r.output);
  if (!s.ok()) return Fail(s.message(), 1);
  double rows = 0, rate = 0;
  for (const auto& m : (*got)["run"]["data"].value("metrics", json::array())) {
    if (m.value("key", "") == "rows") rows = m.value("value", 0.0);
    if (m.value("key", "") == "rows_per_second") rate = m.value("value", 0.0);
  }
  std::cout << "scored " << static_cast<int64_t>(rows) << " rows with " << exact << " on the queue "
            << o.queue << " (" << static_cast<int64_t>(rate) << " rows/s) -> " << r.output << "\n";
  return 0;
}

Status LogScoreToRun(const Common& c, const std::vector<std::string>& inputs, const std::string& output,
                     const std::string& model_version, int64_t rows, double seconds) {
  const char* run_env = std::getenv("MLFLOW_RUN_ID");
  if (run_env == nullptr || *run_env == '\0')
    return FailedPrecondition("MLFLOW_RUN_ID is not set (not a job)");
  std::string run = run_env;
  int code = 0;
  auto got = Call(c, "GET", "/api/2.0/mlflow/runs/get?run_id=" + Escape(run), nullptr, &code);
  if (!got) return Unavailable("cannot read the run " + run);
  std::string exp = (*got)["run"]["info"].value("experiment_id", "0");
  // Lineage: the digest of the exact bytes scored.
  Sha256Hasher hasher;
  char buf[1 << 16];
  for (const auto& f : inputs) {
    std::ifstream in(f, std::ios::binary);
    while (in) {
      in.read(buf, sizeof buf);
      hasher.Update(std::string_view(buf, static_cast<size_t>(in.gcount())));
    }
  }
  std::string digest = hasher.FinishHex();
  std::ifstream out(output, std::ios::binary);
  std::error_code ec;
  auto size = static_cast<int64_t>(fs::file_size(output, ec));
  if (!out || ec) return Unavailable("cannot read " + output);
  HttpClientRequest put;
  put.method = "PUT";
  put.url = ArtifactUrl(c, exp, run, "scores/" + fs::path(output).filename().string());
  put.body_size = size;
  put.body_reader = [&out](char* b, size_t n) -> Result<size_t> {
    out.read(b, static_cast<std::streamsize>(n));
    return static_cast<size_t>(out.gcount());
  };
  put.timeout_ms = 600000;
  AddAuth(c, &put);
  auto r = HttpCall(put);
  if (!r.ok()) return r.status();
  if (r->status / 100 != 2)
    return Unavailable("HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 300));
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  json batch = {{"run_id", run},
                {"tags",
                 {{{"key", "tamga.score.model_version"}, {"value", model_version}},
                  {{"key", "tamga.score.input_sha256"}, {"value", digest}},
                  {{"key", "tamga.score.rows"}, {"value", std::to_string(rows)}}}},
                {"metrics",
                 {{{"key", "rows"}, {"value", rows}, {"timestamp", now}, {"step", 0}},
                  {{"key", "seconds"}, {"value", seconds}, {"timestamp", now}, {"step", 0}},
                  {{"key", "rows_per_second"},
                   {"value", seconds > 0 ? static_cast<double>(rows) / seconds : 0.0},
                   {"timestamp", now},
                   {"step", 0}}}}};
  if (!Call(c, "POST", "/api/2.0/mlflow/runs/log-batch", batch, &code))
    return Unavailable("cannot log to the run");
  return Status::Ok();
}

}  // namespace tamga
