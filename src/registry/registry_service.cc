// RegistryService: registered models, tags, aliases, search, and the write/event plumbing.
// Model versions are in model_version_service.cc.
#include "registry/registry_service.h"

#include <cctype>

#include "registry/registry_events.h"
#include "registry/registry_internal.h"
#include "registry/registry_validation.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"

namespace tamga {

RegistryService::RegistryService(MetadataStore* store, GroupCommitter* writer, BlobStore* blobs,
                                 EventHub* hub, Clock* clock, Random* random)
    : store_(store), writer_(writer), blobs_(blobs), hub_(hub), clock_(clock), random_(random) {}

void RegistryService::Write(TxnFn fn, Done done) {
  auto last_seq = std::make_shared<int64_t>(0);
  writer_->Submit(
      [fn = std::move(fn), last_seq](WriteTxn& txn) -> Status {
        std::vector<RegistryEvent> events;
        TAMGA_RETURN_IF_ERROR(fn(txn, &events));
        for (const auto& e : events) {
          TAMGA_ASSIGN_OR_RETURN(*last_seq, txn.registry().AppendEvent(e));
        }
        return Status::Ok();
      },
      [this, last_seq, done = std::move(done)](Status s) {
        if (s.ok() && *last_seq > 0) hub_->Publish(*last_seq);
        done(s);
      });
}

namespace registry_internal {

Status ValidateTags(const std::vector<KeyValue>& tags) {
  for (const auto& t : tags) TAMGA_RETURN_IF_ERROR(ValidateRegistryTag(t));
  return Status::Ok();
}

Result<int64_t> ParseMaxResults(int64_t max_results, int64_t limit) {
  if (max_results < 1 || max_results > limit) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be at most " +
                           std::to_string(limit) + ", but got value " + std::to_string(max_results));
  }
  return max_results;
}

void ApplyPromptRule(RegistryQuery* q) {
  constexpr const char* kIsPrompt = "mlflow.prompt.is_prompt";
  bool querying_prompts = false;
  for (const auto& c : q->filter) {
    if (c.kind != FieldKind::kTag || c.key != kIsPrompt) continue;
    const std::string* v = std::get_if<std::string>(&c.value);
    std::string lower;
    if (v) {
      for (char ch : *v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    querying_prompts =
        (c.op == CompareOp::kEq && lower == "true") || (c.op == CompareOp::kNe && lower == "false");
    break;  // MLflow looks at the first such comparison only
  }
  if (querying_prompts) return;
  q->exclude_prompts = true;
  std::vector<Comparison> kept;
  for (auto& c : q->filter) {
    if (c.kind == FieldKind::kTag && c.key == kIsPrompt) continue;
    kept.push_back(std::move(c));
  }
  q->filter = std::move(kept);
}

}  // namespace registry_internal

using namespace registry_internal;

void RegistryService::CreateRegisteredModel(CreateRegisteredModelRequest req,
                                            DoneWith<RegisteredModel> done) {
  Status valid = ValidateModelName(req.name);
  if (valid.ok()) valid = ValidateTags(req.tags);
  if (valid.ok()) valid = ValidateDescription(req.description);
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<std::optional<RegisteredModel>>();
  int64_t now = clock_->NowMillis();
  Write(
      [req = std::move(req), reply, now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        RegisteredModel m;
        m.name = req.name;
        m.creation_timestamp = m.last_updated_timestamp = now;
        m.user_id = req.user_id;
        m.description = req.description;
        m.tags = req.tags;
        TAMGA_RETURN_IF_ERROR(txn.registry().CreateRegisteredModel(m));
        events->push_back(ModelCreatedEvent(m, now));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetRegisteredModel(req.name));
        return Status::Ok();
      },
      Finish(reply, std::move(done)));
}

Result<RegisteredModel> RegistryService::GetRegisteredModel(const std::string& name) {
  TAMGA_RETURN_IF_ERROR(ValidateModelName(name));
  return store_->registry().GetRegisteredModel(name);
}

