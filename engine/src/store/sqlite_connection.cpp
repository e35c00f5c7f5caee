#include "store/sqlite_connection.hpp"

#include <utility>

#include "nurt/core/assert.hpp"

namespace nurt::store::sqlite {

// ---------------------------------------------------------------------------------------------------
// Query

Query::Query(Query&& other) noexcept
    : conn_(other.conn_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      borrowed_(other.borrowed_),
      bind_error_(other.bind_error_) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *borrowed_ = false;
}

Query& Query::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Query& Query::Bind(int index, std::string_view text) {
  // SQLITE_TRANSIENT: SQLite copies the text, so temporaries may be bound safely.
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Query& Query::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

int Query::Step() {
  if (bind_error_ != SQLITE_OK) return bind_error_;
  return sqlite3_step(stmt_);
}

Status Query::Run(std::string_view what) {
  for (;;) {
    int rc = Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return conn_->Error(rc, what);
  }
}

Result<bool> Query::Next(std::string_view what) {
  int rc = Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, what);
}

std::int64_t Query::Int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Query::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Query::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

// ---------------------------------------------------------------------------------------------------
// Connection

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= SQLITE_OPEN_READWRITE;
  if (!options.read_only) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::Unavailable("cannot open the nurt database '" + options.path + "': " + msg +
                               "; check that the directory exists and is writable by this process");
  }
  std::unique_ptr<Connection> conn(new Connection(db, options.path));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_commit_hook(
      db,
      [](void* self) {
        ++static_cast<Connection*>(self)->transactions_committed_;
        return 0;  // 0 = let the commit proceed
      },
      conn.get());
  if (options.read_only) {
    NURT_RETURN_IF_ERROR(
        conn->Exec("PRAGMA query_only = ON", "making a reader connection read-only"));
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) {
    NURT_INVARIANT(!cached.borrowed, "a Query outlived its Connection");
    sqlite3_finalize(cached.stmt);
  }
  sqlite3_close_v2(db_);
}

Result<Query> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, std::string("preparing `") + sql + "`");
    ++statements_prepared_;
    it = cache_.emplace(sql, Cached{stmt, false}).first;
  }
  NURT_INVARIANT(!it->second.borrowed, std::string("statement borrowed twice: ") + sql);
  it->second.borrowed = true;
  return Query(this, it->second.stmt, &it->second.borrowed);
}

Status Connection::Exec(const std::string& sql, std::string_view what) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // Error() reads sqlite3_errmsg, which still holds the same text
  if (rc != SQLITE_OK) return Error(rc, what);
  return Status::Ok();
}

Status Connection::Error(int rc, std::string_view what) const {
  const std::string detail = std::string(what) + " on '" + path_ + "': " + sqlite3_errmsg(db_) +
                             " (" + sqlite3_errstr(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(detail +
                                 "; another connection or process held the database lock longer "
                                 "than busy_timeout_ms; nothing was written, retry");
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
      return Status::Unavailable(detail +
                                 "; check free space, permissions and health of the disk holding "
                                 "the database; nothing was written, retry when fixed");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::DataLoss(
          detail +
          "; the file is damaged or is not a nurt database: stop nurt, keep a "
          "copy of the file, and restore the latest backup (run `sqlite3 <file> "
          "'PRAGMA integrity_check'` to see the damage)");
    case SQLITE_TOOBIG:
      return Status::ResourceExhausted(detail +
                                       "; a value is larger than SQLite's limit; make it smaller");
    case SQLITE_CONSTRAINT:
      return Status::InvalidArgument(detail);
    default:
      return Status::Internal(detail + "; this is a bug in nurt's SQLite store, please report it");
  }
}

// ---------------------------------------------------------------------------------------------------
// WriteTransaction

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  // An IO error may already have rolled the transaction back; ROLLBACK then fails harmlessly.
  if (conn_->InTransaction()) {
    auto q = conn_->Prepare("ROLLBACK");
    if (q.ok()) (void)q->Step();
  }
}

Status WriteTransaction::Begin(std::string_view what) {
  NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare("BEGIN IMMEDIATE"));
  NURT_RETURN_IF_ERROR(q.Run(what));
  open_ = true;
  return Status::Ok();
}

Status WriteTransaction::Commit(std::string_view what) {
  NURT_ASSIGN_OR_RETURN(Query q, conn_->Prepare("COMMIT"));
  Status st = q.Run(what);
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace nurt::store::sqlite
