#pragma once
// Helpers shared by registry_service.cc and model_version_service.cc (not part of the public API).
#include <functional>
#include <memory>
#include <optional>

#include "core/result.h"
#include "storage/entities.h"
#include "storage/registry_store.h"

namespace tamga::registry_internal {

template <typename T>
using Reply = std::shared_ptr<std::optional<T>>;

// Completion that answers with the entity a write read back inside its transaction.
template <typename T>
std::function<void(Status)> Finish(Reply<T> reply, std::function<void(Result<T>)> done) {
  return [reply, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    if (!*reply) return done(Internal("registry write produced no result"));
    done(std::move(**reply));
  };
}

Status ValidateTags(const std::vector<KeyValue>& tags);
Result<int64_t> ParseMaxResults(int64_t max_results, int64_t limit);
// MLflow 3.x prompts: a search leaves out models/versions tagged mlflow.prompt.is_prompt = 'true' unless its
// filter asks for prompts (tag = 'true' or != 'false'); a filter on that tag otherwise only says "not a
// prompt" (3.x clients send tags.`mlflow.prompt.is_prompt` != 'true' with every search) and is dropped.
void ApplyPromptRule(RegistryQuery* q);

}  // namespace tamga::registry_internal
