#include "data/dataset_service.h"

#include <algorithm>
#include <unordered_map>

#include "core/json_parse.h"
#include "data/dataset_ref.h"
#include "data/digest.h"

namespace tamga {

std::string DatasetService::ObjectPath(const std::string& digest) {
  return "datasets/objects/" + digest.substr(0, 2) + "/" + digest.substr(2);
}

Result<DatasetRecord> DatasetService::Create(const std::string& name, const std::string& description,
                                             const std::string& created_by) {
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(name));
  if (description.size() > 64 * 1024) return InvalidArgument("description longer than 65536 bytes");
  DatasetRecord d;
  d.name = name;
  d.description = description;
  d.created_by = created_by;
  d.created_ms = clock_->NowMillis();
  return store_->CreateDataset(d);
}

Result<DatasetRecord> DatasetService::Get(const std::string& name) {
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(name));
  return store_->GetDataset(name);
}

Result<std::vector<DatasetRecord>> DatasetService::List(const DatasetListQuery& q) {
  DatasetListQuery query = q;
  query.max_results = std::clamp<int64_t>(q.max_results, 1, 1000);
  return store_->ListDatasets(query);
}

Status DatasetService::SetDescription(const std::string& name, const std::string& description) {
  if (description.size() > 64 * 1024) return InvalidArgument("description longer than 65536 bytes");
  TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, Get(name));
  return store_->UpdateDescription(d.id, description, clock_->NowMillis());
}

Result<std::vector<DatasetObject>> DatasetService::Held(const DatasetRecord& d,
                                                        const std::vector<std::string>& digests) {
  if (digests.size() > options_.max_digests_per_call)
    return InvalidArgument("At most " + std::to_string(options_.max_digests_per_call) +
                           " digests per call; split the list");
  for (const auto& g : digests) TAMGA_RETURN_IF_ERROR(CheckDigest(g));
  return store_->FindObjects(d.id, digests);
}

