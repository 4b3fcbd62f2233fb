#pragma once
// Conformance suite of every AuthStore (SQLite, PostgreSQL): users, tokens, grants and their renames.
// Instantiate with INSTANTIATE_TEST_SUITE_P(Backend, AuthStoreConformance, Values(factory)).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "storage/auth_store.h"

namespace tamga {

using AuthStoreFactory = std::function<std::unique_ptr<AuthStore>()>;

class AuthStoreConformance : public ::testing::TestWithParam<AuthStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_TRUE(store_ != nullptr);
  }
  std::unique_ptr<AuthStore> store_;
};

TEST_P(AuthStoreConformance, RenamedObjectsCarryTheirGrantsOverThoseOfTheNewName) {
  auto put = [&](const std::string& object, const std::string& subject, const std::string& perm) {
    ASSERT_TRUE(store_->PutGrant({"registered_model", object, "user", subject, perm}).ok());
  };
  put("old", "1", "MANAGE");
  put("old", "2", "READ");
  put("new", "1", "READ");  // stale grant on the new name: replaced
  put("new", "3", "EDIT");  // another user's grant on the new name: kept
  ASSERT_TRUE(store_->RenameGrantObject("registered_model", "old", "new").ok());
  auto grants = store_->ListGrants();
  ASSERT_TRUE(grants.ok());
  std::map<std::string, std::string> on_new;
  for (const auto& g : *grants) {
    EXPECT_NE(g.object_id, "old");
    if (g.object_id == "new") on_new[g.subject_id] = g.permission;
  }
  EXPECT_EQ(on_new, (std::map<std::string, std::string>{{"1", "MANAGE"}, {"2", "READ"}, {"3", "EDIT"}}));
  ASSERT_TRUE(store_->DeleteObjectGrants("registered_model", "new").ok());
  EXPECT_TRUE(store_->ListGrants()->empty());
}

TEST_P(AuthStoreConformance, UsersAreUniqueAndDeletingOneTakesItsGrantsAndTokens) {
  UserRecord u;
  u.username = "ana";
  u.password_hash = "h";
  u.source = "local";
  auto created = store_->CreateUser(u);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(store_->CreateUser(u).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->PutGrant({"experiment", "1", "user", std::to_string(created->id), "EDIT"}).ok());
  ASSERT_TRUE(store_->DeleteUser(created->id).ok());
  EXPECT_TRUE(store_->ListUsers()->empty());
  EXPECT_TRUE(store_->ListGrants()->empty());
  EXPECT_EQ(store_->DeleteUser(created->id).code(), StatusCode::kNotFound);
}

TEST_P(AuthStoreConformance, TokenUseOnlyMovesForwardAndSessionsComeAndGo) {
  UserRecord u;
  u.username = "bo";
  auto user = store_->CreateUser(u);
  ASSERT_TRUE(user.ok());
  TokenRecord t;
  t.id = "tok1";
  t.user_id = user->id;
  t.name = "ci";
  t.digest = "d1";
  ASSERT_TRUE(store_->PutToken(t).ok());
  ASSERT_TRUE(store_->TouchTokens({{"tok1", 500}}).ok());
  ASSERT_TRUE(store_->TouchTokens({{"tok1", 300}}).ok());  // an older report does not move it back
  EXPECT_EQ(store_->ListTokens()->at(0).last_used_ms, 500);

  SessionRecord s;
  s.id_digest = "sess";
  s.user_id = user->id;
  s.csrf_token = "csrf";
  s.oidc = true;
  s.teams = {"vision", "ops"};
  s.last_seen_ms = 1000;
  s.expires_ms = 9000;
  ASSERT_TRUE(store_->PutSession(s).ok());
  auto got = store_->GetSession("sess");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->teams, s.teams);
  EXPECT_TRUE((*got)->oidc);
  ASSERT_TRUE(store_->TouchSessions({{"sess", 2000}}).ok());
  EXPECT_EQ((*store_->GetSession("sess"))->last_seen_ms, 2000);
  ASSERT_TRUE(store_->DeleteEndedSessions(3000, 1500).ok());  // idle since before 1500? no
  EXPECT_TRUE(store_->GetSession("sess")->has_value());
  ASSERT_TRUE(store_->DeleteEndedSessions(9000, 0).ok());  // past its end
  EXPECT_FALSE(store_->GetSession("sess")->has_value());

  ASSERT_TRUE(store_->PutPendingLogin({"st", "ver", "non", "/x", 5000}).ok());
  auto once = store_->TakePendingLogin("st", 100);
  ASSERT_TRUE(once.ok() && once->has_value());
  EXPECT_EQ((*once)->verifier, "ver");
  EXPECT_FALSE(store_->TakePendingLogin("st", 100)->has_value());  // once
  ASSERT_TRUE(store_->PutPendingLogin({"old", "v", "n", "/", 50}).ok());
  EXPECT_FALSE(store_->TakePendingLogin("old", 100)->has_value());  // expired
  EXPECT_EQ(*store_->SharedSecret("k", "first"), "first");
  EXPECT_EQ(*store_->SharedSecret("k", "second"), "first");
}

}  // namespace tamga
