#include "cli/admin_commands.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "admin/mlflow_import.h"
#include "admin/store_migrate.h"
#include "core/clock.h"
#include "core/random.h"

namespace tamga {

namespace {

void AddImportMlflow(CLI::App* admin, const std::shared_ptr<std::function<int()>>& action) {
  struct Args {
    MlflowImportOptions o;
    std::string data_dir;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = admin->add_subcommand(
      "import-mlflow",
      "Import an MLflow tracking server's database and artifacts, ids kept (runs:/ and models:/ URIs keep "
      "working); rerun to resume.");
  cmd->add_option("--backend-store-uri", args->o.backend_store_uri,
                  "MLflow's database: sqlite:///path/mlflow.db or postgresql://...")
      ->required();
  cmd->add_option("--artifacts", args->o.artifacts,
                  "MLflow's artifact root (its --artifacts-destination or --default-artifact-root): a path, "
                  "file:///dir or s3://bucket/prefix");
  cmd->add_option("--data-dir", args->data_dir,
                  "The Tamga data dir to import into (its tamga.db and artifacts/); no server running on it");
  cmd->add_option("--to", args->o.to, "Or the Tamga store URI: sqlite:///path/tamga.db or postgresql://...");
  cmd->add_option("--artifacts-to", args->o.artifacts_to,
                  "Or Tamga's artifact destination: file:///dir, a path or s3://bucket/prefix");
  cmd->callback([action, args] {
    *action = [args]() -> int {
      MlflowImportOptions o = args->o;
      if (!args->data_dir.empty()) {
        std::string dir = std::filesystem::absolute(args->data_dir).string();
        if (o.to.empty()) o.to = "sqlite:///" + dir + "/tamga.db";
        if (o.artifacts_to.empty()) o.artifacts_to = "file://" + dir + "/artifacts";
      }
      o.progress = [](const std::string& line) { std::cout << line << std::endl; };
      SystemClock clock;
      SystemRandom random;
      auto r = ImportMlflow(o, &clock, &random);
      if (!r.ok()) {
        std::cerr << "tamga admin import-mlflow: " << r.status().ToString() << "\n";
        return 1;
      }
      const auto& s = r->source;
      std::cout << "imported and verified: " << s.experiments << " experiments, " << s.runs << " runs ("
                << r->runs_skipped << " were already there), " << s.params << " params, " << s.tags
                << " run tags, " << s.metric_points << " metric points, " << s.inputs << " dataset inputs, "
                << s.models << " registered models, " << s.versions << " versions, " << s.aliases
                << " aliases; " << r->uris_rewritten << " artifact URIs now served by Tamga's proxy, "
                << r->uris_kept << " left as they were";
      if (r->uris_without_files > 0)
        std::cout << "; " << r->uris_without_files
                  << " proxy URIs whose files were NOT copied (no --artifacts)";
      if (!o.artifacts.empty())
        std::cout << "; " << r->artifacts_copied << " artifacts copied (" << r->artifact_bytes << " bytes), "
                  << r->artifacts_skipped << " already there";
      std::cout << std::endl;
      return 0;
    };
  });
}

}  // namespace

AdminCommands AddAdminCommands(CLI::App& app) {
  AdminCommands out;
  out.action = std::make_shared<std::function<int()>>();
  auto* admin = app.add_subcommand("admin", "Operate on the stores directly (servers stopped).");
  admin->require_subcommand(1);
  auto opts = std::make_shared<MigrateOptions>();
  auto* migrate =
      admin->add_subcommand("migrate",
                            "Copy every table from one store URI to another (SQLite <-> PostgreSQL) and/or "
                            "the artifacts between two "
                            "destinations, verified by row counts and checksums; rerun to resume.");
  migrate->add_option("--from", opts->from,
                      "Source store: sqlite:///path/tamga.db (jobs.db beside it) or postgresql://...");
  migrate->add_option("--to", opts->to, "Destination store (empty: no server has run on it)");
  migrate->add_option("--artifacts-from", opts->artifacts_from,
                      "Source artifacts: file:///dir, a path or s3://bucket/prefix");
  migrate->add_option("--artifacts-to", opts->artifacts_to, "Destination artifacts");
  migrate->add_option("--batch-rows", opts->batch_rows, "Rows per committed batch")->capture_default_str();
  migrate->callback([action = out.action, opts] {
    *action = [opts]() -> int {
      if (opts->from.empty() && opts->artifacts_from.empty()) {
        std::cerr << "tamga admin migrate: give --from/--to, --artifacts-from/--artifacts-to, or both\n";
        return 2;
      }
      if (const char* stop = std::getenv("TAMGA_MIGRATE_STOP_AFTER_BATCHES"))
        opts->stop_after_batches = std::atoll(stop);
      opts->progress = [](const std::string& line) { std::cout << line << std::endl; };
      SystemClock clock;
      SystemRandom random;
      auto report = MigrateStores(*opts, &clock, &random);
      if (!report.ok()) {
        std::cerr << "tamga admin migrate: " << report.status().ToString() << "\n";
        return 1;
      }
      std::cout << "migrated: " << report->tables.size() << " tables verified";
      if (!opts->artifacts_from.empty()) {
        std::cout << ", " << report->artifacts_copied << " artifacts copied, " << report->artifacts_skipped
                  << " already there";
      }
      std::cout << std::endl;
      return 0;
    };
  });
  AddImportMlflow(admin, out.action);
  return out;
}

int RunAdminCommands(const AdminCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
