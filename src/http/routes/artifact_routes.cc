// Artifact proxy (/api/2.0/mlflow-artifacts/...) and the tracking API's artifacts/list.
// Paths are percent-decoded, then validated (no '..', no absolute paths) before reaching the BlobStore.
#include <algorithm>
#include <cstring>

#include "artifacts/artifact_path.h"
#include "core/json_writer.h"
#include "core/uri.h"
#include "core/utf8.h"
#include "http/byte_range.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

constexpr const char* kProxy = "/api/2.0/mlflow-artifacts/artifacts";
constexpr size_t kMaxUiUploadBytes = 10 * 1024 * 1024;

std::string GuessContentType(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".txt", "text/plain"},      {".log", "text/plain"},   {".json", "application/json"},
      {".yaml", "text/yaml"},      {".yml", "text/yaml"},    {".csv", "text/csv"},
      {".html", "text/html"},      {".png", "image/png"},    {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},     {".gif", "image/gif"},    {".svg", "image/svg+xml"},
      {".pdf", "application/pdf"}, {".md", "text/markdown"}, {".py", "text/x-python"}};
  size_t dot = path.rfind('.');
  if (dot != std::string::npos && path.find('/', dot) == std::string::npos) {
    std::string ext = path.substr(dot);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [e, type] : kTypes) {
      if (ext == e) return type;
    }
  }
  if (path.size() >= 7 && path.compare(path.size() - 7, 7, "MLmodel") == 0) return "text/plain";
  return "application/octet-stream";
}

Result<std::string> DecodedPath(const std::string& raw, bool allow_root) {
  auto decoded = PercentDecode(raw, false);
  if (!decoded) return InvalidArgument("Invalid path");
  if (!IsValidUtf8(*decoded)) return InvalidArgument("Invalid path: not valid UTF-8");
  return ValidateArtifactPath(*decoded, allow_root);
}

// A path from a query string, checked as MLflow's validate_path_is_safe does: also after decoding it
// again until it stops changing, so "%2e%2e/x" is as invalid as "../x".
Result<std::string> QueryPath(const std::string& raw, bool allow_root) {
  TAMGA_ASSIGN_OR_RETURN(std::string clean, ValidateArtifactPath(raw, allow_root));
  if (!ValidateArtifactPath(UnquoteFully(raw), true).ok()) return InvalidArgument("Invalid path");
  return clean;
}

// Registered model versions keep their own copy of the model files under _registry/ (the registry writes it
// when the version is created): through the proxy that tree is read-only, so a READY version cannot change.
// The datasets' object store (docs/data.md), the payload logs and the reference-test tables
// (docs/rollouts.md) share the artifact root but are reached only through their own APIs, whose checks are
// per dataset or deployment (and a forged test result must not be writable): the artifact API neither reads
// nor writes there.
bool IsDatasetPath(const std::string& path) {
  for (const char* owned : {"datasets", "payload-logs", "model-tests"}) {
    size_t n = std::strlen(owned);
    if (path.compare(0, n, owned) == 0 && (path.size() == n || path[n] == '/')) return true;
  }
  return false;
}
Status DatasetPathDenied() {
  return PermissionDenied(
      "This path is read and written only through its own API (/api/2.0/tamga/datasets, a deployment's "
      "payloads, reference-score tests)");
}

Result<std::string> WritablePath(const std::string& raw) {
  TAMGA_ASSIGN_OR_RETURN(std::string path, DecodedPath(raw, false));
  if (path == "_registry" || path.rfind("_registry/", 0) == 0) {
    return PermissionDenied("Registered model version files are immutable; register a new version instead");
  }
  if (IsDatasetPath(path)) return DatasetPathDenied();
  return path;
}

class BlobUploadSink final : public UploadSink {
 public:
  explicit BlobUploadSink(std::unique_ptr<BlobWriter> writer) : writer_(std::move(writer)) {}
  Status Write(std::string_view chunk) override { return writer_->Append(chunk); }
  bool WriteMayBlock(size_t n) const override { return writer_->AppendMayBlock(n); }
  bool FinishMayBlock() const override { return writer_->CommitMayBlock(); }
  void Finish(Responder respond) override {
    Status s = writer_->Commit();
    respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
  }

 private:
  std::unique_ptr<BlobWriter> writer_;
};