Result<std::vector<std::string>> DatasetService::Missing(const DatasetRecord& d,
                                                         const std::vector<std::string>& digests) {
  TAMGA_ASSIGN_OR_RETURN(auto held, Held(d, digests));
  std::unordered_map<std::string, int64_t> have;
  for (auto& o : held) have.emplace(std::move(o.digest), o.size);
  std::vector<std::string> out;
  for (const auto& g : digests) {
    if (have.count(g) == 0) out.push_back(g);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::string> DatasetService::ObjectPathFor(const DatasetRecord& d, const std::string& digest) {
  TAMGA_ASSIGN_OR_RETURN(auto held, Held(d, {digest}));
  if (held.empty()) return NotFound("Dataset '" + d.name + "' has no object " + digest);
  return ObjectPath(digest);
}

Result<Manifest> DatasetService::ReadManifest(const std::string& digest) {
  TAMGA_RETURN_IF_ERROR(CheckDigest(digest, "manifest digest"));
  TAMGA_ASSIGN_OR_RETURN(auto reader, blobs_->OpenReader(ObjectPath(digest)));
  if (reader->size() > options_.max_manifest_bytes) return InvalidArgument("Manifest larger than the limit");
  std::string text;
  text.reserve(static_cast<size_t>(reader->size()));
  char buf[1 << 16];
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(size_t got, reader->Read(buf, sizeof buf));
    if (got == 0) break;
    text.append(buf, got);
    if (static_cast<int64_t>(text.size()) > options_.max_manifest_bytes)
      return InvalidArgument("Manifest larger than the limit");
  }
  Sha256Hasher h;
  h.Update(text);
  if (h.FinishHex() != digest)
    return Internal("Stored object " + digest + " does not match its digest (the store was altered)");
  ManifestLimits limits;
  limits.max_bytes = static_cast<size_t>(options_.max_manifest_bytes);
  return DecodeManifest(text, limits);
}

Result<DatasetService::VersionResult> DatasetService::CreateVersion(const DatasetRecord& d,
                                                                    const NewVersion& v) {
  if (v.tags.size() > 32) return InvalidArgument("At most 32 tags per version");
  for (const auto& t : v.tags) {
    TAMGA_RETURN_IF_ERROR(ValidateTagName(t));
    if (t == "latest") return InvalidArgument("The tag 'latest' moves with each new version by itself");
  }
  if (v.message.size() > 64 * 1024) return InvalidArgument("message longer than 65536 bytes");
  std::string metadata = v.metadata_json.empty() ? "{}" : v.metadata_json;
  if (metadata.size() > options_.max_metadata_bytes) return InvalidArgument("metadata larger than 1 MiB");
  TAMGA_ASSIGN_OR_RETURN(auto parsed, ParseJson(metadata));
  if (!parsed.is_object()) return InvalidArgument("metadata must be a JSON object");
  TAMGA_RETURN_IF_ERROR(CheckDigest(v.manifest, "manifest digest"));
  auto manifest_held = Held(d, {v.manifest});
  if (!manifest_held.ok()) return manifest_held.status();
  if (manifest_held->empty())
    return FailedPrecondition("Dataset '" + d.name + "' has no object " + v.manifest +
                              " (upload the manifest before creating the version)");
  TAMGA_ASSIGN_OR_RETURN(Manifest m, ReadManifest(v.manifest));

  // Every object the manifest names, held by this dataset with the size the manifest states.
  std::unordered_map<std::string, int64_t> sizes;
  for (const auto& f : m.files) sizes.emplace(f.digest, f.size);
  std::unordered_map<std::string, int64_t> held;
  std::vector<std::string> batch;
  auto flush = [&]() -> Status {
    TAMGA_ASSIGN_OR_RETURN(auto found, store_->FindObjects(d.id, batch));
    for (auto& o : found) held.emplace(std::move(o.digest), o.size);
    batch.clear();
    return Status::Ok();
  };
  for (const auto& [g, _] : sizes) {
    batch.push_back(g);
    if (batch.size() == 4096) TAMGA_RETURN_IF_ERROR(flush());
  }
  TAMGA_RETURN_IF_ERROR(flush());
  int64_t missing = 0;
  std::string first_missing;
  for (const auto& f : m.files) {
    auto it = held.find(f.digest);
    if (it == held.end()) {
      if (missing++ == 0) first_missing = f.path;
      continue;
    }
    if (it->second != f.size)
      return InvalidArgument("The manifest says '" + f.path + "' has " + std::to_string(f.size) +
                             " bytes, but its object " + f.digest + " has " + std::to_string(it->second));
  }
  if (missing > 0)
    return FailedPrecondition(std::to_string(missing) +
                              " object(s) of this version are not uploaded yet (first: '" + first_missing +
                              "'); push them, then create the version");

  auto latest = store_->ListVersions(d.id, 1, 0);
  if (!latest.ok()) return latest.status();
  VersionResult out;
  if (!latest->empty() && latest->front().manifest == v.manifest) {
    out.version = latest->front();
    for (const auto& t : v.tags)
      TAMGA_RETURN_IF_ERROR(store_->SetTag(d.id, t, out.version.version, clock_->NowMillis()).status());
    return out;
  }
  DatasetVersionRecord rec;
  rec.dataset_id = d.id;
  rec.manifest = v.manifest;
  rec.file_count = static_cast<int64_t>(m.files.size());
  rec.total_size = m.TotalSize();
  rec.message = v.message;
  rec.metadata_json = parsed.dump();
  rec.created_by = v.created_by;
  rec.created_ms = clock_->NowMillis();
  TAMGA_ASSIGN_OR_RETURN(out.version, store_->AddVersion(rec, v.tags));
  out.created = true;
  return out;
}

Result<DatasetVersionRecord> DatasetService::Resolve(const DatasetRecord& d, const std::string& ref) {
  if (ref.empty() || ref == "latest") {
    if (d.latest_version == 0 && ref.empty()) return NotFound("Dataset '" + d.name + "' has no versions yet");
    if (ref.empty()) return store_->GetVersion(d.id, d.latest_version);
  }
  if (auto n = VersionNumberOf(ref)) {
    auto v = store_->GetVersion(d.id, *n);
    if (!v.ok() && v.status().code() == StatusCode::kNotFound)
      return NotFound("Dataset '" + d.name + "' has no version " + std::to_string(*n));
    return v;
  }
  TAMGA_RETURN_IF_ERROR(ValidateTagName(ref));
  auto version = store_->ResolveTag(d.id, ref);
  if (!version.ok()) {
    if (version.status().code() == StatusCode::kNotFound)
      return NotFound("Dataset '" + d.name + "' has no tag '" + ref + "'");
    return version.status();
  }
  return store_->GetVersion(d.id, *version);
}

Result<std::vector<DatasetVersionRecord>> DatasetService::Versions(const DatasetRecord& d,
                                                                   int64_t max_results, int64_t before) {
  return store_->ListVersions(d.id, std::clamp<int64_t>(max_results, 1, 1000), before);
}

namespace {
Status NotLatest(const std::string& tag) {
  if (tag == "latest")
    return InvalidArgument(
        "The tag 'latest' moves with each new version by itself; it cannot be set or deleted");
  return Status::Ok();
}
}  // namespace

Result<int64_t> DatasetService::SetTag(const DatasetRecord& d, const std::string& tag,
                                       const std::string& ref) {
  TAMGA_RETURN_IF_ERROR(ValidateTagName(tag));
  TAMGA_RETURN_IF_ERROR(NotLatest(tag));
  TAMGA_ASSIGN_OR_RETURN(DatasetVersionRecord v, Resolve(d, ref));
  return store_->SetTag(d.id, tag, v.version, clock_->NowMillis());
}

Status DatasetService::DeleteTag(const DatasetRecord& d, const std::string& tag) {
  TAMGA_RETURN_IF_ERROR(ValidateTagName(tag));
  TAMGA_RETURN_IF_ERROR(NotLatest(tag));
  Status s = store_->DeleteTag(d.id, tag);
  if (s.code() == StatusCode::kNotFound) return NotFound("Dataset '" + d.name + "' has no tag '" + tag + "'");
  return s;
}

std::optional<DatasetRef> DatasetService::TamgaUriIn(std::string_view source) {
  constexpr std::string_view kScheme = "tamga-data://";
  size_t at = source.find(kScheme);
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + kScheme.size(), end = start;
  while (end < source.size() && end - start < 200) {
    char c = source[end];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@')) break;
    ++end;
  }
  auto ref = ParseDatasetRef(source.substr(start, end - start));
  if (!ref.ok()) return std::nullopt;
  return *ref;
}

std::string DatasetService::TamgaUri(const std::string& name, int64_t version) {
  return "tamga-data://" + FormatDatasetRef(name, version);
}

Result<int> DatasetService::RecordInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs,
                                         const std::function<bool(const std::string&)>& may_read) {
  int recorded = 0;
  for (const auto& in : inputs) {
    auto ref = TamgaUriIn(in.dataset.source);
    if (!ref || (may_read && !may_read(ref->name))) continue;
    auto d = store_->GetDataset(ref->name);
    if (!d.ok()) continue;
    auto v = Resolve(*d, ref->ref);
    if (!v.ok()) continue;
    std::string context;
    for (const auto& t : in.tags)
      if (t.key == "mlflow.data.context") context = t.value;
    TAMGA_RETURN_IF_ERROR(store_->RecordUse(d->id, v->version, run_id, context, clock_->NowMillis()));
    ++recorded;
  }
  return recorded;
}

Result<std::vector<DatasetUse>> DatasetService::UsesOf(const DatasetRecord& d, int64_t version,
                                                       int64_t max_results) {
  return store_->UsesOfVersion(d.id, version, std::clamp<int64_t>(max_results, 1, 10000));
}

Result<std::vector<DatasetUse>> DatasetService::UsesByRun(const std::string& run_id) {
  return store_->UsesByRun(run_id);
}

Result<std::vector<DatasetTagRecord>> DatasetService::Tags(const DatasetRecord& d) {
  return store_->ListTags(d.id);
}

}  // namespace tamga
