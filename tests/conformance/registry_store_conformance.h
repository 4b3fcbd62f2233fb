#pragma once
// Conformance suite of the registry half of every MetadataStore (SQLite, PostgreSQL): models, versions,
// aliases and tags, renames that carry versions and deployments along, soft deletes, the events outbox and
// its cursors, webhooks and deliveries. Instantiate with
// INSTANTIATE_TEST_SUITE_P(Backend, RegistryStoreConformance, Values(factory)) (a StoreFactory).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "storage/metadata_store.h"

namespace tamga {

class RegistryStoreConformance
    : public ::testing::TestWithParam<std::function<std::unique_ptr<MetadataStore>()>> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_TRUE(store_ != nullptr);
  }
  Status Write(const std::function<Status(RegistryTxn&)>& fn) {
    auto txn = store_->BeginWrite();
    if (!txn.ok()) return txn.status();
    Status s = fn((*txn)->registry());
    if (!s.ok()) {
      (void)(*txn)->Rollback();
      return s;
    }
    return (*txn)->Commit();
  }
  static ModelVersion Version(const std::string& name, int64_t v, int64_t ts) {
    ModelVersion mv;
    mv.name = name;
    mv.version = v;
    mv.creation_timestamp = mv.last_updated_timestamp = ts;
    mv.source = "mlflow-artifacts:/1/run" + std::to_string(v) + "/artifacts/model";
    mv.storage_location = "mlflow-artifacts:/_registry/copy" + std::to_string(v);
    mv.run_id = "run" + std::to_string(v);
    return mv;
  }
  Status CreateModel(const std::string& name, int64_t ts, int versions) {
    return Write([&](RegistryTxn& t) -> Status {
      RegisteredModel m;
      m.name = name;
      m.creation_timestamp = m.last_updated_timestamp = ts;
      TAMGA_RETURN_IF_ERROR(t.CreateRegisteredModel(m));
      for (int v = 1; v <= versions; ++v)
        TAMGA_RETURN_IF_ERROR(t.CreateModelVersion(Version(name, v, ts + v)));
      return Status::Ok();
    });
  }
  std::unique_ptr<MetadataStore> store_;
};

