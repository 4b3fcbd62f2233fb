#pragma once
// The stores on PostgreSQL (--backend-store-uri postgresql://...; docs/scale-out.md): the metadata store (one
// writer connection running the group commit, a pool of readers), the identity store and the job store,
// each on its own connection to the same database. Migrations run under an advisory lock, so replicas
// starting together apply each step once.
#include <memory>

#include "core/store_uri.h"
#include "storage/auth_store.h"
#include "storage/dataset_store.h"
#include "storage/job_store.h"
#include "storage/sql/sql_metadata_store.h"
#include "storage/trigger_store.h"

namespace tamga {

Result<std::unique_ptr<SqlMetadataStore>> OpenPgMetadataStore(const StoreUri& uri, int max_idle_readers = 8);
Result<std::unique_ptr<AuthStore>> OpenPgAuthStore(const StoreUri& uri);
Result<std::unique_ptr<JobStore>> OpenPgJobStore(const StoreUri& uri);
Result<std::unique_ptr<DatasetStore>> OpenPgDatasetStore(const StoreUri& uri);
Result<std::unique_ptr<TriggerStore>> OpenPgTriggerStore(const StoreUri& uri);

}  // namespace tamga
