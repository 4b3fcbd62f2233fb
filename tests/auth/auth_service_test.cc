// AuthService on a real SQLite AuthStore: effective permissions (grants, teams, the default, admins), the
// search visibility it hands to stores, tokens, and that every identity change takes effect at once (the
// verified-credential cache is dropped).
#include "auth/auth_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "core/json_writer.h"
#include "storage/sqlite/sqlite_stores.h"

namespace tamga {
namespace {

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tamga-auth-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The metadata store applies the migrations that create the identity tables.
    meta_ = OpenSqliteMetadataStore({(dir_ / "tamga.db").string()}).value();
    store_ = OpenSqliteAuthStore((dir_ / "tamga.db").string(), "NORMAL").value();
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    meta_.reset();
    std::filesystem::remove_all(dir_);
  }
  AuthService& Start(Permission default_permission = Permission::kRead) {
    AuthService::Options o;
    o.default_permission = default_permission;
    o.admin_password = "admin-pass-1234";
    auth_ = AuthService::Create(o, store_.get(), &clock_).value();
    return *auth_;
  }
  Result<PrincipalPtr> As(const std::string& user, const std::string& password) {
    auto r = auth_->AuthenticateFast("Basic " + Base64Encode(user + ":" + password));
    if (r) return std::move(*r);
    Result<PrincipalPtr> out = Internal("no answer");
    std::promise<void> done;
    auth_->Authenticate("Basic " + Base64Encode(user + ":" + password), [&](Result<PrincipalPtr> p) {
      out = std::move(p);
      done.set_value();
    });
    done.get_future().wait();
    return out;
  }

  std::filesystem::path dir_;
  ManualClock clock_{1000000};
  std::unique_ptr<SqlMetadataStore> meta_;
  std::unique_ptr<AuthStore> store_;
  std::unique_ptr<AuthService> auth_;
};

TEST_F(AuthServiceTest, EffectivePermissionAndVisibility) {
  AuthService& a = Start(Permission::kRead);
  ASSERT_TRUE(a.CreateUser("ana", "ana-pass-1234", false).ok());
  Principal ana = **As("ana", "ana-pass-1234");
  Principal admin = **As("admin", "admin-pass-1234");
  EXPECT_TRUE(admin.is_admin);
  EXPECT_EQ(a.Effective(ana, ObjectKind::kExperiment, "1"), Permission::kRead);  // the default
  EXPECT_EQ(a.Effective(admin, ObjectKind::kExperiment, "1"), Permission::kManage);
  ASSERT_TRUE(a.CreateGrant(ObjectKind::kExperiment, "2", "ana", Permission::kNoPermissions).ok());
  ASSERT_TRUE(a.CreateGrant(ObjectKind::kExperiment, "3", "ana", Permission::kEdit).ok());
  EXPECT_EQ(a.Effective(ana, ObjectKind::kExperiment, "2"), Permission::kNoPermissions);
  EXPECT_EQ(a.Effective(ana, ObjectKind::kExperiment, "3"), Permission::kEdit);
  EXPECT_EQ(a.Effective(ana, ObjectKind::kRegisteredModel, "2"), Permission::kRead);  // kinds are separate
  EXPECT_EQ(a.CreateGrant(ObjectKind::kExperiment, "3", "ana", Permission::kRead).status().code(),
            StatusCode::kAlreadyExists);
  auto v = a.Readable(ana, ObjectKind::kExperiment);
  EXPECT_EQ(v.mode, AuthService::Visibility::Mode::kAllExcept);
  EXPECT_EQ(v.ids, std::vector<std::string>{"2"});
  EXPECT_EQ(a.Readable(admin, ObjectKind::kExperiment).mode, AuthService::Visibility::Mode::kAll);
  EXPECT_EQ(a.Readable(Principal{}, ObjectKind::kExperiment).mode, AuthService::Visibility::Mode::kOnly);
  // A team's grant counts; the highest of the user's and the teams' wins.
  Principal in_team = ana;
  in_team.teams = {"vision"};
  GrantRecord team{"experiment", "2", "team", "vision", "MANAGE"};
  ASSERT_TRUE(store_->PutGrant(team).ok());
  auth_.reset();
  AuthService& b = Start(Permission::kNoPermissions);  // grants load from the store
  EXPECT_EQ(b.Effective(in_team, ObjectKind::kExperiment, "2"), Permission::kManage);
  EXPECT_EQ(b.Effective(ana, ObjectKind::kExperiment, "2"), Permission::kNoPermissions);
  EXPECT_EQ(b.Effective(ana, ObjectKind::kExperiment, "9"), Permission::kNoPermissions);  // the new default
  auto only = b.Readable(ana, ObjectKind::kExperiment);
  EXPECT_EQ(only.mode, AuthService::Visibility::Mode::kOnly);
  EXPECT_EQ(only.ids, std::vector<std::string>{"3"});
  EXPECT_TRUE(only.Allows("3"));
  EXPECT_FALSE(only.Allows("2"));
}

TEST_F(AuthServiceTest, ChangesTakeEffectAtOnce) {
  AuthService& a = Start();
  ASSERT_TRUE(a.CreateUser("ana", "ana-pass-1234", false).ok());
  ASSERT_TRUE(As("ana", "ana-pass-1234").ok());
  EXPECT_EQ(As("ana", "wrong-pass-1234").status().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(a.UpdatePassword("ana", "new-pass-1234").ok());
  EXPECT_FALSE(As("ana", "ana-pass-1234").ok());  // the cached proof of the old password is gone
  EXPECT_TRUE(As("ana", "new-pass-1234").ok());
  AuthService::CreateTokenRequest tr;
  tr.user_id = a.GetUser("ana")->id;
  tr.name = "laptop";
  tr.expires_ms = clock_.NowMillis() + 60000;
  auto token = a.CreateToken(tr);
  ASSERT_TRUE(token.ok());
  std::string bearer = "Bearer " + token->secret;
  EXPECT_EQ((*a.AuthenticateFast(bearer))->get()->username, "ana");
  clock_.Advance(61000);
  EXPECT_FALSE(a.AuthenticateFast(bearer)->ok());  // expired, though its proof was cached
  tr.expires_ms = 0;
  token = a.CreateToken(tr);
  bearer = "Bearer " + token->secret;
  EXPECT_TRUE(a.AuthenticateFast(bearer)->ok());
  ASSERT_TRUE(a.RevokeToken(token->record.id).ok());
  EXPECT_FALSE(a.AuthenticateFast(bearer)->ok());
  EXPECT_EQ(a.DeleteUser("admin").code(), StatusCode::kFailedPrecondition);  // the last admin stays
  ASSERT_TRUE(a.DeleteUser("ana").ok());
  EXPECT_FALSE(As("ana", "new-pass-1234").ok());
  EXPECT_EQ(a.CreateUser("x", "short", false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.CreateUser("a:b", "long-enough-1", false).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tamga
