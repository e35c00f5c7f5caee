#pragma once
// A scriptable HTTP receiver on 127.0.0.1 for the effects tests: a plain socket server (one request per
// connection, as the http adapter makes them) whose answers are scripted per request — a status, a
// delay before answering (for timeouts), or dropping the connection without an answer. Records every
// request and counts distinct Idempotency-Key values, as a deduplicating partner would.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace nurt::effects::testing {

class Receiver {
 public:
  struct Step {
    int status = 200;
    std::chrono::milliseconds delay{0};  // wait before answering
    bool drop = false;                   // close the connection without answering
    std::string body = "{\"ok\":true}";
  };
  struct Request {
    std::string method, path, body, idempotency_key;
    std::string Header(const std::string& name) const {
      for (const auto& [k, v] : headers) {
        if (k == name) return v;
      }
      return "";
    }
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  };

  Receiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) {
      throw std::runtime_error("receiver: cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Accept(); });
  }
  ~Receiver() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (auto& t : workers_) t.join();
  }

  // Called (on the connection's thread) with the Idempotency-Key of each request answered 2xx, after the
  // answer was sent. Set before the first request.
  std::function<void(const std::string& key)> on_delivered;

  std::string Url(const std::string& path = "/orders") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void Script(std::vector<Step> steps) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.insert(script_.end(), steps.begin(), steps.end());
  }
  void Fail(int times, int status) {
    std::vector<Step> s(static_cast<std::size_t>(times));
    for (auto& x : s) x.status = status;
    Script(s);
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  // Idempotency keys of requests answered 2xx, each once.
  std::set<std::string> delivered_keys() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }
  std::size_t successes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return successes_;
  }

 private:
  void Accept() {
    while (!stopping_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, c] { Serve(c); });
    }
  }

  void Serve(int c) {
    std::string in;
    char buf[4096];
    std::size_t header_end = std::string::npos, length = 0;
    while (true) {
      const ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos) {
        header_end = in.find("\r\n\r\n");
        if (header_end != std::string::npos) length = ContentLength(in.substr(0, header_end));
      }
      if (header_end != std::string::npos && in.size() >= header_end + 4 + length) break;
    }
    if (header_end == std::string::npos) {
      close(c);
      return;
    }
    Request r = Parse(in.substr(0, header_end));
    r.body = in.substr(header_end + 4, length);
    Step step;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!script_.empty()) {
        step = script_.front();
        script_.pop_front();
      }
      requests_.push_back(r);
    }
    if (step.delay.count() > 0) std::this_thread::sleep_for(step.delay);
    if (step.drop) {
      close(c);
      return;
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(step.status) + " X\r\nContent-Type: application/json\r\n" +
                              "Content-Length: " + std::to_string(step.body.size()) +
                              "\r\nConnection: close\r\n\r\n" + step.body;
    send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    if (step.status >= 200 && step.status < 300) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++successes_;
        delivered_.insert(r.idempotency_key);
      }
      if (on_delivered) on_delivered(r.idempotency_key);
    }
    close(c);
  }

  static std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char x) { return std::tolower(x); });
    return s;
  }
  static std::size_t ContentLength(const std::string& head) {
    const std::string lower = Lower(head);
    const std::size_t at = lower.find("content-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
  }
  static Request Parse(const std::string& head) {
    Request r;
    std::size_t start = 0;
    bool first = true;
    while (start < head.size()) {
      std::size_t end = head.find("\r\n", start);
      if (end == std::string::npos) end = head.size();
      const std::string line = head.substr(start, end - start);
      if (first) {
        const std::size_t sp = line.find(' ');
        r.method = line.substr(0, sp);
        r.path = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
        first = false;
      } else if (const std::size_t colon = line.find(':'); colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers.emplace_back(Lower(line.substr(0, colon)), value);
        if (Lower(line.substr(0, colon)) == "idempotency-key") r.idempotency_key = value;
      }
      start = end + 2;
    }
    return r;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::deque<Step> script_;
  std::vector<Request> requests_;
  std::set<std::string> delivered_;
  std::size_t successes_ = 0;
};

}  // namespace nurt::effects::testing
