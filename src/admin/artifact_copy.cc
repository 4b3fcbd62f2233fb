#include "admin/artifact_copy.h"

#include <openssl/evp.h>

#include "artifacts/local/local_blob_store.h"
#include "artifacts/s3/s3_blob_store.h"
#include "core/hmac.h"
#include "core/store_uri.h"

namespace tamga {

namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void Update(std::string_view d) { EVP_DigestUpdate(ctx_.get(), d.data(), d.size()); }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Streams the blob through `fn` (chunks of 1 MiB); returns its SHA-256.
Result<std::string> ReadAll(BlobReader& r, const std::function<Status(std::string_view)>& fn) {
  Sha256 h;
  std::string buf(1 << 20, '\0');
  for (;;) {
    TAMGA_ASSIGN_OR_RETURN(size_t n, r.Read(buf.data(), buf.size()));
    if (n == 0) break;
    std::string_view chunk(buf.data(), n);
    h.Update(chunk);
    if (fn) TAMGA_RETURN_IF_ERROR(fn(chunk));
  }
  return h.Hex();
}

Status Walk(BlobStore& src, BlobStore& dst, const std::string& dir, ArtifactCopyReport* rep,
            const std::function<void(const std::string&)>& say) {
  auto entries = src.List(dir);
  if (!entries.ok())
    return entries.status().code() == StatusCode::kNotFound ? Status::Ok() : entries.status();
  for (const BlobEntry& e : *entries) {
    std::string path = dir.empty() ? e.name : dir + "/" + e.name;
    if (e.is_dir) {
      TAMGA_RETURN_IF_ERROR(Walk(src, dst, path, rep, say));
      continue;
    }
    auto there = dst.OpenReader(path);
    if (there.ok() && (*there)->size() == e.size) {
      ++rep->skipped;
      continue;
    }
    TAMGA_ASSIGN_OR_RETURN(auto reader, src.OpenReader(path));
    TAMGA_ASSIGN_OR_RETURN(auto writer, dst.OpenWriter(path));
    TAMGA_ASSIGN_OR_RETURN(std::string want,
                           ReadAll(*reader, [&](std::string_view c) { return writer->Append(c); }));
    TAMGA_RETURN_IF_ERROR(writer->Commit());
    TAMGA_ASSIGN_OR_RETURN(auto back, dst.OpenReader(path));
    TAMGA_ASSIGN_OR_RETURN(std::string got, ReadAll(*back, nullptr));
    if (got != want)
      return Internal("artifact " + path + " differs after copying (sha256 " + got + " != " + want + ")");
    ++rep->copied;
    rep->bytes += e.size;
    if (rep->copied % 1000 == 0 && say) say("artifacts: " + std::to_string(rep->copied) + " copied");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenBlobStore(const std::string& text, Clock* clock, Random* random) {
  TAMGA_ASSIGN_OR_RETURN(StoreUri uri, ParseArtifactsUri(text));
  if (uri.kind == StoreUri::Kind::kFile) {
    TAMGA_ASSIGN_OR_RETURN(auto local, LocalBlobStore::Create({uri.path}, random));
    return std::unique_ptr<BlobStore>(std::move(local));
  }
  TAMGA_ASSIGN_OR_RETURN(S3Config s3, S3ConfigFromEnv(uri, ProcessEnv()));
  TAMGA_ASSIGN_OR_RETURN(auto store, S3BlobStore::Create({}, s3, clock));
  return std::unique_ptr<BlobStore>(std::move(store));
}

Result<ArtifactCopyReport> CopyArtifacts(const std::string& from, const std::string& to, Clock* clock,
                                         Random* random, const std::function<void(const std::string&)>& say) {
  TAMGA_ASSIGN_OR_RETURN(auto src, OpenBlobStore(from, clock, random));
  TAMGA_ASSIGN_OR_RETURN(auto dst, OpenBlobStore(to, clock, random));
  ArtifactCopyReport rep;
  TAMGA_RETURN_IF_ERROR(Walk(*src, *dst, "", &rep, say));
  if (say) {
    say("artifacts: " + std::to_string(rep.copied) + " copied (" + std::to_string(rep.bytes) +
        " bytes, each read back and checked), " + std::to_string(rep.skipped) + " already there");
  }
  return rep;
}

}  // namespace tamga
