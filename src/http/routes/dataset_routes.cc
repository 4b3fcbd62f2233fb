// Datasets (/api/2.0/tamga/datasets/...; docs/data.md): datasets, versions, tags, and the object transfers
// of `tamga data push|pull` — a batch missing-check, streamed pack uploads and downloads, single objects.
#include <algorithm>

#include "core/json_parse.h"
#include "data/dataset_ref.h"
#include "data/dataset_service.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

constexpr const char* kBase = "/api/2.0/tamga/datasets";

void WriteDataset(JsonWriter& w, const DatasetRecord& d) {
  w.BeginObject();
  w.Field("name", d.name);
  w.Field("description", d.description);
  w.Field("created_by", d.created_by);
  w.FieldInt("creation_timestamp", d.created_ms);
  w.FieldInt("last_updated_timestamp", d.updated_ms);
  w.FieldInt("latest_version", d.latest_version);
  w.EndObject();
}

void WriteVersion(JsonWriter& w, const std::string& name, const DatasetVersionRecord& v,
                  const std::vector<DatasetTagRecord>* tags) {
  w.BeginObject();
  w.Field("name", name);
  w.FieldInt("version", v.version);
  w.Field("uri", FormatDatasetRef(name, v.version));
  w.Field("manifest", v.manifest);
  w.FieldInt("file_count", v.file_count);
  w.FieldInt("total_size", v.total_size);
  w.Field("message", v.message);
  w.Key("metadata");
  w.Raw(v.metadata_json.empty() ? "{}" : v.metadata_json);
  w.Field("created_by", v.created_by);
  w.FieldInt("creation_timestamp", v.created_ms);
  if (tags) {
    w.Key("tags");
    w.BeginArray();
    for (const auto& t : *tags)
      if (t.version == v.version) w.String(t.tag);
    w.EndArray();
  }
  w.EndObject();
}

void WriteEntry(JsonWriter& w, const ManifestEntry& e) {
  w.BeginObject();
  w.Field("path", e.path);
  w.FieldInt("size", e.size);
  w.Field("digest", e.digest);
  w.EndObject();
}

std::string Who(const HttpRequest& req) { return req.principal ? req.principal->Name() : ""; }

Result<std::vector<std::string>> Digests(const RequestFields& f) {
  TAMGA_ASSIGN_OR_RETURN(auto list, f.StringList("digests"));
  return list;
}

class PackBody final : public BodySource {
 public:
  explicit PackBody(std::unique_ptr<ObjectPackSource> src) : src_(std::move(src)) {}
  std::optional<int64_t> size() const override { return src_->size(); }
  Result<size_t> Read(char* buf, size_t n) override { return src_->Read(buf, n); }
  bool ReadReady() const override { return src_->ReadReady(); }

 private:
  std::unique_ptr<ObjectPackSource> src_;
};

// A streamed pack upload: parsed and verified as it arrives; answered after the batch is durable. At most
// 10,000 objects per pack (the CLI sends up to 4,096), each object at most 1 TiB.
PackLimits Limits() {
  PackLimits l;
  l.max_objects = 10000;
  l.max_object_bytes = int64_t{1} << 40;
  return l;
}

// A streamed pack upload: parsed and verified as it arrives; answered after the batch is durable.
class PackUploadSink final : public UploadSink {
 public:
  explicit PackUploadSink(std::unique_ptr<ObjectUpload> upload)
      : upload_(std::move(upload)), parser_(upload_.get(), Limits()) {}
  Status Write(std::string_view chunk) override { return parser_.Feed(chunk); }
  bool WriteMayBlock(size_t) const override { return upload_->MayBlock(); }
  bool FinishMayBlock() const override { return true; }  // a file system sync or a database write
  void Finish(Responder respond) override {
    Status s = parser_.Finish();
    if (!s.ok()) return respond(ErrorResponse(s));
    auto summary = upload_->Finish();
    if (!summary.ok()) return respond(ErrorResponse(summary.status()));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.FieldInt("objects", summary->objects);
    w.FieldInt("written", summary->written);
    w.FieldInt("bytes", summary->bytes);
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  }

 private:
  std::unique_ptr<ObjectUpload> upload_;
  PackParser parser_;
};