// Streams a blob, or `length` bytes of it from where the reader stands (a range).
class BlobBodySource final : public BodySource {
 public:
  BlobBodySource(std::unique_ptr<BlobReader> reader, int64_t length)
      : reader_(std::move(reader)), left_(length) {}
  std::optional<int64_t> size() const override { return left_; }
  bool ReadReady() const override { return reader_->ReadReady(); }
  Result<size_t> Read(char* buf, size_t n) override {
    if (left_ <= 0) return size_t{0};
    TAMGA_ASSIGN_OR_RETURN(size_t got, reader_->Read(buf, static_cast<size_t>(std::min<int64_t>(left_, n))));
    left_ -= static_cast<int64_t>(got);
    return got;
  }

 private:
  std::unique_ptr<BlobReader> reader_;
  int64_t left_;
};

// One of mpu/create|complete|abort. The object is <artifact path from the URL>/<base name of "path">, as in
// MLflow's S3 artifact repository.
HttpResponse MultipartCall(BlobStore* blobs, const std::string& op, HttpRequest& req) {
  auto run = [&]() -> Result<std::string> {
    DirectMultipart* mpu = blobs->direct_multipart();
    if (mpu == nullptr) {
      return Unimplemented(
          "Multipart upload is not supported by the local artifact store; use a single PUT.");
    }
    TAMGA_ASSIGN_OR_RETURN(std::string dir, WritablePath(req.path_params[0]));
    TAMGA_ASSIGN_OR_RETURN(RequestFields f, RequestFields::From(req));
    TAMGA_ASSIGN_OR_RETURN(std::string local, f.RequiredString("path"));
    std::string base =
        local.substr(local.find_last_of("/\\") == std::string::npos ? 0 : local.find_last_of("/\\") + 1);
    if (base.empty() || base == "." || base == "..")
      return InvalidArgument("'path' must name a file (its base name is the object's name)");
    TAMGA_ASSIGN_OR_RETURN(std::string path, WritablePath(dir + "/" + base));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    if (op == "create") {
      TAMGA_ASSIGN_OR_RETURN(auto parts, f.OptInt("num_parts"));
      TAMGA_ASSIGN_OR_RETURN(auto created,
                             mpu->CreateDirectUpload(
                                 path, static_cast<int>(std::clamp<int64_t>(parts.value_or(1), -1, 100000))));
      w.Field("upload_id", created.upload_id);
      w.Key("credentials");
      w.BeginArray();
      for (size_t i = 0; i < created.part_urls.size(); ++i) {
        w.BeginObject();
        w.Field("url", created.part_urls[i]);
        w.FieldInt("part_number", static_cast<int64_t>(i + 1));
        w.Key("headers");
        w.BeginObject();
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
    } else {
      TAMGA_ASSIGN_OR_RETURN(std::string upload_id, f.RequiredString("upload_id"));
      if (op == "abort") {
        TAMGA_RETURN_IF_ERROR(mpu->AbortDirectUpload(path, upload_id));
      } else {
        TAMGA_ASSIGN_OR_RETURN(auto parts, f.ObjectList("parts"));
        std::vector<std::pair<int, std::string>> etags;
        for (const auto& p : parts) {
          TAMGA_ASSIGN_OR_RETURN(int64_t n, p.RequiredInt("part_number"));
          TAMGA_ASSIGN_OR_RETURN(std::string etag, p.RequiredString("etag"));
          etags.emplace_back(static_cast<int>(std::clamp<int64_t>(n, -1, 100000)), std::move(etag));
        }
        TAMGA_RETURN_IF_ERROR(mpu->CompleteDirectUpload(path, upload_id, etags));
      }
    }
    w.EndObject();
    return body;
  };
  auto body = run();
  return body.ok() ? HttpResponse::Json(std::move(*body)) : ErrorResponse(body.status());
}

}  // namespace

HttpResponse ArtifactDownload(BlobStore* blobs, const std::string& path, const std::string& range) {
  auto reader = blobs->OpenReader(path);
  if (!reader.ok()) return ErrorResponse(reader.status());
  HttpResponse r;
  const int64_t size = (*reader)->size();
  int64_t length = size;
  r.headers.push_back({"Accept-Ranges", "bytes"});
  if (auto span = range.empty() ? std::nullopt : ParseByteRange(range, size)) {
    if (!span->satisfiable) {
      HttpResponse bad = HttpResponse::Text("Range not satisfiable", 416);
      bad.headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
      return bad;
    }
    if (Status s = (*reader)->SkipTo(span->first); !s.ok()) return ErrorResponse(s);
    length = span->last - span->first + 1;
    r.status = 206;
    r.headers.push_back({"Content-Range", "bytes " + std::to_string(span->first) + "-" +
                                              std::to_string(span->last) + "/" + std::to_string(size)});
  }
  r.content_type = GuessContentType(path);
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string safe;
  for (char c : name) safe.push_back(c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ? '_' : c);
  r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + safe + "\""});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.stream = std::make_shared<BlobBodySource>(std::move(*reader), length);
  return r;
}

