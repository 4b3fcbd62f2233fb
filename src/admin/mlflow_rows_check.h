#pragma once
// Before `tamga admin import-mlflow` writes anything: every row of MLflow's database it would import is held
// to the rules Tamga's API enforces (names, keys, ids, lengths, no NUL bytes, artifact paths that stay
// inside the artifact destination). A database MLflow's own server wrote passes; rows written around it
// (by hand, by a broken tool) are listed, the first 20 with what is wrong, and nothing is imported.
#include <string>

#include "core/status.h"
#include "storage/sql/sql_db.h"

namespace tamga {

// `artifacts_root`: MLflow's artifact root as given to the import ("" = none).
Status CheckMlflowRows(SqlDb& mlflow, const std::string& artifacts_root);

// The Tamga store may hold only what an earlier, interrupted import of this database wrote (and its own
// Default experiment): anything else would be merged with MLflow's history. FailedPrecondition naming it.
Status CheckImportDestination(SqlDb& mlflow, SqlDb& tamga);

}  // namespace tamga
