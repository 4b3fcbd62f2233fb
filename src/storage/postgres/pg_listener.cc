#include "storage/postgres/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "storage/postgres/pg_db.h"

namespace tamga {
namespace {

constexpr int kPollMs = 250;  // how quickly a stop is noticed

void SleepUnless(const std::atomic<bool>& stop, int64_t ms) {
  for (int64_t left = ms; left > 0 && !stop.load(); left -= kPollMs)
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, kPollMs)));
}

// Waits up to kPollMs for input on the connection; false when the connection is broken.
bool WaitReadable(PGconn* conn) {
  int fd = PQsocket(conn);
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  int n = poll(&p, 1, kPollMs);
  if (n < 0) return errno == EINTR;
  if (n > 0 && PQconsumeInput(conn) == 0) return false;
  return PQstatus(conn) == CONNECTION_OK;
}

}  // namespace

Result<std::unique_ptr<PgListener>> PgListener::Start(const StoreUri& uri, std::vector<std::string> channels,
                                                      Handler handler) {
  // Channel names are ours (constants), never user input: checked anyway before they meet SQL text.
  for (const auto& c : channels) {
    if (c.empty() || !std::all_of(c.begin(), c.end(), [](char ch) { return ch == '_' || std::isalnum(ch); }))
      return InvalidArgument("bad NOTIFY channel name");
  }
  std::unique_ptr<PgListener> l(new PgListener(uri, std::move(channels), std::move(handler)));
  l->thread_ = std::thread([p = l.get()] { p->Loop(); });
  return l;
}

PgListener::PgListener(StoreUri uri, std::vector<std::string> channels, Handler handler)
    : uri_(std::move(uri)), channels_(std::move(channels)), handler_(std::move(handler)) {}

PgListener::~PgListener() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgListener::Loop() {
  int64_t backoff_ms = 200;
  while (!stopping_) {
    auto db = PgDb::Open(uri_);
    Status s = db.ok() ? Status::Ok() : db.status();
    for (size_t i = 0; s.ok() && i < channels_.size(); ++i)
      s = (*db)->Exec(("LISTEN " + channels_[i]).c_str());
    if (!s.ok()) {
      TAMGA_LOG(kWarn, "PostgreSQL listener: cannot listen; retrying", {{"error", s.ToString()}});
      SleepUnless(stopping_, backoff_ms);
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 10000);
      continue;
    }
    backoff_ms = 200;
    handler_("", "");  // (re)connected: re-read what may have been missed
    PGconn* conn = (*db)->raw();
    while (!stopping_) {
      if (!WaitReadable(conn)) {
        TAMGA_LOG(kWarn, "PostgreSQL listener: connection lost; reconnecting", {});
        break;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        std::string channel = n->relname ? n->relname : "";
        std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        handler_(channel, payload);
      }
    }
  }
}

Result<std::unique_ptr<PgNotifier>> PgNotifier::Start(const StoreUri& uri) {
  std::unique_ptr<PgNotifier> n(new PgNotifier(uri));
  n->thread_ = std::thread([p = n.get()] { p->Loop(); });
  return n;
}

PgNotifier::~PgNotifier() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgNotifier::Post(const std::string& channel, const std::string& payload) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queued_.size() >= 100000) return;  // the database is away: waiters fall back to their timeouts
    queued_.emplace(channel, payload);
  }
  cv_.notify_one();
}

void PgNotifier::Loop() {
  std::unique_ptr<PgDb> db;
  for (;;) {
    std::set<std::pair<std::string, std::string>> batch;
    bool stop;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queued_.empty(); });
      batch.swap(queued_);
      stop = stopping_;
    }
    while (!batch.empty()) {
      if (!db) {
        auto opened = PgDb::Open(uri_);
        if (!opened.ok()) {
          TAMGA_LOG(kWarn, "PostgreSQL notifier: cannot connect; dropping notifications",
                    {{"error", opened.status().ToString()}});
          batch.clear();
          if (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(500));
          break;
        }
        db = std::move(*opened);
      }
      // One statement for up to 500 notifications; channel and payload are bound, never spliced.
      auto stmt = db->Prepare("SELECT pg_notify(c, p) FROM unnest(?1::text[], ?2::text[]) AS t(c, p)");
      if (!stmt.ok()) {
        db.reset();
        continue;
      }
      std::string cs = "{", ps = "{";
      auto quote = [](std::string* out, const std::string& v) {
        *out += '"';
        for (char ch : v) {
          if (ch == '"' || ch == '\\') *out += '\\';
          *out += ch;
        }
        *out += '"';
      };
      int n = 0;
      while (!batch.empty() && n < 500) {
        auto it = batch.begin();
        if (n++) {
          cs += ',';
          ps += ',';
        }
        quote(&cs, it->first);
        quote(&ps, it->second);
        batch.erase(it);
      }
      cs += '}';
      ps += '}';
      Status s = (*stmt)->Bind(1, cs).Bind(2, ps).Run();
      if (!s.ok()) {
        TAMGA_LOG(kWarn, "PostgreSQL notifier: send failed", {{"error", s.ToString()}});
        db.reset();
      }
    }
    if (stop) return;
    // Coalesce: a burst of commits within this pause becomes one send.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<std::string> PgLeaderLock::LeaderUrl(SqlDb& db, const std::string& role) {
  TAMGA_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT url FROM replica_leader WHERE role = ?1"));
  s->Bind(1, role);
  TAMGA_ASSIGN_OR_RETURN(bool row, s->Step());
  std::string url = row ? s->Text(0) : "";
  if (row) TAMGA_RETURN_IF_ERROR(s->Step().status());
  return url;
}

