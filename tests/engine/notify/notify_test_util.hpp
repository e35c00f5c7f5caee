#pragma once
// Real receivers for the notify tests, all on 127.0.0.1:
//   SmtpTestServer  aiosmtpd (tests/engine/notify/smtp_server.py) as a child process, STARTTLS + AUTH;
//   HttpReceiver    nurt's own HTTP server recording every request and answering scripted statuses;
//   MakeSelfSignedCert  a throwaway certificate for 127.0.0.1 made with the openssl command.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/server/http_server.hpp"
#include "temp_dir.hpp"

namespace nurt::notify::testing {

inline std::string SourceRoot() { return NURT_SOURCE_ROOT; }

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// cert.pem + key.pem for CN/SAN 127.0.0.1 and localhost in `dir`; the cert is its own CA file.
inline void MakeSelfSignedCert(const nurt::testing::TempDir& dir) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
      "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" + dir.File("key.pem") +
      "' -out '" + dir.File("cert.pem") + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate: " << cmd;
}

// aiosmtpd in a child process; stopped (stdin closed, then waited for) by the destructor.
class SmtpTestServer {
 public:
  struct Options {
    std::string cert, key;      // both set: STARTTLS required
    std::string user, password; // set: AUTH required
  };

  SmtpTestServer(const std::string& outdir, const Options& o) : outdir_(outdir) {
    std::vector<std::string> args = {"/usr/bin/python3", SourceRoot() + "/tests/engine/notify/smtp_server.py",
                                     outdir};
    if (!o.cert.empty()) args.insert(args.end(), {"--cert", o.cert, "--key", o.key});
    if (!o.user.empty()) args.insert(args.end(), {"--user", o.user, "--password", o.password});
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    std::FILE* f = fdopen(out[0], "r");
    char line[256] = {};
    // The script prints "PORT n" once it listens (or exits, closing the pipe, on failure).
    if (std::fgets(line, sizeof line, f) == nullptr || std::sscanf(line, "PORT %d", &port_) != 1) {
      std::fclose(f);
      throw std::runtime_error("smtp_server.py did not start (is python3-aiosmtpd installed?)");
    }
    stdout_ = f;
  }
  ~SmtpTestServer() {
    close(stdin_);
    int status = 0;
    waitpid(pid_, &status, 0);
    if (stdout_) std::fclose(stdout_);
  }

  int port() const { return port_; }
  // The JSON the script wrote for message n (1-based), waiting up to 10 s for it.
  Json Message(int n) const {
    const std::string path = outdir_ + "/" + std::to_string(n) + ".json";
    for (int i = 0; i < 1000 && !FileExists(path); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Json::parse(ReadFileText(path));
  }
  std::string Raw(int n) const { return ReadFileText(outdir_ + "/" + std::to_string(n) + ".eml"); }
  int Count() const {
    int n = 0;
    while (FileExists(outdir_ + "/" + std::to_string(n + 1) + ".json")) ++n;
    return n;
  }

 private:
  std::string outdir_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::FILE* stdout_ = nullptr;
  int port_ = 0;
};

// Records every request; answers with the next scripted status (then 200).
class HttpReceiver {
 public:
  struct Received {
    std::string method, path, body;
    server::HeaderList headers;
    std::string Header(const std::string& name) const {
      for (const auto& [k, v] : headers) {
        if (server::HeaderNameEquals(k, name)) return v;
      }
      return "";
    }
  };

  HttpReceiver() {
    server::HttpServerOptions o;
    o.threads = 2;
    auto s = server::HttpServer::Start(
        o,
        [this](server::HttpRequest& r) {
          std::lock_guard<std::mutex> lock(mu_);
          received_.push_back(Received{r.method, r.path, r.body, r.headers});
          server::HttpResponse resp;
          resp.status = 200;
          resp.content_type = "text/plain";
          resp.body = "ok";
          if (!script_.empty()) {
            resp.status = script_.front();
            script_.pop_front();
            resp.body = "scripted " + std::to_string(resp.status);
            if (resp.status >= 300 && resp.status < 400) resp.SetHeader("Location", "https://elsewhere.example/");
          }
          return resp;
        },
        nullptr, nullptr, nullptr, nullptr);
    if (!s.ok()) throw std::runtime_error("receiver: " + s.status().ToString());
    server_ = std::move(s).value();
  }
  ~HttpReceiver() { server_->Shutdown(); }

  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.insert(script_.end(), statuses.begin(), statuses.end());
  }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Received> received_;
  std::deque<int> script_;
  std::unique_ptr<server::HttpServer> server_;
};

}  // namespace nurt::notify::testing
