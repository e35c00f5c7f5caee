#pragma once
// The SQLite schema of nurt's store as a list of versioned migrations (docs/store.md explains every
// table, column and index). Private to nurt_store.

#include <cstdint>
#include <string>
#include <vector>

#include "nurt/core/status.hpp"
#include "store/sqlite_connection.hpp"

namespace nurt::store::sqlite {

// PRAGMA application_id of a nurt database: "nurt" in ASCII. Marks the file as ours.
inline constexpr std::int32_t kApplicationId = 0x6E757274;

struct Migration {
  std::int64_t version;  // ascending; gaps allowed (each version is applied once, by membership)
  const char* name;      // recorded in schema_migrations for operators
  const char* sql;       // one or more statements
};

// Every migration this binary knows, ascending. Never edit a released migration: add a new one.
const std::vector<Migration>& Migrations();

// The schema version this binary writes (the last migration's version).
std::int64_t LatestSchemaVersion();

// Applies every migration not yet recorded in schema_migrations, ascending, inside one BEGIN
// IMMEDIATE transaction: all pending migrations apply, or none. Errors:
//   DataLoss     the file is not a nurt database, or its schema is newer than this binary knows
//   Unavailable  the database is busy or IO failed
Status Migrate(Connection* conn);

}  // namespace nurt::store::sqlite
