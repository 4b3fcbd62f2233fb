// The SQL stores on a real PostgreSQL 15, started around this binary by tests/harness/postgres.py
// (TAMGA_TEST_PG_URI): the metadata store conformance suite, PostgreSQL-specific behaviour, and the
// placeholder rewriting.
#include <gtest/gtest.h>

#include <cstdlib>

#include "conformance/auth_store_conformance.h"
#include "conformance/dataset_store_conformance.h"
#include "conformance/job_store_conformance.h"
#include "conformance/metadata_store_conformance.h"
#include "conformance/registry_store_conformance.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "storage/group_commit.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/pg_stores.h"

#include <atomic>
#include <future>
#include <set>

namespace tamga {
namespace {

StoreUri TestUri() {
  const char* uri = std::getenv("TAMGA_TEST_PG_URI");
  EXPECT_NE(uri, nullptr) << "run under tests/harness/postgres.py (ctest does): it starts PostgreSQL";
  auto parsed = ParseBackendStoreUri(uri ? uri : "postgresql://localhost/none");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : StoreUri{};
}

// An empty schema for each store the suite makes.
void ResetSchema() {
  auto db = PgDb::Open(TestUri());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public").ok());
}

std::unique_ptr<MetadataStore> MakePg() {
  ResetSchema();
  auto s = OpenPgMetadataStore(TestUri());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::unique_ptr<MetadataStore>(std::move(*s)) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, MetadataStoreConformance, ::testing::Values(StoreFactory(MakePg)));
INSTANTIATE_TEST_SUITE_P(Postgres, RegistryStoreConformance, ::testing::Values(StoreFactory(MakePg)));

std::unique_ptr<JobStore> MakePgJobStore() {
  ResetSchema();
  auto s = OpenPgJobStore(TestUri());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, JobStoreConformance, ::testing::Values(JobStoreFactory(MakePgJobStore)));

std::unique_ptr<AuthStore> MakePgAuthStore() {
  ResetSchema();
  EXPECT_TRUE(OpenPgMetadataStore(TestUri()).ok());  // the schema (the identity tables are in it)
  auto s = OpenPgAuthStore(TestUri());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, AuthStoreConformance,
                         ::testing::Values(AuthStoreFactory(MakePgAuthStore)));

std::unique_ptr<DatasetStore> MakePgDatasetStore() {
  ResetSchema();
  EXPECT_TRUE(OpenPgMetadataStore(TestUri()).ok());  // the schema
  auto s = OpenPgDatasetStore(TestUri());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Postgres, DatasetStoreConformance,
                         ::testing::Values(DatasetStoreFactory(MakePgDatasetStore)));

// The group commit's optimistic pass (pipelined writes, metric rows buffered until commit) and its replay:
// one request whose write PostgreSQL refuses (a NUL byte in text) fails alone; every other write in the batch
// lands.
TEST(PgGroupCommit, PipelinedBatchReplaysAroundARefusedWrite) {
  ResetSchema();
  auto store = OpenPgMetadataStore(TestUri());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  SystemClock clock;
  MetricsRegistry metrics;
  auto writer = GroupCommitter::Create({}, store->get(), &clock, &metrics);
  ASSERT_TRUE(writer.ok());
  const std::string run_id(32, 'a');
  ASSERT_TRUE((*writer)
                  ->SubmitAndWait([&](WriteTxn& t) -> Status {
                    Experiment e;
                    e.name = "pipelined";
                    e.creation_time = e.last_update_time = 1;
                    TAMGA_ASSIGN_OR_RETURN(std::string exp, t.CreateExperiment(e));
                    RunInfo info;
                    info.run_id = run_id;
                    info.experiment_id = exp;
                    info.run_name = "r";
                    info.artifact_uri = "x";
                    info.start_time = 1;
                    return t.CreateRun(info, {});
                  })
                  .ok());
  constexpr int kWrites = 200;
  std::vector<std::promise<Status>> done(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    (*writer)->Submit(
        [&, i](WriteTxn& t) -> Status {
          TAMGA_ASSIGN_OR_RETURN(RunInfo info, t.GetRunInfo(run_id));
          // Not UTF-8: PostgreSQL refuses it when the pipelined insert runs, after the request "succeeded".
          if (i == 77) return t.InsertParams(run_id, {{"bad", "\xff\xfe"}});
          TAMGA_RETURN_IF_ERROR(t.InsertParams(run_id, {{"p" + std::to_string(i), "v"}}));
          return t.LogMetrics(run_id,
                              {{"loss", 1.0 / (i + 1), 1000 + i, i}, {"acc", double(i), 1000 + i, i}});
        },
        [&, i](Status s) { done[i].set_value(s); });
  }
  for (int i = 0; i < kWrites; ++i) {
    Status s = done[i].get_future().get();
    if (i == 77) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    } else {
      EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
    }
  }
  auto run = (*store)->GetRun(run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->params.size(), size_t{kWrites - 1});
  for (const auto& m : run->metrics) {
    EXPECT_EQ(m.step, kWrites - 1) << m.key;  // the latest point is the highest step, whatever the batching
  }
  auto history = (*store)->GetMetricHistory(run_id, "acc", std::nullopt, 100000);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->points.size(), size_t{kWrites - 1});
}

