#include "auth/audit_log.h"

#include <chrono>

#include "core/log.h"

namespace tamga {

AuditLog::AuditLog(const Options& options, AuthStore* store, Clock* clock)
    : options_(options), store_(store), clock_(clock) {
  thread_ = std::thread([this] { Loop(); });
}

AuditLog::~AuditLog() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  (void)FlushOnce();
}

void AuditLog::Append(AuditRecord r) {
  if (r.time_ms == 0) r.time_ms = clock_->NowMillis();
  TAMGA_LOG(kInfo, "audit",
            {{"principal", r.principal},
             {"method", r.method},
             {"route", r.route},
             {"object", r.object},
             {"status", std::to_string(r.status)},
             {"outcome", r.outcome},
             {"remote_addr", r.remote_addr}});
  bool wake = false;
  {
    MutexLock l(&mu_);
    if (pending_.size() >= options_.max_pending) {
      ++dropped_;
      return;
    }
    pending_.push_back(std::move(r));
    wake = pending_.size() >= options_.batch;
  }
  if (wake) cv_.notify_all();
}

Status AuditLog::FlushOnce() {
  MutexLock w(&write_mu_);
  std::vector<AuditRecord> batch;
  {
    MutexLock l(&mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::Ok();
  Status s = store_->AppendAudit(batch);
  if (!s.ok()) {
    TAMGA_LOG(kError, "audit rows not written",
              {{"rows", std::to_string(batch.size())}, {"error", s.ToString()}});
    MutexLock l(&mu_);
    if (pending_.size() + batch.size() <= options_.max_pending) {  // retried with the next batch
      pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()),
                      std::make_move_iterator(batch.end()));
    } else {
      dropped_ += static_cast<int64_t>(batch.size());
    }
  }
  return s;
}

void AuditLog::Loop() {
  for (;;) {
    {
      UniqueLock l(&mu_);
      cv_.wait_for(l.native(), std::chrono::milliseconds(options_.flush_interval_ms), [this] {
        mu_.AssertHeld();
        return stop_ || pending_.size() >= options_.batch;
      });
      if (stop_) return;
    }
    (void)FlushOnce();
  }
}

Result<std::vector<AuditRecord>> AuditLog::Read(const AuditQuery& q) {
  TAMGA_RETURN_IF_ERROR(FlushOnce());
  return store_->ListAudit(q);
}

int64_t AuditLog::dropped() const {
  MutexLock l(&mu_);
  return dropped_;
}

}  // namespace tamga