TEST_P(RegistryStoreConformance, ModelsVersionsAliasesAndTags) {
  ASSERT_TRUE(CreateModel("fraud", 100, 3).ok());
  EXPECT_EQ(CreateModel("fraud", 200, 0).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(Write([](RegistryTxn& t) -> Status {
                TAMGA_RETURN_IF_ERROR(t.SetRegisteredModelTag("fraud", {"team", "risk"}));
                TAMGA_RETURN_IF_ERROR(t.SetRegisteredModelDescription("fraud", "scores card payments", 150));
                TAMGA_RETURN_IF_ERROR(t.SetModelVersionTag("fraud", 2, {"validated", "yes"}));
                TAMGA_RETURN_IF_ERROR(t.SetModelVersionStage("fraud", 2, "Production", 160));
                TAMGA_RETURN_IF_ERROR(t.SetAlias("fraud", "champion", 2));
                TAMGA_RETURN_IF_ERROR(t.SetAlias("fraud", "challenger", 3));
                return t.SetAlias("fraud", "challenger", 1);  // moves
              }).ok());
  auto m = store_->registry().GetRegisteredModel("fraud");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->description.value_or(""), "scores card payments");
  ASSERT_EQ(m->tags.size(), 1u);
  EXPECT_EQ(m->aliases.size(), 2u);
  auto v2 = store_->registry().GetModelVersion("fraud", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->current_stage, "Production");
  EXPECT_EQ(v2->aliases, std::vector<std::string>{"champion"});
  EXPECT_EQ(v2->run_id.value_or(""), "run2");
  EXPECT_EQ(*store_->registry().GetAliasVersion("fraud", "challenger"), std::optional<int64_t>(1));
  EXPECT_FALSE(store_->registry().GetAliasVersion("fraud", "nobody")->has_value());
  EXPECT_EQ(*store_->registry().ModelOfStorageLocation("mlflow-artifacts:/_registry/copy3"), "fraud");
  EXPECT_EQ(store_->registry().GetModelVersion("fraud", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Write([](RegistryTxn& t) { return t.DeleteRegisteredModelTag("fraud", "nope"); }).code(),
            StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformance, SoftDeletesKeepNumbersAndDropAliases) {
  ASSERT_TRUE(CreateModel("m", 100, 3).ok());
  ASSERT_TRUE(Write([](RegistryTxn& t) -> Status {
                TAMGA_RETURN_IF_ERROR(t.SetAlias("m", "prod", 3));
                return t.DeleteModelVersion("m", 3, 200);
              }).ok());
  EXPECT_EQ(store_->registry().GetModelVersion("m", 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->registry().MaxVersion("m"), 3);  // never reused
  EXPECT_FALSE(store_->registry().GetAliasVersion("m", "prod")->has_value());
  RegistryQuery q;
  q.filter = {{FieldKind::kAttribute, "name", CompareOp::kEq, std::string("m")}};
  auto page = store_->registry().SearchModelVersions(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->versions.size(), 2u);
  ASSERT_TRUE(Write([](RegistryTxn& t) { return t.DeleteRegisteredModel("m"); }).ok());
  EXPECT_EQ(store_->registry().GetRegisteredModel("m").status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformance, SearchOrdersPagesAndLikes) {
  for (const char* n : {"fraud-a", "fraud-b", "churn", "FRAUD-upper"})
    ASSERT_TRUE(CreateModel(n, 100, 1).ok());
  RegistryQuery q;
  q.filter = {{FieldKind::kAttribute, "name", CompareOp::kLike, std::string("fraud%")}};
  q.max_results = 1;
  auto page = store_->registry().SearchRegisteredModels(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->models.size(), 1u);
  EXPECT_EQ(page->models[0].name, "fraud-a");  // LIKE is case-sensitive, order by name
  EXPECT_TRUE(page->has_more);
  q.offset = 1;
  page = store_->registry().SearchRegisteredModels(q);
  EXPECT_EQ(page->models[0].name, "fraud-b");
  EXPECT_FALSE(page->has_more);
  RegistryQuery ci;
  ci.filter = {{FieldKind::kAttribute, "name", CompareOp::kILike, std::string("fraud%")}};
  EXPECT_EQ(store_->registry().SearchRegisteredModels(ci)->models.size(), 3u);
  RegistryQuery scoped;
  scoped.scope = RegistryQuery::NameScope{true, {"churn", "fraud-b"}};
  auto in_scope = store_->registry().SearchRegisteredModels(scoped);
  ASSERT_TRUE(in_scope.ok()) << in_scope.status().ToString();
  EXPECT_EQ(in_scope->models.size(), 2u);
}

TEST_P(RegistryStoreConformance, RenameCarriesVersionsAndDeployments) {
  ASSERT_TRUE(CreateModel("old", 100, 2).ok());
  ASSERT_TRUE(Write([](RegistryTxn& t) {
                DeploymentRecord d;
                d.name = "prod-api";
                d.model_name = "old";
                d.spec = R"({"name":"prod-api","model_name":"old","alias":"prod","target":"local"})";
                return t.PutDeployment(d);
              }).ok());
  ASSERT_TRUE(Write([](RegistryTxn& t) { return t.RenameRegisteredModel("old", "new", 300); }).ok());
  EXPECT_EQ(store_->registry().GetRegisteredModel("old").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->registry().GetModelVersion("new", 2).ok());
  auto d = store_->registry().GetDeployment("prod-api");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->model_name, "new");
  EXPECT_NE(d->spec.find("\"new\""), std::string::npos) << d->spec;
  EXPECT_EQ(Write([](RegistryTxn& t) { return t.DeleteDeployment("none"); }).code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformance, OutboxCursorsAndWebhookDeliveries) {
  std::vector<int64_t> seqs;
  ASSERT_TRUE(Write([&](RegistryTxn& t) -> Status {
                for (int i = 0; i < 3; ++i) {
                  RegistryEvent e;
                  e.type = i == 0 ? "registered_model.created" : "model_version.created";
                  e.model_name = "m";
                  e.version = i == 0 ? "" : std::to_string(i);
                  e.timestamp = 10 + i;
                  e.data = "{}";
                  TAMGA_ASSIGN_OR_RETURN(int64_t seq, t.AppendEvent(e));
                  seqs.push_back(seq);
                }
                return t.SetEventCursor("deploy", seqs[1]);
              }).ok());
  EXPECT_LT(seqs[0], seqs[1]);
  EXPECT_LT(seqs[1], seqs[2]);
  EXPECT_EQ(*store_->registry().LastEventSeq(), seqs[2]);
  EXPECT_EQ(*store_->registry().GetEventCursor("deploy"), seqs[1]);
  EXPECT_EQ(*store_->registry().GetEventCursor("never"), 0);
  auto after = store_->registry().ListEvents(seqs[0], 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].version, "1");
  auto history = store_->registry().ListModelEvents("m", 0, 10);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().seq, seqs[2]);  // newest first

  Webhook w;
  w.webhook_id = "wh1";
  w.name = "ci";
  w.url = "https://ci.example.com/hook";
  w.events = {"model_version.created", "model_version_alias.created"};
  w.secret = "s3cr3t";
  w.creation_timestamp = w.last_updated_timestamp = 5;
  ASSERT_TRUE(Write([&](RegistryTxn& t) -> Status {
                TAMGA_RETURN_IF_ERROR(t.PutWebhook(w));
                for (int i = 0; i < 2; ++i) {
                  WebhookDelivery d;
                  d.delivery_id = "d" + std::to_string(i);
                  d.webhook_id = "wh1";
                  d.event_seq = seqs[1 + i];
                  d.event_type = "model_version.created";
                  d.next_attempt_at = 100 + i * 100;
                  d.created_at = d.updated_at = 50;
                  TAMGA_RETURN_IF_ERROR(t.InsertDelivery(d));
                }
                return Status::Ok();
              }).ok());
  auto hooks = store_->registry().ListWebhooks();
  ASSERT_EQ(hooks->size(), 1u);
  EXPECT_EQ((*hooks)[0].events, w.events);
  EXPECT_EQ((*hooks)[0].secret, "s3cr3t");
  EXPECT_EQ(*store_->registry().NextDeliveryDue(), std::optional<int64_t>(100));
  auto due = store_->registry().DueDeliveries(150, 10);
  ASSERT_EQ(due->size(), 1u);
  WebhookDelivery done = due->front();
  done.state = DeliveryState::kSucceeded;
  done.attempts = 1;
  done.last_status = 200;
  ASSERT_TRUE(Write([&](RegistryTxn& t) { return t.UpdateDelivery(done); }).ok());
  EXPECT_EQ(*store_->registry().NextDeliveryDue(), std::optional<int64_t>(200));
  auto log = store_->registry().ListDeliveries("wh1", 0, 10);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->back().state, DeliveryState::kSucceeded);  // newest first: d1 then d0
  ASSERT_TRUE(Write([](RegistryTxn& t) { return t.DeleteWebhook("wh1"); }).ok());
  EXPECT_EQ(Write([](RegistryTxn& t) { return t.DeleteWebhook("wh1"); }).code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreConformance, DeliveryClaimsAreExclusiveUntilTheyRunOut) {
  ASSERT_TRUE(Write([](RegistryTxn& t) -> Status {
                for (int i = 0; i < 3; ++i) {
                  WebhookDelivery d;
                  d.delivery_id = "c" + std::to_string(i);
                  d.webhook_id = "wh";
                  d.event_seq = i + 1;
                  d.event_type = "registered_model.created";
                  d.next_attempt_at = 100 + i;
                  d.created_at = d.updated_at = 50;
                  TAMGA_RETURN_IF_ERROR(t.InsertDelivery(d));
                }
                return Status::Ok();
              }).ok());
  auto claim = [&](const std::string& owner, int64_t now, int64_t limit) {
    std::vector<WebhookDelivery> got;
    EXPECT_TRUE(Write([&](RegistryTxn& t) -> Status {
                  TAMGA_ASSIGN_OR_RETURN(got, t.ClaimDeliveries(now, owner, now + 1000, limit));
                  return Status::Ok();
                }).ok());
    return got;
  };
  auto a = claim("replica-a", 200, 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].delivery_id, "c0");  // oldest due first
  EXPECT_EQ(a[1].delivery_id, "c1");
  EXPECT_EQ(a[0].lease_owner, "replica-a");
  EXPECT_EQ(a[0].lease_until, 1200);
  auto b = claim("replica-b", 200, 10);  // only what A does not hold
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].delivery_id, "c2");
  EXPECT_TRUE(claim("replica-b", 300, 10).empty());
  // The next claimable moment is the end of the earliest claim.
  EXPECT_EQ(*store_->registry().NextDeliveryDue(), std::optional<int64_t>(1200));
  // A finishes c0; its c1 claim runs out and B takes it over (with c2, whose own claim ran out too), after
  // which A's late update is refused.
  WebhookDelivery done = a[0];
  done.state = DeliveryState::kSucceeded;
  done.attempts = 1;
  ASSERT_TRUE(Write([&](RegistryTxn& t) { return t.UpdateDelivery(done); }).ok());
  auto late = claim("replica-b", 1300, 10);
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].delivery_id, "c1");
  WebhookDelivery stale = a[1];
  stale.state = DeliveryState::kSucceeded;
  EXPECT_EQ(Write([&](RegistryTxn& t) { return t.UpdateDelivery(stale); }).code(), StatusCode::kAborted);
  WebhookDelivery retry = late[0];
  retry.attempts = 1;
  retry.next_attempt_at = 5000;  // failed; retried later, claim released
  ASSERT_TRUE(Write([&](RegistryTxn& t) { return t.UpdateDelivery(retry); }).ok());
  EXPECT_TRUE(claim("replica-a", 1300, 10).empty());
  auto again = claim("replica-a", 5000, 10);
  ASSERT_EQ(again.size(), 2u);  // c1 due again, and c2 whose claim ran out at 2300
  auto log = store_->registry().ListDeliveries("wh", 0, 10);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ(log->back().state, DeliveryState::kSucceeded);
}

