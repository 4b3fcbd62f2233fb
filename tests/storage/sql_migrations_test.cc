#include <gtest/gtest.h>

#include "storage/sql/migrations.h"

namespace tamga {
namespace {

TEST(PortableDdl, SqliteKeepsItsOwnLinesOnly) {
  const char* ddl =
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL, b BLOB) WITHOUT ROWID;\n"
      "-- @sqlite\n"
      "CREATE TRIGGER x BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no'); END;\n"
      "-- @postgres\n"
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$;\n"
      "-- @both\n"
      "CREATE INDEX t_v ON t(v);\n";
  std::string lite = PortableDdl(ddl, SqlDialect::kSqlite);
  EXPECT_NE(lite.find("INTEGER PRIMARY KEY, v REAL, b BLOB) WITHOUT ROWID"), std::string::npos);
  EXPECT_NE(lite.find("RAISE(ABORT"), std::string::npos);
  EXPECT_EQ(lite.find("plpgsql"), std::string::npos);
  EXPECT_NE(lite.find("CREATE INDEX t_v"), std::string::npos);

  std::string pg = PortableDdl(ddl, SqlDialect::kPostgres);
  EXPECT_NE(pg.find("id BIGSERIAL PRIMARY KEY, v DOUBLE PRECISION, b BYTEA)"), std::string::npos) << pg;
  EXPECT_EQ(pg.find("WITHOUT ROWID"), std::string::npos);
  EXPECT_EQ(pg.find("RAISE(ABORT"), std::string::npos);
  EXPECT_NE(pg.find("plpgsql"), std::string::npos);
  EXPECT_NE(pg.find("CREATE INDEX t_v"), std::string::npos);
}

TEST(PortableDdl, TypesInsideWordsAreLeftAlone) {
  std::string pg = PortableDdl("CREATE TABLE realms (realm_id INTEGER NOT NULL, blobs_count INTEGER);",
                               SqlDialect::kPostgres);
  EXPECT_EQ(pg, "CREATE TABLE realms (realm_id BIGINT NOT NULL, blobs_count BIGINT);");
}

// Every shipped migration translates to DDL without SQLite-only syntax left in it.
TEST(PortableDdl, ShippedMigrationsTranslate) {
  for (const auto* list : {&MetadataMigrations(), &JobMigrations()}) {
    for (const Migration& m : *list) {
      std::string pg = PortableDdl(m.sql, SqlDialect::kPostgres);
      EXPECT_EQ(pg.find("WITHOUT ROWID"), std::string::npos) << m.name;
      EXPECT_EQ(pg.find("KEY AUTOINCREMENT"), std::string::npos) << m.name;
      EXPECT_EQ(pg.find(" BLOB"), std::string::npos) << m.name;
      EXPECT_EQ(pg.find("RAISE(ABORT"), std::string::npos) << m.name;
    }
  }
}

}  // namespace
}  // namespace tamga