Result<std::string> ArtifactListJson(BlobStore* blobs, const std::string& dir, const std::string& prefix,
                                     const std::string* root_uri) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (root_uri) w.Field("root_uri", *root_uri);
  auto entries = blobs->List(dir);
  if (!entries.ok() && entries.status().code() != StatusCode::kNotFound) return entries.status();
  if (entries.ok() && !entries->empty()) {
    w.Key("files");
    w.BeginArray();
    for (const auto& e : *entries) {
      // The trees only their own APIs reach are not listed either (the root listing names them otherwise).
      if (dir.empty() && IsDatasetPath(e.name)) continue;
      w.BeginObject();
      w.Field("path", prefix + e.name);
      w.FieldBool("is_dir", e.is_dir);
      if (!e.is_dir) w.FieldInt("file_size", e.size);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return body;
}

void RegisterArtifactRoutes(Router& router, const RouteContext& ctx) {
  BlobStore* blobs = ctx.blobs;
  TrackingService* tracking = ctx.tracking;
  const std::string prefix = std::string(kProxy) + "/";

  router.AddUploadPrefix(HttpMethod::kPut, prefix,
                         [blobs](const HttpRequest& req) -> Result<std::unique_ptr<UploadSink>> {
                           TAMGA_ASSIGN_OR_RETURN(std::string path, WritablePath(req.path_params[0]));
                           TAMGA_ASSIGN_OR_RETURN(auto writer, blobs->OpenWriter(path));
                           return std::unique_ptr<UploadSink>(new BlobUploadSink(std::move(writer)));
                         });

  router.AddPrefix(HttpMethod::kGet, prefix, [blobs](HttpRequest& req, Responder respond) {
    auto path = DecodedPath(req.path_params[0], false);
    if (!path.ok()) return respond(ErrorResponse(path.status()));
    if (IsDatasetPath(*path)) return respond(ErrorResponse(DatasetPathDenied()));
    respond(ArtifactDownload(blobs, *path, req.Header("range")));
  });

  router.AddPrefix(HttpMethod::kDelete, prefix, [blobs](HttpRequest& req, Responder respond) {
    auto path = WritablePath(req.path_params[0]);
    if (!path.ok()) return respond(ErrorResponse(path.status()));
    Status s = blobs->Delete(*path);
    respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
  });

  router.Add(HttpMethod::kGet, kProxy,
             FieldsHandler([blobs](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto raw, f.OptString("path"));
               TAMGA_ASSIGN_OR_RETURN(std::string dir, ValidateArtifactPath(raw.value_or(""), true));
               if (IsDatasetPath(dir)) return DatasetPathDenied();
               TAMGA_ASSIGN_OR_RETURN(std::string body, ArtifactListJson(blobs, dir, "", nullptr));
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  // MLflow's proxy multipart upload: on an object store the client PUTs each part to a presigned URL and the
  // server completes the upload; the local folder answers NOT_IMPLEMENTED, which makes the MLflow client fall
  // back to a single streamed PUT.
  for (const char* op : {"create", "complete", "abort"}) {
    std::string name = op;
    router.AddPrefix(
        HttpMethod::kPost, "/api/2.0/mlflow-artifacts/mpu/" + name + "/",
        [blobs, name](HttpRequest& req, Responder respond) { respond(MultipartCall(blobs, name, req)); });
  }

  router.Add(HttpMethod::kGet, std::string(kMlflowApi) + "/artifacts/list",
             FieldsHandler([blobs, tracking](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(auto raw, f.OptString("path"));
               TAMGA_ASSIGN_OR_RETURN(std::string rel, QueryPath(raw.value_or(""), true));
               TAMGA_ASSIGN_OR_RETURN(Run run, tracking->GetRun(run_id));
               const std::string& root = run.info.artifact_uri;
               auto base = ProxiedArtifactPath(root);
               if (!base) {
                 std::string body;
                 JsonWriter w(&body);
                 w.BeginObject();
                 w.Field("root_uri", root);
                 w.EndObject();
                 respond(HttpResponse::Json(std::move(body)));
                 return Status::Ok();
               }
               std::string dir = rel.empty() ? *base : *base + "/" + rel;
               TAMGA_ASSIGN_OR_RETURN(std::string body,
                                      ArtifactListJson(blobs, dir, rel.empty() ? "" : rel + "/", &root));
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  // MLflow UI's upload of one small file into a run's artifacts: query run_uuid and path, raw body.
  router.Add(HttpMethod::kPost, std::string(kMlflowApi) + "/upload-artifact",
             [blobs, tracking](HttpRequest& req, Responder respond) {
               auto answer = [&]() -> Status {
                 TAMGA_ASSIGN_OR_RETURN(RequestFields f, RequestFields::FromQueryString(req.query));
                 TAMGA_ASSIGN_OR_RETURN(auto run_id, f.OptString("run_uuid"));
                 if (!run_id || run_id->empty()) return InvalidArgument("Request must specify run_uuid.");
                 TAMGA_ASSIGN_OR_RETURN(auto raw, f.OptString("path"));
                 if (!raw || raw->empty()) return InvalidArgument("Request must specify path.");
                 TAMGA_ASSIGN_OR_RETURN(std::string rel, QueryPath(*raw, false));
                 if (req.body.size() > kMaxUiUploadBytes) {
                   return InvalidArgument("Artifact size is too large. Max size is 10MB.");
                 }
                 if (req.body.empty()) return InvalidArgument("Request must specify data.");
                 TAMGA_ASSIGN_OR_RETURN(Run run, tracking->GetRun(*run_id));
                 auto base = ProxiedArtifactPath(run.info.artifact_uri);
                 if (!base) return InvalidArgument("Run artifacts are not stored by this server");
                 TAMGA_ASSIGN_OR_RETURN(std::string path, WritablePath(*base + "/" + rel));
                 TAMGA_ASSIGN_OR_RETURN(auto writer, blobs->OpenWriter(path));
                 TAMGA_RETURN_IF_ERROR(writer->Append(req.body));
                 TAMGA_RETURN_IF_ERROR(writer->Commit());
                 return Status::Ok();
               };
               Status s = answer();
               respond(s.ok() ? HttpResponse::Json("") : ErrorResponse(s));
             });

  // UI download of a run artifact.
  router.Add(HttpMethod::kGet, "/get-artifact",
             RequestFieldsHandler(
                 [blobs, tracking](HttpRequest& req, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(std::string run_id, RunIdOf(f));
                   TAMGA_ASSIGN_OR_RETURN(std::string raw, f.RequiredString("path"));
                   TAMGA_ASSIGN_OR_RETURN(std::string rel, QueryPath(raw, false));
                   TAMGA_ASSIGN_OR_RETURN(Run run, tracking->GetRun(run_id));
                   auto base = ProxiedArtifactPath(run.info.artifact_uri);
                   if (!base) return NotFound("Run artifacts are not stored by this server");
                   respond(ArtifactDownload(blobs, *base + "/" + rel, req.Header("range")));
                   return Status::Ok();
                 }));

  // UI download of a file of a registered model version (from its storage location).
  RegistryService* registry = ctx.registry;
  if (registry != nullptr) {
    router.Add(HttpMethod::kGet, "/model-versions/get-artifact",
               FieldsHandler([blobs, registry](const RequestFields& f, Responder respond) -> Status {
                 TAMGA_ASSIGN_OR_RETURN(auto name, f.OptString("name"));
                 TAMGA_ASSIGN_OR_RETURN(auto version, f.OptString("version"));
                 TAMGA_ASSIGN_OR_RETURN(std::string raw, f.RequiredString("path"));
                 TAMGA_ASSIGN_OR_RETURN(std::string rel, QueryPath(raw, false));
                 TAMGA_ASSIGN_OR_RETURN(std::string location,
                                        registry->GetDownloadUri(name.value_or(""), version.value_or("")));
                 auto base = ProxiedArtifactPath(location);
                 if (!base) return NotFound("Model version files are not stored by this server");
                 respond(ArtifactDownload(blobs, base->empty() ? rel : *base + "/" + rel));
                 return Status::Ok();
               }));
  }
}

}  // namespace tamga
