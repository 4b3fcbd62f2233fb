#pragma once
// Several replicas on one PostgreSQL (docs/scale-out.md): what they share beyond the tables.
//
// PgListener: a thread with its own connection that LISTENs on channels and hands every notification to a
// callback. The stores send them inside the committing transaction (pg_notify), so a notification means the
// change is visible. After every (re)connect the callback gets ("", "") first: whatever was sent while the
// listener was away must be re-read. Reconnects with backoff while the database is unreachable.
//
// PgNotifier: below.
//
// PgLeaderLock: one replica at a time holds a session-level advisory lock on its own connection and is the
// leader (the job scheduler runs there). The others retry every poll period; a leader whose connection dies
// calls on_lost (the session, hence the lock, is gone: another replica may lead already).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/store_uri.h"
#include "storage/sql/notify_channels.h"
#include "storage/sql/sql_db.h"

namespace tamga {

class PgDb;

class PgListener {
 public:
  using Handler = std::function<void(const std::string& channel, const std::string& payload)>;
  static Result<std::unique_ptr<PgListener>> Start(const StoreUri& uri, std::vector<std::string> channels,
                                                   Handler handler);
  ~PgListener();  // stops the thread

 private:
  PgListener(StoreUri uri, std::vector<std::string> channels, Handler handler);
  void Loop();
  StoreUri uri_;
  std::vector<std::string> channels_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// PgNotifier: sends notifications for changes this replica committed, from its own connection and thread:
// Post() only queues (never blocks a commit's completion); repeats of one (channel, payload) coalesce until
// the next send, so a run logging thousands of metrics a second costs one notification per flush.
class PgNotifier {
 public:
  static Result<std::unique_ptr<PgNotifier>> Start(const StoreUri& uri);
  ~PgNotifier();  // sends what is queued, then stops
  void Post(const std::string& channel, const std::string& payload);

 private:
  explicit PgNotifier(StoreUri uri) : uri_(std::move(uri)) {}
  void Loop();
  StoreUri uri_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::pair<std::string, std::string>> queued_;  // guarded by mu_
  bool stopping_ = false;                                 // guarded by mu_
  std::thread thread_;
};

class PgLeaderLock {
 public:
  struct Options {
    int64_t key = 7347303;
    int64_t poll_ms = 2000;     // how often a replica that does not lead tries for the lock
    int64_t liveness_ms = 500;  // how often the leader checks that its session (hence the lock) lives
    // A new leader waits this long before acting, so a leader whose session was ended from outside has
    // noticed (within liveness_ms) and stopped first: two schedulers never act at once.
    int64_t takeover_delay_ms = 1500;
    std::string role = "jobs";  // the replica_leader row written on taking the lock
    std::string url;            // where the other replicas reach this one
    std::string replica_id;
  };
  // on_acquired runs on the lock's thread when this replica becomes leader; on_lost when it stops being one.
  static Result<std::unique_ptr<PgLeaderLock>> Start(const StoreUri& uri, Options options,
                                                     std::function<void()> on_acquired,
                                                     std::function<void()> on_lost);
  ~PgLeaderLock();  // stops trying; releases the lock (the connection closes)
  bool is_leader() const { return leader_.load(); }
  // The URL the current holder of `role` wrote ("" when none ever did); may name a replica that just died.
  static Result<std::string> LeaderUrl(SqlDb& db, const std::string& role);

 private:
  PgLeaderLock(StoreUri uri, Options options, std::function<void()> on_acquired,
               std::function<void()> on_lost);
  void Loop();
  void Attempt();
  StoreUri uri_;
  Options options_;
  std::unique_ptr<PgDb> db_;  // the session holding the lock (used by the lock's thread only)
  std::function<void()> on_acquired_, on_lost_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tamga
