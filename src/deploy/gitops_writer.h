#pragma once
// GitOpsWriter: writes rendered files to a folder that CI/CD or a GitOps controller (Argo CD, Flux)
// applies, optionally as a git repository with one commit per change.
//
// A deployment's folder is replaced as a whole: files are written atomically (temp + rename) and files
// the new render no longer has (an Ingress that was removed) are deleted. With git, the change is one
// commit whose message names the model, version and event; an unchanged render makes no commit.
// Git runs as a child process (`git` on PATH) with arguments, never through a shell.
// Thread-safe (one mutex: renders are rare and must not interleave in the index).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "deploy/manifest_renderer.h"

namespace tamga {

class GitOpsWriter {
 public:
  struct Options {
    std::string root;  // created if missing
    bool git = true;   // init a repository in root (if none) and commit each change
    std::string author_name = "Tamga";
    std::string author_email = "tamga@localhost";
  };
  static Result<std::unique_ptr<GitOpsWriter>> Create(const Options& options);

  struct WriteResult {
    bool changed = false;
    std::string commit;  // new commit hash ("" without git or when unchanged)
  };
  // Replaces the contents of `dir` (relative to root) with `files` (paths relative to root, under dir).
  Result<WriteResult> Write(const std::string& dir, const std::vector<RenderedFile>& files,
                            const std::string& commit_message);
  // Removes a deployment's folder (and commits the removal).
  Result<WriteResult> Remove(const std::string& dir, const std::string& commit_message);

  struct CommitInfo {
    std::string hash;
    std::string subject;
    int64_t time_s = 0;
  };
  // The commits that touched `dir`, newest first, at most `limit` (empty without git).
  Result<std::vector<CommitInfo>> Log(const std::string& dir, int limit);
  // The files under `dir` as they are now (at most 200 files; each cut at `max_bytes`).
  Result<std::vector<RenderedFile>> Read(const std::string& dir, size_t max_bytes);

  const std::string& root() const { return options_.root; }

 private:
  explicit GitOpsWriter(const Options& options) : options_(options) {}
  Result<WriteResult> Commit(const std::string& dir, const std::string& message);
  // Runs git with args in root; returns stdout. Internal with stderr on a non-zero exit.
  Result<std::string> Git(const std::vector<std::string>& args, int* exit_code = nullptr);

  const Options options_;
  std::mutex mu_;
};

}  // namespace tamga