void RegistryService::RenameRegisteredModel(const std::string& name, std::string new_name,
                                            DoneWith<RegisteredModel> done) {
  Status valid = ValidateModelName(new_name);
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<std::optional<RegisteredModel>>();
  int64_t now = clock_->NowMillis();
  Write(
      [name, new_name = std::move(new_name), reply, now](WriteTxn& txn,
                                                         std::vector<RegistryEvent>* events) -> Status {
        if (name != new_name) {
          TAMGA_RETURN_IF_ERROR(txn.registry().RenameRegisteredModel(name, new_name, now));
          events->push_back(ModelRenamedEvent(name, new_name, now));
        }
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetRegisteredModel(new_name));
        return Status::Ok();
      },
      Finish(reply, std::move(done)));
}

void RegistryService::UpdateRegisteredModel(const std::string& name, std::optional<std::string> description,
                                            DoneWith<RegisteredModel> done) {
  Status valid = ValidateDescription(description);
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<std::optional<RegisteredModel>>();
  int64_t now = clock_->NowMillis();
  Write(
      [name, description = std::move(description), reply, now](WriteTxn& txn,
                                                               std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().SetRegisteredModelDescription(name, description, now));
        events->push_back(ModelUpdatedEvent(name, description, now));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetRegisteredModel(name));
        return Status::Ok();
      },
      Finish(reply, std::move(done)));
}

void RegistryService::DeleteRegisteredModel(const std::string& name, Done done) {
  int64_t now = clock_->NowMillis();
  Write(
      [name, now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_ASSIGN_OR_RETURN(auto model, txn.registry().reader().GetRegisteredModel(name));
        for (const auto& a : model.aliases) {
          events->push_back(AliasEvent(event_type::kAliasDeleted, name, a.alias, a.version, now));
        }
        TAMGA_RETURN_IF_ERROR(txn.registry().DeleteRegisteredModel(name));
        events->push_back(ModelDeletedEvent(name, now));
        return Status::Ok();
      },
      std::move(done));
}

Result<RegisteredModelSearchResult> RegistryService::SearchRegisteredModels(
    const RegistrySearchRequest& req) {
  RegistryQuery q;
  TAMGA_ASSIGN_OR_RETURN(q.max_results,
                         ParseMaxResults(req.max_results, RegistryLimits::kMaxModelSearchResults));
  TAMGA_ASSIGN_OR_RETURN(q.filter, ParseSearchFilter(req.filter, SearchEntity::kRegisteredModels));
  ApplyPromptRule(&q);
  q.scope = req.scope;
  TAMGA_ASSIGN_OR_RETURN(q.order, ParseOrderBy(req.order_by, SearchEntity::kRegisteredModels));
  if (!req.page_token.empty()) {
    TAMGA_ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  }
  TAMGA_ASSIGN_OR_RETURN(auto page, store_->registry().SearchRegisteredModels(q));
  RegisteredModelSearchResult out;
  out.models = std::move(page.models);
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

Result<std::vector<ModelVersion>> RegistryService::GetLatestVersions(const std::string& name,
                                                                     const std::vector<std::string>& stages) {
  std::vector<std::string> wanted;
  for (const auto& s : stages) {
    TAMGA_ASSIGN_OR_RETURN(std::string c, CanonicalStage(s));
    wanted.push_back(c);
  }
  TAMGA_ASSIGN_OR_RETURN(auto model, store_->registry().GetRegisteredModel(name));
  std::vector<ModelVersion> out;
  for (auto& v : model.latest_versions) {
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), v.current_stage) != wanted.end()) {
      out.push_back(std::move(v));
    }
  }
  return out;
}

void RegistryService::SetRegisteredModelTag(const std::string& name, KeyValue tag, Done done) {
  Status valid = ValidateRegistryTag(tag);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [name, tag = std::move(tag), now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().SetRegisteredModelTag(name, tag));
        events->push_back(ModelTagEvent(event_type::kModelTagSet, name, tag, now));
        return Status::Ok();
      },
      std::move(done));
}

void RegistryService::DeleteRegisteredModelTag(const std::string& name, std::string key, Done done) {
  int64_t now = clock_->NowMillis();
  Write(
      [name, key = std::move(key), now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().DeleteRegisteredModelTag(name, key));
        events->push_back(ModelTagEvent(event_type::kModelTagDeleted, name, {key, ""}, now));
        return Status::Ok();
      },
      std::move(done));
}

