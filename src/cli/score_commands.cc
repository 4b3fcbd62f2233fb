#include "cli/score_commands.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/cli_http.h"
#include "cli/score_job.h"
#include "core/client_credentials.h"
#include "serving/lifecycle/registry_source.h"
#include "serving/runtime/model_runtime.h"
#include "serving/scoring/batch_scorer.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

struct Args {
  Common c;
  std::string model, input, output, cache_dir = "./tamga-model-cache", device = "cpu", python = "python3";
  int64_t batch_rows = 4096;
  int threads = 0;
  bool mlflow_predictions = false;
  // On the queues (score_job.cc): the queue, its resources, whether to return at once.
  ScoreJobOptions job;
  bool log_to_run = false;  // inside a scoring job: store the output and its lineage on the job's run
};

// The CSV files to score: the file itself, or a folder's *.csv files in name order.
Result<std::vector<std::string>> InputFiles(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(input, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path().string());
    }
    if (ec) return InvalidArgument("cannot list " + input + ": " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) return InvalidArgument("no .csv files in " + input);
    return files;
  }
  if (!fs::exists(input, ec)) return InvalidArgument("no such file or folder: " + input);
  if (!fs::is_regular_file(input, ec)) return InvalidArgument(input + " is not a regular file or a folder");
  return std::vector<std::string>{input};
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int Run(const Args& a) {
  auto files = InputFiles(a.input);
  if (!files.ok()) {
    std::cerr << "error: " << files.status().message() << "\n";
    return 2;
  }
  // The exact version: a models:/ URI resolves on the registry and is fetched into the cache; a folder is
  // used as it is.
  std::string dir = a.model, label = a.model;
  if (a.model.rfind("models:/", 0) == 0) {
    HttpRegistrySource source(a.c.uri, a.model, a.cache_dir);
    source.SetAuthorization(ClientAuthorization(a.c.token));
    auto v = source.Resolve();
    if (!v.ok()) {
      std::cerr << "error: " << v.status().message() << "\n";
      return 1;
    }
    auto fetched = source.Fetch(*v);
    if (!fetched.ok()) {
      std::cerr << "error: " << fetched.status().message() << "\n";
      return 1;
    }
    dir = *fetched;
    label = "models:/" + v->name + "/" + v->version;
  }
  auto layout = InspectModelDir(dir);
  if (!layout.ok()) {
    std::cerr << "error: " << layout.status().message() << "\n";
    return 1;
  }
  RuntimeOptions ro;
  ro.device = a.device;
  ro.python = a.python;
  ro.intra_op_threads =
      a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto runtime = LoadModelRuntime(*layout, ro);
  if (!runtime.ok()) {
    std::cerr << "error: " << runtime.status().message() << "\n";
    return 1;
  }
  for (const auto& f : *files) {
    std::error_code same_ec;
    if (fs::exists(a.output, same_ec) && fs::equivalent(f, a.output, same_ec)) {
      std::cerr << "error: --output " << a.output << " is an input file\n";
      return 2;
    }
  }
  // Written next to the output and renamed into place: a failed run never leaves half a table behind.
  std::string tmp = a.output + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "error: cannot write " << a.output << "\n";
    return 2;
  }
  ScoreOptions so;
  so.batch_rows = a.batch_rows;
  so.mlflow_predictions = a.mlflow_predictions;
  std::string header = FirstLine((*files)[0]);
  int64_t rows = 0;
  double seconds = 0;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& f = (*files)[i];
    if (i > 0 && FirstLine(f) != header) {
      std::cerr << "error: " << f << " has another header than " << (*files)[0] << "\n";
      fs::remove(tmp);
      return 1;
    }
    std::ifstream in(f, std::ios::binary);
    so.write_header = i == 0;
    auto stats = ScoreCsv(runtime->get(), &in, &out, so);
    if (!stats.ok()) {
      std::cerr << "error: " << f << ": " << stats.status().message() << "\n";
      out.close();
      fs::remove(tmp);
      return 1;
    }
    rows += stats->rows;
    seconds += stats->seconds;
  }
  out.close();
  std::error_code ec;
  fs::rename(tmp, a.output, ec);
  if (!out || ec) {
    std::cerr << "error: cannot write " << a.output << (ec ? ": " + ec.message() : "") << "\n";
    fs::remove(tmp);
    return 2;
  }
  std::cout << "scored " << rows << " rows with " << label << " in " << seconds << " s ("
            << static_cast<int64_t>(seconds > 0 ? rows / seconds : 0) << " rows/s) -> " << a.output << "\n";
  if (a.log_to_run) {
    Status s = LogScoreToRun(a.c, *files, a.output, label, rows, seconds);
    if (!s.ok()) {
      std::cerr << "error: cannot store the scores on the job's run: " << s.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

ScoreCommands AddScoreCommands(CLI::App& app) {
  ScoreCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;
  auto a = std::make_shared<Args>();
  auto* score = app.add_subcommand(
      "score",
      "Retro / batch scoring: score a CSV (or a folder of CSVs) with the exact model version and its serving "
      "runtime; writes the rows with the predictions as the last column(s).");
  AddServerOptions(score, &a->c, /*json_flag=*/false);
  score->add_option("model", a->model, "models:/NAME/VERSION, models:/NAME@ALIAS, or a model folder")
      ->required();
  score->add_option("--input", a->input, "CSV with a header row, or a folder of such CSVs (same header)")
      ->required();
  score->add_option("--output", a->output, "CSV to write: the input rows and their predictions")->required();
  score->add_option("--batch-rows", a->batch_rows, "Rows per batch (default 4096)")
      ->check(CLI::Range(1, 1 << 20));
  score->add_flag("--mlflow-predictions", a->mlflow_predictions,
                  "The flavor's predict() result (e.g. class labels) instead of raw scores");
  score->add_option("--cache-dir", a->cache_dir, "Downloaded registry models are cached here")
      ->envname("TAMGA_MODEL_CACHE");
  score->add_option("--device", a->device, "cpu or cuda:N")
      ->check(CLI::Validator(
          [](std::string& d) -> std::string {
            bool cuda = d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.size() < 9 &&
                        d.find_first_not_of("0123456789", 5) == std::string::npos;
            return d == "cpu" || cuda ? "" : "--device is cpu or cuda:N (N a GPU ordinal)";
          },
          "cpu|cuda:N"));
  score->add_option("--threads", a->threads, "Compute threads (default: all cores)")
      ->check(CLI::Range(1, 256));
  score->add_option("--python", a->python, "Interpreter of the Python worker (python_function models)")
      ->envname("TAMGA_PYTHON");
  score
      ->add_option("--queue", a->job.queue,
                   "Run as a job on this queue (input: a dataset NAME@REF[:FILE]); waits and writes --output")
      ->envname("TAMGA_SCORE_QUEUE");
  score->add_flag("--detach", a->job.detach, "With --queue: print the job and return at once");
  score->add_option("--gpus", a->job.gpus, "With --queue: GPUs for the job (default 0)")
      ->check(CLI::Range(0, 16));
  score->add_option("--cpus", a->job.cpus, "With --queue: CPUs for the job (default 2)")
      ->check(CLI::Range(1, 256));
  score->add_option("--wait-s", a->job.wait_s, "With --queue: how long to wait for the job (default 86400)")
      ->check(CLI::Range(1, 30 * 86400));
  score
      ->add_flag("--log-to-run", a->log_to_run,
                 "Inside a job: store the output as an artifact of the job's run (MLFLOW_RUN_ID) with its "
                 "lineage")
      ->group("");
  score->callback([action, a] {
    *action = [a] {
      if (a->job.queue.empty()) return Run(*a);
      ScoreJobRequest r{a->c,      a->model, a->input, a->output, a->batch_rows, a->mlflow_predictions,
                        a->threads};
      return SubmitScoreJob(r, a->job);
    };
  });
  return cmds;
}

int RunScoreCommands(const ScoreCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
