#include "cli/admin_commands.h"

#include <cstdlib>
#include <iostream>

#include "admin/store_migrate.h"
#include "core/clock.h"
#include "core/random.h"

namespace tamga {

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
  return out;
}

int RunAdminCommands(const AdminCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