// An alias the model's kRequireReferenceTestTag names may only point at a version whose reference test
// passed.
static Status CheckReferenceTestPolicy(RegistryReader& reader, const std::string& name,
                                       const std::string& alias, int64_t version) {
  auto model = reader.GetRegisteredModel(name);
  if (!model.ok()) return Status::Ok();  // SetAlias reports the missing model
  std::string policy;
  for (const auto& t : model->tags) {
    if (t.key == kRequireReferenceTestTag) policy = t.value;
  }
  std::string lower;
  for (char c : policy) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  while (!lower.empty() && lower.front() == ' ') lower.erase(0, 1);
  if (lower.empty() || lower == "false" || lower == "0" || lower == "no") return Status::Ok();
  std::string alias_lower;
  for (char c : alias) alias_lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower != "true" && lower != "1" && lower != "yes" && lower != "*") {
    policy = lower;
    bool listed = false;
    size_t s = 0;
    for (;;) {
      size_t c = policy.find(',', s);
      std::string item = policy.substr(s, c == std::string::npos ? std::string::npos : c - s);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      listed = listed || item == alias_lower || item == "*";
      if (c == std::string::npos) break;
      s = c + 1;
    }
    if (!listed) return Status::Ok();
  }
  auto mv = reader.GetModelVersion(name, version);
  if (!mv.ok()) return Status::Ok();  // SetAlias reports the missing version
  std::string status = "none";
  for (const auto& t : mv->tags) {
    if (t.key == std::string(kReferenceTestTagPrefix) + "status") status = t.value;
  }
  if (status == "passed") return Status::Ok();
  return FailedPrecondition(
      "Registered model '" + name + "' requires a passing reference-score test before alias '" + alias +
      "' moves; version " + std::to_string(version) + "'s test: " + status +
      " (run `tamga models validate models:/" + name + "/" + std::to_string(version) + " ...`)");
}

void RegistryService::RestoreAlias(const std::string& name, std::string alias, const std::string& version,
                                   Done done) {
  SetAliasImpl(name, std::move(alias), version, /*check_policy=*/false, std::move(done));
}

void RegistryService::SetAlias(const std::string& name, std::string alias, const std::string& version,
                               Done done) {
  SetAliasImpl(name, std::move(alias), version, /*check_policy=*/true, std::move(done));
}

void RegistryService::SetAliasImpl(const std::string& name, std::string alias, const std::string& version,
                                   bool check_policy, Done done) {
  Status valid = ValidateAlias(alias);
  auto v = ParseModelVersion(version);
  if (valid.ok() && !v.ok()) valid = v.status();
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [name, alias = std::move(alias), v = *v, now, check_policy](
          WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        if (check_policy)
          TAMGA_RETURN_IF_ERROR(CheckReferenceTestPolicy(txn.registry().reader(), name, alias, v));
        TAMGA_RETURN_IF_ERROR(txn.registry().SetAlias(name, alias, v));
        TAMGA_RETURN_IF_ERROR(txn.registry().TouchRegisteredModel(name, now));
        events->push_back(AliasEvent(event_type::kAliasCreated, name, alias, v, now));
        return Status::Ok();
      },
      std::move(done));
}

void RegistryService::DeleteAlias(const std::string& name, std::string alias, Done done) {
  Status valid = ValidateAlias(alias);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [name, alias = std::move(alias), now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_ASSIGN_OR_RETURN(auto old, txn.registry().reader().GetAliasVersion(name, alias));
        if (!old) return Status::Ok();  // MLflow: deleting a missing alias is a no-op
        TAMGA_ASSIGN_OR_RETURN(bool existed, txn.registry().DeleteAlias(name, alias));
        if (existed) {
          TAMGA_RETURN_IF_ERROR(txn.registry().TouchRegisteredModel(name, now));
          events->push_back(AliasEvent(event_type::kAliasDeleted, name, alias, *old, now));
        }
        return Status::Ok();
      },
      std::move(done));
}

Result<ModelVersion> RegistryService::GetVersionByAlias(const std::string& name, const std::string& alias) {
  TAMGA_ASSIGN_OR_RETURN(auto v, store_->registry().GetAliasVersion(name, alias));
  if (!v) return InvalidArgument("Registered model alias " + alias + " not found.");
  return store_->registry().GetModelVersion(name, *v);
}

Result<ResolvedModel> RegistryService::Resolve(const std::string& uri) {
  TAMGA_ASSIGN_OR_RETURN(ModelUri parsed, ParseModelUri(uri));
  return ResolveModelUri(store_->registry(), parsed);
}

}  // namespace tamga