// Two replicas on one database: while one replica's claim transaction is open, the other's claim skips the
// rows it holds instead of waiting for them (FOR UPDATE SKIP LOCKED), and the two get disjoint deliveries; a
// fan-out's cursor lease taken in an open transaction makes the other replica's claim wait, then fail.
TEST(PgReplicas, ConcurrentClaimsSkipLockedRowsAndShareNothing) {
  auto a = MakePg();
  auto b_or = OpenPgMetadataStore(TestUri());
  ASSERT_TRUE(a && b_or.ok());
  auto& b = *b_or;
  {
    auto txn = a->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 6; ++i) {
      WebhookDelivery d;
      d.delivery_id = "d" + std::to_string(i);
      d.webhook_id = "wh";
      d.event_seq = i + 1;
      d.event_type = "registered_model.created";
      d.next_attempt_at = 10;
      ASSERT_TRUE((*txn)->registry().InsertDelivery(d).ok());
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto ta = a->BeginWrite();
  auto tb = b->BeginWrite();
  ASSERT_TRUE(ta.ok() && tb.ok());
  auto got_a = (*ta)->registry().ClaimDeliveries(100, "a", 5000, 4);
  ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
  auto got_b = (*tb)->registry().ClaimDeliveries(100, "b", 5000, 4);  // returns at once: A's rows skipped
  ASSERT_TRUE(got_b.ok()) << got_b.status().ToString();
  EXPECT_EQ(got_a->size(), 4u);
  EXPECT_EQ(got_b->size(), 2u);
  std::set<std::string> ids;
  for (const auto& d : *got_a) ids.insert(d.delivery_id);
  for (const auto& d : *got_b) ids.insert(d.delivery_id);
  EXPECT_EQ(ids.size(), 6u);
  ASSERT_TRUE((*ta)->Commit().ok());
  ASSERT_TRUE((*tb)->Commit().ok());

  // The cursor lease: B's claim blocks on A's open transaction and, once A commits, finds A's lease.
  auto ca = a->BeginWrite();
  ASSERT_TRUE(ca.ok());
  auto held = (*ca)->registry().ClaimEventCursor("webhooks", "a", 100, 10000);
  ASSERT_TRUE(held.ok() && held->has_value());
  auto other = std::async(std::launch::async, [&]() -> Result<std::optional<int64_t>> {
    auto cb = b->BeginWrite();
    if (!cb.ok()) return cb.status();
    auto r = (*cb)->registry().ClaimEventCursor("webhooks", "b", 200, 10000);
    (void)(*cb)->Commit();
    return r;
  });
  EXPECT_EQ(other.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  ASSERT_TRUE((*ca)->registry().SetEventCursor("webhooks", 42).ok());
  ASSERT_TRUE((*ca)->Commit().ok());
  auto r = other.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, std::nullopt);
}

TEST(PgPlaceholders, NumberedBareAndQuoted) {
  int n = 0;
  EXPECT_EQ(PgPlaceholders("SELECT a FROM t WHERE x = ?1 AND y = ?2 OR z = ?1", &n),
            "SELECT a FROM t WHERE x = $1 AND y = $2 OR z = $1");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(PgPlaceholders("VALUES (?, ?, ?5, ?)", &n), "VALUES ($1, $2, $5, $6)");
  EXPECT_EQ(n, 6);
  EXPECT_EQ(PgPlaceholders("SELECT '?1', \"a?\" FROM t WHERE v = ? AND w = 'it''s ?'", &n),
            "SELECT '?1', \"a?\" FROM t WHERE v = $1 AND w = 'it''s ?'");
  EXPECT_EQ(n, 1);
}

TEST(PgBytea, HexForm) {
  std::string out;
  EXPECT_TRUE(PgDecodeBytea("\\x00ff41", &out));
  EXPECT_EQ(out, std::string("\0\xff"
                             "A",
                             3));
  EXPECT_FALSE(PgDecodeBytea("\\x0", &out));
  EXPECT_FALSE(PgDecodeBytea("00ff", &out));
}

TEST(PgDb, TypesRoundTripAndErrorsMap) {
  ResetSchema();
  auto db = PgDb::Open(TestUri());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, b BYTEA)").ok());
  std::string blob("\0\x01\xfe\xff binary", 11);
  for (double d : {1.0 / 3.0, std::nan(""), -std::numeric_limits<double>::infinity(), 1e308}) {
    ASSERT_TRUE((*db)->Exec("DELETE FROM t").ok());
    auto ins = (*db)->Prepare("INSERT INTO t(k, i, d, b) VALUES (?1, ?2, ?3, ?4)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE((*ins)
                    ->Bind(1, "k\xc3\xa9")
                    .Bind(2, int64_t{-9007199254740993})
                    .Bind(3, d)
                    .BindBlob(4, blob)
                    .Run()
                    .ok());
    EXPECT_EQ((*db)->Changes(), 1);
    auto sel = (*db)->Prepare("SELECT k, i, d, b, NULL FROM t");
    ASSERT_TRUE(sel.ok());
    ASSERT_TRUE(*(*sel)->Step());
    EXPECT_EQ((*sel)->Text(0), "k\xc3\xa9");
    EXPECT_EQ((*sel)->Int(1), int64_t{-9007199254740993});
    if (std::isnan(d))
      EXPECT_TRUE(std::isnan((*sel)->Double(2)));
    else
      EXPECT_EQ((*sel)->Double(2), d);  // exact: shortest round-trip text
    EXPECT_EQ((*sel)->Blob(3), blob);
    EXPECT_TRUE((*sel)->IsNull(4));
    EXPECT_FALSE(*(*sel)->Step());
  }
  auto dup = (*db)->Prepare("INSERT INTO t(k) VALUES (?1)");
  EXPECT_EQ((*dup)->Bind(1, "k\xc3\xa9").Run().code(), StatusCode::kAlreadyExists);
  auto bad = (*db)->PrepareUncached("INSERT INTO t(k, i) VALUES (?1, CAST(?2 AS BIGINT))");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ((*bad)->Bind(1, "x").Bind(2, "not a number").Run().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*db)->PrepareUncached("SELECT nope FROM t").status().code(), StatusCode::kInternal);
  // Text parameters cannot hold NUL on PostgreSQL: refused, never cut short.
  auto nul = (*db)->Prepare("INSERT INTO t(k) VALUES (?1)");
  EXPECT_EQ((*nul)->Bind(1, std::string("a\0b", 3)).Run().code(), StatusCode::kInvalidArgument);
}

TEST(PgDb, WrongPasswordIsRedacted) {
  StoreUri u = TestUri();
  u.host = "127.0.0.1";
  u.params.erase("host");
  u.port = 1;
  u.password = "hunter2-secret";
  auto db = PgDb::Open(u);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("hunter2-secret"), std::string::npos) << db.status().message();
}

}  // namespace
}  // namespace tamga
