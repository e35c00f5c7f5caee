#pragma once
// RAII wrappers over one SQLite connection and its cached prepared statements (private to
// nurt_store).
//
// A Connection owns a sqlite3* and every statement prepared on it. Statements are prepared once per
// connection (keyed by the address of the SQL string literal, so callers pass `static constexpr`
// SQL) and reused: a Query borrows a cached statement and resets it and clears its bindings when it
// goes away. SQLite errors become a Status here, in one place (Connection::Error), with the
// database path and what the caller was doing in the message.
//
// Thread-safety: none. A Connection is used by one thread at a time; SqliteStore guards each one
// with a mutex (the writer) or hands it out from a pool (readers). Connections are opened with
// SQLITE_OPEN_NOMUTEX for that reason.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nurt/core/result.hpp"
#include "nurt/core/status.hpp"

// Clang's -Wthread-safety annotations; documentation only under GCC.
#if defined(__clang__)
#define NURT_GUARDED_BY(x) __attribute__((guarded_by(x)))
#else
#define NURT_GUARDED_BY(x)
#endif

namespace nurt::store::sqlite {

class Connection;

// A cached statement borrowed from its Connection for one use. Bind parameters (1-based), step,
// read columns (0-based); the destructor resets the statement so the next use starts clean.
class Query {
 public:
  Query(Connection* conn, sqlite3_stmt* stmt, bool* borrowed)
      : conn_(conn), stmt_(stmt), borrowed_(borrowed) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& Bind(int index, std::int64_t value);
  Query& Bind(int index, std::string_view text);
  Query& BindNull(int index);

  // The raw SQLite result code of one sqlite3_step (SQLITE_ROW, SQLITE_DONE or an error). A bind
  // error recorded earlier is returned instead of stepping.
  int Step();
  // Steps until SQLITE_DONE; any error is mapped by Connection::Error with `what` as context.
  Status Run(std::string_view what);
  // true: a row is available; false: no more rows; error mapped with `what` as context.
  Result<bool> Next(std::string_view what);

  std::int64_t Int64(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* borrowed_;  // the cache entry's flag, cleared when this Query goes away
  int bind_error_ = SQLITE_OK;
};

struct ConnectionOptions {
  std::string path;
  int busy_timeout_ms = 5000;
  bool read_only = false;  // PRAGMA query_only: a reader connection cannot write by mistake
};

class Connection {
 public:
  // Opens (creating the file when !read_only) and sets extended result codes and the busy timeout.
  // Errors: Unavailable (cannot open the file).
  static Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The cached statement for `sql`, preparing it on first use. `sql` must outlive the connection (a
  // string literal or a static constant): its address is the cache key.
  // REQUIRES: the same statement is not borrowed twice at once.
  Result<Query> Prepare(const char* sql);

  // Runs one or more statements without caching (schema migrations, PRAGMAs at open).
  Status Exec(const std::string& sql, std::string_view what);

  // Maps a SQLite result code to a Status whose message says what failed, on which database, and
  // what to do: BUSY/LOCKED/IOERR/FULL/CANTOPEN/NOMEM/READONLY/PROTOCOL/PERM -> Unavailable;
  // CORRUPT/NOTADB
  // -> DataLoss; TOOBIG -> ResourceExhausted; CONSTRAINT -> InvalidArgument (callers that know
  // which constraint map it themselves); anything else (SQL errors, misuse) -> Internal.
  Status Error(int rc, std::string_view what) const;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  std::int64_t Changes() const { return sqlite3_changes64(db_); }
  // Statements prepared on this connection so far (a test hook: the hot path must not re-prepare).
  std::int64_t statements_prepared() const { return statements_prepared_; }
  // Write transactions committed on this connection (counted by a commit hook; a test hook).
  std::int64_t transactions_committed() const { return transactions_committed_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool borrowed = false;
  };
  std::unordered_map<const char*, Cached> cache_;  // node-based: Cached addresses are stable
  std::int64_t statements_prepared_ = 0;
  std::int64_t transactions_committed_ = 0;
};

// BEGIN IMMEDIATE … COMMIT on a connection; the destructor rolls back when Commit() was not reached
// or failed, so every early return leaves the database unchanged.
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection* conn) : conn_(conn) {}
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  Status Begin(std::string_view what);
  Status Commit(std::string_view what);

 private:
  Connection* conn_;
  bool open_ = false;
};

}  // namespace nurt::store::sqlite
