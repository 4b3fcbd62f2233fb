#pragma once
// PostgreSQL NOTIFY channels the stores send on inside the committing transaction (several replicas on one
// database wake each other's waiters: storage/postgres/pg_listener.h). SQLite sends nothing.
namespace tamga {

inline constexpr const char* kPgEventsChannel = "tamga_events";  // payload: the registry event's seq
inline constexpr const char* kPgRunsChannel = "tamga_runs";      // payload: a run id whose data changed
// users, tokens, grants, teams, sessions; payload: the replica that changed them
inline constexpr const char* kPgIdentityChannel = "tamga_identity";

}  // namespace tamga