TEST_P(RegistryStoreConformance, EventCursorLeasesHaveOneOwnerAtATime) {
  auto claim = [&](const std::string& owner, int64_t now) {
    std::optional<int64_t> got;
    EXPECT_TRUE(Write([&](RegistryTxn& t) -> Status {
                  TAMGA_ASSIGN_OR_RETURN(got, t.ClaimEventCursor("deploy", owner, now, now + 100));
                  return Status::Ok();
                }).ok());
    return got;
  };
  EXPECT_EQ(claim("a", 1000), std::optional<int64_t>(0));  // never stored: 0
  ASSERT_TRUE(Write([](RegistryTxn& t) { return t.SetEventCursor("deploy", 7); }).ok());
  EXPECT_EQ(claim("b", 1050), std::nullopt);               // A holds it
  EXPECT_EQ(claim("a", 1090), std::optional<int64_t>(7));  // A renews until 1190
  EXPECT_EQ(claim("b", 1150), std::nullopt);
  EXPECT_EQ(claim("b", 1190), std::optional<int64_t>(7));  // ran out: B takes over where A stopped
  EXPECT_EQ(claim("a", 1200), std::nullopt);
  EXPECT_EQ(*store_->registry().GetEventCursor("deploy"), 7);
}

}  // namespace tamga
