#pragma once
// Streams a get-history response ({"metrics": [...], "next_page_token": ...}) in pieces, so a
// million-point history is never materialised as one ~85 MB string: points are serialised into a small
// buffer as the connection drains it (chunked transfer encoding).
#include <memory>
#include <string>
#include <vector>

#include "http/http_types.h"
#include "storage/metadata_store.h"

namespace tamga {

std::shared_ptr<BodySource> MetricHistoryBody(std::string key, std::vector<HistoryPoint> points,
                                              std::string next_page_token);

}  // namespace tamga
