#pragma once
// The machine's own limit, measured by every benchmark in the same run: SQLite inserts of an event-shaped
// row (WAL, synchronous=FULL), one per transaction and batched; and the figure/JSON-line printer.

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace nurt::bench {

using Clock = SteadyClock;

inline long RssKiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}


struct Figure {
  std::string name, unit;
  double value = 0, limit = 0;  // limit 0 = no same-run limit for this figure
  std::string limit_name;
};
inline std::vector<Figure> figures;

inline void Report(const Figure& f) {
  figures.push_back(f);
  std::printf("{\"figure\":\"%s\",\"value\":%.1f,\"unit\":\"%s\"", f.name.c_str(), f.value,
              f.unit.c_str());
  if (f.limit > 0) {
    std::printf(",\"limit\":\"%s\",\"limit_value\":%.1f,\"ratio\":%.3f", f.limit_name.c_str(), f.limit,
                f.value / f.limit);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

// --- the raw store limit: SQLite inserts of an event-shaped row, WAL, synchronous=FULL --------------
// Same disk, same process, same durability settings as the store under test.
class RawSqlite {
 public:
  explicit RawSqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("cannot open " + path);
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    Exec("CREATE TABLE events(org_id TEXT, instance_id TEXT, sequence INTEGER, id TEXT, type TEXT, "
         "occurred_at INTEGER, actor TEXT, payload TEXT, trace_id TEXT, idempotency_key TEXT, "
         "PRIMARY KEY(org_id, instance_id, sequence)) WITHOUT ROWID");
    sqlite3_prepare_v2(db_, "INSERT INTO events VALUES(?,?,?,?,?,?,?,?,?,?)", -1, &ins_, nullptr);
  }
  ~RawSqlite() {
    sqlite3_finalize(ins_);
    sqlite3_close(db_);
  }

  // One row per transaction; returns transactions per second and appends each latency (ms).
  double Single(int n, std::vector<double>* latencies_ms) {
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      Exec("BEGIN IMMEDIATE");
      InsertOne();
      Exec("COMMIT");
      latencies_ms->push_back(Seconds(t) * 1000);
    }
    return n / Seconds(t0);
  }

  // `batch` rows per transaction; returns rows per second.
  double Batched(int batches, int batch) {
    auto t0 = Clock::now();
    for (int b = 0; b < batches; ++b) {
      Exec("BEGIN IMMEDIATE");
      for (int i = 0; i < batch; ++i) InsertOne();
      Exec("COMMIT");
    }
    return static_cast<double>(batches) * batch / Seconds(t0);
  }

 private:
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) Die(std::string(sql) + ": " + err);
  }
  void InsertOne() {
    ++seq_;
    const std::string instance = "inst-" + std::to_string(seq_ % 1000);
    const std::string id = "01JABCDEFGHJKMNPQRSTV" + std::to_string(100000 + seq_);
    sqlite3_bind_text(ins_, 1, "acme", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins_, 2, instance.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins_, 3, seq_);
    sqlite3_bind_text(ins_, 4, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins_, 5, "add", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins_, 6, 1767225600000 + seq_);
    sqlite3_bind_text(ins_, 7, "user:bench", -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_, 8, "{\"by\":1}", -1, SQLITE_STATIC);
    sqlite3_bind_text(ins_, 9, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins_, 10, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins_) != SQLITE_DONE) Die(sqlite3_errmsg(db_));
    sqlite3_reset(ins_);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* ins_ = nullptr;
  long seq_ = 0;
};

}  // namespace nurt::bench
