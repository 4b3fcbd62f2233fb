// Seeds a Tamga data directory with a registry for the resolve/search benchmarks, directly through the
// store (the seeding is not what gets measured).
//   seed_registry <data_dir> <models> <versions_per_model>
// Model "model-<i>" gets versions 1..N (external s3:// sources), a tag team=<i % 10>, and alias
// "production" on its newest version.
#include <cstdio>
#include <filesystem>
#include <string>

#include "storage/sqlite/sqlite_stores.h"

using namespace tamga;

static void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: seed_registry <data_dir> <models> <versions_per_model>\n");
    return 2;
  }
  std::string dir = argv[1];
  long models = std::stol(argv[2]);
  long versions = std::stol(argv[3]);
  std::filesystem::create_directories(dir);
  auto store_or = OpenSqliteMetadataStore({dir + "/tamga.db"});
  Check(store_or.status(), "open store");
  auto& store = **store_or;
  int64_t t = 1700000000000;
  for (long base = 0; base < models; base += 500) {
    auto txn_or = store.BeginWrite();
    Check(txn_or.status(), "begin");
    RegistryTxn& r = (*txn_or)->registry();
    for (long i = base; i < std::min(models, base + 500); ++i) {
      RegisteredModel m;
      m.name = "model-" + std::to_string(i);
      m.creation_timestamp = m.last_updated_timestamp = t + i;
      m.tags = {{"team", std::to_string(i % 10)}};
      Check(r.CreateRegisteredModel(m), "model");
      for (long v = 1; v <= versions; ++v) {
        ModelVersion mv;
        mv.name = m.name;
        mv.version = v;
        mv.creation_timestamp = mv.last_updated_timestamp = t + i * 100 + v;
        mv.source = mv.storage_location = "s3://bench/" + m.name + "/" + std::to_string(v);
        mv.run_id = "0123456789abcdef0123456789abcdef";
        if (v == versions) mv.current_stage = "Production";
        Check(r.CreateModelVersion(mv), "version");
      }
      Check(r.SetAlias(m.name, "production", versions), "alias");
    }
    Check((*txn_or)->Commit(), "commit");
  }
  std::printf("models=%ld versions=%ld\n", models, models * versions);
  return 0;
}