void RegisterDatasetObjectRoutes(Router& router, const RouteContext& ctx) {
  DatasetService* data = ctx.datasets;
  const std::string base = kBase;

  router.Add(HttpMethod::kPost, base + "/objects/missing",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto digests, Digests(f));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto missing, data->Missing(d, digests));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("missing");
               w.BeginArray();
               for (const auto& g : missing) w.String(g);
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.AddUploadPrefix(HttpMethod::kPut, base + "/objects/upload",
                         [data](const HttpRequest& req) -> Result<std::unique_ptr<UploadSink>> {
                           if (!req.path_params.empty() && !req.path_params[0].empty())
                             return NotFound("No such endpoint");
                           TAMGA_ASSIGN_OR_RETURN(auto q, RequestFields::FromQueryString(req.query));
                           TAMGA_ASSIGN_OR_RETURN(std::string name, q.RequiredString("name"));
                           TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
                           return std::unique_ptr<UploadSink>(new PackUploadSink(data->StartUpload(d)));
                         });

  router.Add(HttpMethod::kPost, base + "/objects/fetch",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto digests, Digests(f));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto pack, data->Fetch(d, digests));
               HttpResponse r;
               r.content_type = "application/x-tamga-pack";
               r.stream = std::make_shared<PackBody>(std::move(pack));
               respond(std::move(r));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "/objects/get",
             [data, blobs = ctx.blobs](HttpRequest& req, Responder respond) {
               auto run = [&]() -> Result<std::string> {
                 TAMGA_ASSIGN_OR_RETURN(auto q, RequestFields::FromQueryString(req.query));
                 TAMGA_ASSIGN_OR_RETURN(std::string name, q.RequiredString("name"));
                 TAMGA_ASSIGN_OR_RETURN(std::string digest, q.RequiredString("digest"));
                 TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
                 return data->ObjectPathFor(d, digest);
               };
               auto path = run();
               if (!path.ok()) return respond(ErrorResponse(path.status()));
               HttpResponse r = ArtifactDownload(blobs, *path, req.Header("range"));
               respond(std::move(r));
             });
}

// Pages of a list ordered by a string key: the token is the last key of the previous page.
template <typename T, typename KeyFn>
void WritePage(JsonWriter& w, const std::vector<T>& page, int64_t max, KeyFn key) {
  if (static_cast<int64_t>(page.size()) >= max && !page.empty()) w.Field("next_page_token", key(page.back()));
}

Result<int64_t> MaxResults(const RequestFields& f, int64_t def, int64_t cap) {
  TAMGA_ASSIGN_OR_RETURN(auto m, f.OptInt("max_results"));
  int64_t v = m.value_or(def);
  if (v < 1 || v > cap) return InvalidArgument("max_results must be between 1 and " + std::to_string(cap));
  return v;
}

