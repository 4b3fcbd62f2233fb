// Seeds a Tamga data directory for the read benchmarks (search, metric history) directly through the
// MetadataStore, so the seeding itself is not what gets measured.
//   seed_store <data_dir> <runs> <history_points> [wide_columns]
// Creates experiment "bench" (id printed) with <runs> runs, each with metric m1 ~ U(0,1), metric m2,
// two params and a tag; plus run "history" whose metric "loss" has <history_points> points logged in
// batches of 1000. With wide_columns = N, each run also gets N/2 params p00.. and N/2 metrics k00.. (two
// points each, so last, min and max differ): the web UI benchmark's 50-column table.
// Prints "experiment_id=<id> history_run=<run_id>".
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "core/ids.h"
#include "storage/postgres/pg_stores.h"
#include "storage/sqlite/sqlite_stores.h"

using namespace tamga;

static void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr,
                 "usage: seed_store <data_dir|postgresql://...> <runs> <history_points> [wide_columns]\n");
    return 2;
  }
  std::string dir = argv[1];
  long runs = std::stol(argv[2]);
  long points = std::stol(argv[3]);
  long wide = argc == 5 ? std::stol(argv[4]) : 0;
  auto col = [](const char* prefix, long k) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%s%02ld", prefix, k);
    return std::string(buf);
  };
  // A data dir (SQLite, the embedded default) or a postgresql:// URI.
  Result<std::unique_ptr<SqlMetadataStore>> store_or = Internal("no store");
  if (dir.rfind("postgresql://", 0) == 0) {
    auto uri = ParseBackendStoreUri(dir);
    Check(uri.status(), "store uri");
    store_or = OpenPgMetadataStore(*uri);
  } else {
    std::filesystem::create_directories(dir);
    store_or = OpenSqliteMetadataStore({dir + "/tamga.db"});
  }
  Check(store_or.status(), "open store");
  auto& store = **store_or;
  SystemRandom random(12345);
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> uni(0, 1);

  std::string exp_id;
  {
    auto txn = store.BeginWrite();
    Check(txn.status(), "begin");
    Experiment d;
    d.experiment_id = "0";
    d.name = "Default";
    d.artifact_location = "mlflow-artifacts:/0";
    auto def = (*txn)->CreateExperiment(d);
    (void)def;  // may already exist
    Experiment e;
    e.name = "bench-" + std::to_string(random.Next() % 1000000);
    e.creation_time = e.last_update_time = 1700000000000;
    auto id = (*txn)->CreateExperiment(e);
    Check(id.status(), "create experiment");
    exp_id = *id;
    Check((*txn)->SetExperimentArtifactLocation(exp_id, "mlflow-artifacts:/" + exp_id), "location");
    Check((*txn)->Commit(), "commit");
  }
  const long kPerTxn = 2000;
  for (long start = 0; start < runs; start += kPerTxn) {
    auto txn = store.BeginWrite();
    Check(txn.status(), "begin");
    for (long i = start; i < std::min(runs, start + kPerTxn); ++i) {
      RunInfo info;
      info.run_id = NewRunId(random);
      info.experiment_id = exp_id;
      info.run_name = "run-" + std::to_string(i);
      info.user_id = "bench";
      info.status = RunStatus::kFinished;
      info.start_time = 1700000000000 + i;
      info.end_time = info.start_time + 1000;
      info.artifact_uri = "mlflow-artifacts:/" + exp_id + "/" + info.run_id + "/artifacts";
      Check((*txn)->CreateRun(info, {{"mlflow.runName", info.run_name}, {"team", i % 2 ? "a" : "b"}}), "run");
      Check((*txn)->InsertParams(info.run_id, {{"lr", std::to_string(0.001 * (i % 10))},
                                               {"model", "m" + std::to_string(i % 7)}}),
            "params");
      Check((*txn)->LogMetrics(info.run_id,
                               {{"m1", uni(rng), info.start_time, 0}, {"m2", uni(rng), info.start_time, 0}}),
            "metrics");
      if (wide > 0) {
        std::vector<KeyValue> params;
        std::vector<MetricPoint> metrics;
        for (long k = 0; k < wide / 2; ++k) {
          params.push_back({col("p", k), std::to_string((i * 7 + k) % 97)});
          double v = uni(rng);
          metrics.push_back({col("k", k), v + 0.5, info.start_time, 0});
          metrics.push_back({col("k", k), v, info.start_time + 1, 1});
        }
        Check((*txn)->InsertParams(info.run_id, params), "wide params");
        Check((*txn)->LogMetrics(info.run_id, metrics), "wide metrics");
      }
    }
    Check((*txn)->Commit(), "commit");
  }
  RunInfo hist;
  hist.run_id = NewRunId(random);
  hist.experiment_id = exp_id;
  hist.run_name = "history";
  hist.start_time = 1600000000000;
  hist.artifact_uri = "mlflow-artifacts:/" + exp_id + "/" + hist.run_id + "/artifacts";
  {
    auto txn = store.BeginWrite();
    Check((*txn)->CreateRun(hist, {{"mlflow.runName", "history"}}), "history run");
    Check((*txn)->Commit(), "commit");
  }
  for (long start = 0; start < points; start += 1000) {
    std::vector<MetricPoint> batch;
    for (long s = start; s < std::min(points, start + 1000); ++s) {
      batch.push_back({"loss", 1.0 / (1 + s) + uni(rng) * 1e-3, 1700000000000 + s, s});
    }
    auto txn = store.BeginWrite();
    Check((*txn)->LogMetrics(hist.run_id, batch), "history points");
    Check((*txn)->Commit(), "commit");
  }
  Check(store.Flush(), "flush");
  std::printf("experiment_id=%s history_run=%s\n", exp_id.c_str(), hist.run_id.c_str());
  return 0;
}
