#pragma once
// DirLock: one process at a time per directory. An exclusive flock(2) on <dir>/<name>, held for the object's
// life (released by the kernel if the process dies, so a kill -9 leaves no stale lock), with the holder's pid
// written into the file so the next one can say who holds it. The descriptor is close-on-exec: jobs and
// workers the server spawns do not inherit the lock. Not thread-safe (one owner).
#include <memory>
#include <string>

#include "core/result.h"

namespace tamga {

class DirLock {
 public:
  // FailedPrecondition naming the holder's pid when another process holds the lock; Internal on I/O errors.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir,
                                                  const std::string& name = "tamga.lock");
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tamga