void RegisterDatasetVersionRoutes(Router& router, const RouteContext& ctx) {
  DatasetService* data = ctx.datasets;
  const std::string base = kBase;

  router.Add(HttpMethod::kPost, base + "/versions/create",
             RequestFieldsHandler(
                 [data](const HttpRequest& req, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
                   TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
                   DatasetService::NewVersion v;
                   TAMGA_ASSIGN_OR_RETURN(v.manifest, f.RequiredString("manifest"));
                   TAMGA_ASSIGN_OR_RETURN(auto message, f.OptString("message"));
                   v.message = message.value_or("");
                   if (f.Has("tags")) {
                     TAMGA_ASSIGN_OR_RETURN(v.tags, f.StringList("tags"));
                   }
                   const auto& raw = f.raw();
                   if (raw.contains("metadata") && !raw["metadata"].is_null()) {
                     if (!raw["metadata"].is_object())
                       return InvalidArgument("metadata must be a JSON object");
                     v.metadata_json = raw["metadata"].dump();
                   }
                   v.created_by = Who(req);
                   TAMGA_ASSIGN_OR_RETURN(auto result, data->CreateVersion(d, v));
                   TAMGA_ASSIGN_OR_RETURN(auto tags, data->Tags(d));
                   std::string body;
                   JsonWriter w(&body);
                   w.BeginObject();
                   w.Key("version");
                   WriteVersion(w, d.name, result.version, &tags);
                   w.FieldBool("created", result.created);
                   w.EndObject();
                   respond(HttpResponse::Json(std::move(body)));
                   return Status::Ok();
                 }));

  router.Add(HttpMethod::kGet, base + "/versions/get",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto ref, f.OptString("version"));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto v, data->Resolve(d, ref.value_or("")));
               TAMGA_ASSIGN_OR_RETURN(auto tags, data->Tags(d));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("version");
               WriteVersion(w, d.name, v, &tags);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "/versions/search",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(int64_t max, MaxResults(f, 100, 1000));
               TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
               int64_t before = 0;
               if (token && !token->empty()) {
                 auto n = VersionNumberOf(*token);
                 if (!n) return InvalidArgument("Invalid page_token");
                 before = *n;
               }
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto versions, data->Versions(d, max, before));
               TAMGA_ASSIGN_OR_RETURN(auto tags, data->Tags(d));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("versions");
               w.BeginArray();
               for (const auto& v : versions) WriteVersion(w, d.name, v, &tags);
               w.EndArray();
               WritePage(w, versions, max,
                         [](const DatasetVersionRecord& v) { return std::to_string(v.version); });
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  // A version's files, by path: the whole folder or below `prefix`, a page at a time.
  router.Add(HttpMethod::kGet, base + "/versions/files",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto ref, f.OptString("version"));
               TAMGA_ASSIGN_OR_RETURN(auto prefix, f.OptString("prefix"));
               TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
               TAMGA_ASSIGN_OR_RETURN(int64_t max, MaxResults(f, 1000, 10000));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto v, data->Resolve(d, ref.value_or("")));
               TAMGA_ASSIGN_OR_RETURN(Manifest m, data->ReadManifest(v.manifest));
               std::string p = prefix.value_or("");
               std::string after = token.value_or("");
               auto it =
                   std::lower_bound(m.files.begin(), m.files.end(), std::max(p, after),
                                    [](const ManifestEntry& e, const std::string& k) { return e.path < k; });
               std::vector<ManifestEntry> page;
               for (; it != m.files.end() && static_cast<int64_t>(page.size()) < max; ++it) {
                 if (it->path.compare(0, p.size(), p) != 0) break;
                 if (!after.empty() && it->path <= after) continue;
                 page.push_back(*it);
               }
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.FieldInt("version", v.version);
               w.Key("files");
               w.BeginArray();
               for (const auto& e : page) WriteEntry(w, e);
               w.EndArray();
               WritePage(w, page, max, [](const ManifestEntry& e) { return e.path; });
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  // What changed between two versions: counts, and up to max_results entries of each kind.
  router.Add(HttpMethod::kGet, base + "/versions/diff",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string from, f.RequiredString("from"));
               TAMGA_ASSIGN_OR_RETURN(auto to, f.OptString("to"));
               TAMGA_ASSIGN_OR_RETURN(int64_t max, MaxResults(f, 1000, 10000));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto a, data->Resolve(d, from));
               TAMGA_ASSIGN_OR_RETURN(auto b, data->Resolve(d, to.value_or("")));
               TAMGA_ASSIGN_OR_RETURN(Manifest ma, data->ReadManifest(a.manifest));
               TAMGA_ASSIGN_OR_RETURN(Manifest mb, data->ReadManifest(b.manifest));
               ManifestDiff diff = DiffManifests(ma, mb);
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.FieldInt("from_version", a.version);
               w.FieldInt("to_version", b.version);
               auto list = [&](const char* key, const std::vector<ManifestEntry>& entries) {
                 w.FieldInt((std::string(key) + "_count").c_str(), static_cast<int64_t>(entries.size()));
                 w.Key(key);
                 w.BeginArray();
                 for (size_t i = 0; i < entries.size() && static_cast<int64_t>(i) < max; ++i)
                   WriteEntry(w, entries[i]);
                 w.EndArray();
               };
               list("added", diff.added);
               list("removed", diff.removed);
               w.FieldInt("modified_count", static_cast<int64_t>(diff.modified.size()));
               w.Key("modified");
               w.BeginArray();
               for (size_t i = 0; i < diff.modified.size() && static_cast<int64_t>(i) < max; ++i) {
                 w.BeginObject();
                 w.Field("path", diff.modified[i].second.path);
                 w.FieldInt("from_size", diff.modified[i].first.size);
                 w.FieldInt("to_size", diff.modified[i].second.size);
                 w.Field("from_digest", diff.modified[i].first.digest);
                 w.Field("to_digest", diff.modified[i].second.digest);
                 w.EndObject();
               }
               w.EndArray();
               w.FieldInt("unchanged_count", static_cast<int64_t>(diff.unchanged));
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "/tags/set",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string tag, f.RequiredString("tag"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(int64_t previous, data->SetTag(d, tag, version));
               TAMGA_ASSIGN_OR_RETURN(auto v, data->Resolve(d, tag));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Field("tag", tag);
               w.FieldInt("version", v.version);
               w.FieldInt("previous_version", previous);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "/tags/delete",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string tag, f.RequiredString("tag"));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_RETURN_IF_ERROR(data->DeleteTag(d, tag));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
}

}  // namespace

