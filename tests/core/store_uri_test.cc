#include "core/store_uri.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(StoreUri, Sqlite) {
  auto rel = ParseBackendStoreUri("sqlite:///mlflow.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->kind, StoreUri::Kind::kSqlite);
  EXPECT_EQ(rel->path, "mlflow.db");
  EXPECT_EQ(ParseBackendStoreUri("sqlite:////var/lib/tamga/tamga.db")->path, "/var/lib/tamga/tamga.db");
  EXPECT_EQ(ParseBackendStoreUri("sqlite:///a%20b.db")->path, "a b.db");
  for (const char* bad : {"sqlite:", "sqlite://x.db", "sqlite:///", "sqlite:///dir/", "mysql://h/db", "",
                          "sqlite:///a\nb.db"}) {
    EXPECT_FALSE(ParseBackendStoreUri(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseBackendStoreUri("sqlite:///" + std::string(5000, 'a')).ok());
}

TEST(StoreUri, Postgres) {
  auto u = ParseBackendStoreUri(
      "postgresql://tamga:p%40ss:w@db.example:6432/mlops?sslmode=require&application_name=t");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->kind, StoreUri::Kind::kPostgres);
  EXPECT_EQ(u->user, "tamga");
  EXPECT_EQ(u->password, "p@ss:w");
  EXPECT_EQ(u->host, "db.example");
  EXPECT_EQ(u->port, 6432);
  EXPECT_EQ(u->database, "mlops");
  EXPECT_EQ(u->params.at("sslmode"), "require");
  EXPECT_EQ(u->Redacted(), "postgresql://tamga:***@db.example:6432/mlops?sslmode=require&application_name=t");
  EXPECT_EQ(u->Redacted().find("p%40ss"), std::string::npos);
  auto sock = ParseBackendStoreUri("postgresql+psycopg2:///mlflow?host=/run/postgresql");
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(sock->host, "");
  EXPECT_EQ(sock->params.at("host"), "/run/postgresql");
  auto v6 = ParseBackendStoreUri("postgres://u@[::1]:5432/db");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Redacted(), "postgres://u@[::1]:5432/db");
  EXPECT_EQ(ParseBackendStoreUri("postgresql://h/db")->port, 0);
  for (const char* bad : {"postgresql://h", "postgresql://h:99999/db", "postgresql://h:x/db",
                          "postgresql:h/db", "postgresql://[::1/db"}) {
    EXPECT_FALSE(ParseBackendStoreUri(bad).ok()) << bad;
  }
}

TEST(StoreUri, Artifacts) {
  auto s3 = ParseArtifactsUri("s3://ml-artifacts/team/a/");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->kind, StoreUri::Kind::kS3);
  EXPECT_EQ(s3->bucket, "ml-artifacts");
  EXPECT_EQ(s3->prefix, "team/a");
  EXPECT_EQ(ParseArtifactsUri("s3://bucket")->prefix, "");
  EXPECT_EQ(ParseArtifactsUri("file:///srv/artifacts")->path, "/srv/artifacts");
  EXPECT_EQ(ParseArtifactsUri("./artifacts")->kind, StoreUri::Kind::kFile);
  for (const char* bad : {"s3://Bad_Bucket", "s3://ab", "s3://a..b/x", "s3://-ab", "s3://bkt/a//b",
                          "file://host/x", "gs://bucket/x", ""}) {
    EXPECT_FALSE(ParseArtifactsUri(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tamga