Result<std::unique_ptr<PgLeaderLock>> PgLeaderLock::Start(const StoreUri& uri, Options options,
                                                          std::function<void()> on_acquired,
                                                          std::function<void()> on_lost) {
  std::unique_ptr<PgLeaderLock> l(new PgLeaderLock(uri, options, std::move(on_acquired), std::move(on_lost)));
  l->Attempt();  // the first try before returning: a lone server leads as soon as it serves
  l->thread_ = std::thread([p = l.get()] { p->Loop(); });
  return l;
}

PgLeaderLock::PgLeaderLock(StoreUri uri, Options options, std::function<void()> on_acquired,
                           std::function<void()> on_lost)
    : uri_(std::move(uri)),
      options_(options),
      on_acquired_(std::move(on_acquired)),
      on_lost_(std::move(on_lost)) {}

PgLeaderLock::~PgLeaderLock() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgLeaderLock::Loop() {
  while (!stopping_) {
    SleepUnless(stopping_, leader_ ? options_.liveness_ms : options_.poll_ms);
    if (!stopping_) Attempt();
  }
}

void PgLeaderLock::Attempt() {
  if (!db_) {
    auto opened = PgDb::Open(uri_);
    if (!opened.ok()) {
      TAMGA_LOG(kWarn, "leader lock: cannot connect; retrying", {{"error", opened.status().ToString()}});
      return;
    }
    db_ = std::move(*opened);
  }
  if (leader_) {
    // Still connected means still holding the lock (it is tied to the session).
    Status alive = db_->Exec("SELECT 1");
    if (alive.ok()) return;
    leader_ = false;
    db_.reset();
    TAMGA_LOG(kError, "leader lock: connection lost; no longer leading", {{"error", alive.ToString()}});
    if (on_lost_) on_lost_();
    return;
  }
  bool got = false;
  {
    auto stmt = db_->PrepareUncached("SELECT pg_try_advisory_lock(" + std::to_string(options_.key) + ")");
    auto row = stmt.ok() ? (*stmt)->Step() : Result<bool>(stmt.status());
    if (!row.ok()) {
      db_.reset();
      return;
    }
    got = *row && (*stmt)->Int(0) == 1;
  }
  if (!got) return;
  // The previous leader, if its process still runs (its other sessions are open), may not have noticed yet
  // that its lock session ended: wait out its liveness check before acting. A leader that died, or a first
  // start, leaves no session behind: act at once.
  bool wait = false;
  {
    auto prev = db_->Prepare("SELECT replica_id FROM replica_leader WHERE role = ?1");
    std::string prev_id;
    if (prev.ok()) {
      (*prev)->Bind(1, options_.role);
      auto row = (*prev)->Step();
      if (row.ok() && *row) prev_id = (*prev)->Text(0);
      if (row.ok() && *row) (void)(*prev)->Step();
    }
    if (!prev_id.empty() && prev_id != options_.replica_id) {
      auto live = db_->Prepare("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?1");
      if (live.ok()) {
        std::string name = ("tamga " + prev_id).substr(0, 63);
        (*live)->Bind(1, name);
        auto row = (*live)->Step();
        wait = !row.ok() || (*row && (*live)->Int(0) > 0);
        if (row.ok() && *row) (void)(*live)->Step();
      } else {
        wait = true;
      }
    }
  }
  auto put = db_->Prepare(
      "INSERT INTO replica_leader(role, url, replica_id, since) VALUES (?1, ?2, ?3, "
      "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint) ON CONFLICT(role) DO UPDATE SET "
      "url = excluded.url, replica_id = excluded.replica_id, since = excluded.since");
  Status s = put.ok()
                 ? (*put)->Bind(1, options_.role).Bind(2, options_.url).Bind(3, options_.replica_id).Run()
                 : put.status();
  if (!s.ok()) {
    TAMGA_LOG(kWarn, "leader lock: cannot record this replica's URL", {{"error", s.ToString()}});
    db_.reset();  // drops the lock with the session; tried again
    return;
  }
  if (wait) SleepUnless(stopping_, options_.takeover_delay_ms);
  if (stopping_) return;
  Status alive = db_->Exec("SELECT 1");  // still ours after the wait
  if (!alive.ok()) {
    db_.reset();
    return;
  }
  leader_ = true;
  TAMGA_LOG(kInfo, "this replica leads", {{"role", options_.role}, {"url", options_.url}});
  if (on_acquired_) on_acquired_();
}

}  // namespace tamga