void RegisterDatasetRoutes(Router& router, const RouteContext& ctx) {
  if (ctx.datasets == nullptr) return;
  DatasetService* data = ctx.datasets;
  const std::string base = kBase;

  router.Add(HttpMethod::kPost, base + "/create",
             RequestFieldsHandler(
                 [data, ctx](const HttpRequest& req, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
                   TAMGA_ASSIGN_OR_RETURN(auto description, f.OptString("description"));
                   TAMGA_ASSIGN_OR_RETURN(DatasetRecord d,
                                          data->Create(name, description.value_or(""), Who(req)));
                   // The creator of a dataset gets MANAGE on it (as for experiments and models).
                   GrantCreator(ctx, req, ObjectKind::kDataset, d.name);
                   std::string body;
                   JsonWriter w(&body);
                   w.BeginObject();
                   w.Key("dataset");
                   WriteDataset(w, d);
                   w.EndObject();
                   respond(HttpResponse::Json(std::move(body)));
                   return Status::Ok();
                 }));

  router.Add(HttpMethod::kGet, base + "/get",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, data->Get(name));
               TAMGA_ASSIGN_OR_RETURN(auto tags, data->Tags(d));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("dataset");
               WriteDataset(w, d);
               w.Key("tags");
               w.BeginArray();
               for (const auto& t : tags) {
                 w.BeginObject();
                 w.Field("tag", t.tag);
                 w.FieldInt("version", t.version);
                 w.FieldInt("last_updated_timestamp", t.updated_ms);
                 w.EndObject();
               }
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "/update",
             FieldsHandler([data](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string description, f.RequiredString("description"));
               TAMGA_RETURN_IF_ERROR(data->SetDescription(name, description));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));

  // Datasets by name (optionally below a name prefix); with auth on, only those the caller may read.
  router.Add(HttpMethod::kGet, base + "/search", [data, ctx](HttpRequest& req, Responder respond) {
    auto run = [&]() -> Result<std::string> {
      TAMGA_ASSIGN_OR_RETURN(auto f, RequestFields::FromQueryString(req.query));
      TAMGA_ASSIGN_OR_RETURN(int64_t max, MaxResults(f, 100, 1000));
      TAMGA_ASSIGN_OR_RETURN(auto prefix, f.OptString("prefix"));
      TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
      DatasetListQuery q;
      q.name_prefix = prefix.value_or("");
      q.after_name = token.value_or("");
      q.max_results = max;
      std::optional<AuthService::Visibility> visible;
      if (ctx.auth != nullptr && req.principal && !req.principal->is_admin)
        visible = ctx.auth->Readable(*req.principal, ObjectKind::kDataset);
      std::vector<DatasetRecord> page;
      // Skip what the caller may not read, page after page, until a page is full or the list ends.
      for (;;) {
        TAMGA_ASSIGN_OR_RETURN(auto batch, data->List(q));
        for (auto& d : batch) {
          if (!visible || visible->Allows(d.name)) page.push_back(std::move(d));
          if (static_cast<int64_t>(page.size()) == max) break;
        }
        if (static_cast<int64_t>(page.size()) == max || static_cast<int64_t>(batch.size()) < q.max_results)
          break;
        q.after_name = batch.back().name;
      }
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      w.Key("datasets");
      w.BeginArray();
      for (const auto& d : page) WriteDataset(w, d);
      w.EndArray();
      WritePage(w, page, max, [](const DatasetRecord& d) { return d.name; });
      w.EndObject();
      return body;
    };
    auto body = run();
    respond(body.ok() ? HttpResponse::Json(std::move(*body)) : ErrorResponse(body.status()));
  });

  RegisterDatasetObjectRoutes(router, ctx);
  RegisterDatasetVersionRoutes(router, ctx);
}

}  // namespace tamga
