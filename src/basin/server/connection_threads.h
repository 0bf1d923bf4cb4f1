#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace basin::server {

/// The threads that serve the HTTP server's connections. cpp-httplib gives each accepted
/// connection to one task, which holds its thread until the connection closes: a client
/// that sends half a request holds a thread until the read timeout. A fixed pool the size of
/// the connection limit would keep hundreds of idle threads; a small one lets a few such
/// clients queue everyone else (even /healthz) behind them. So threads start on demand, one
/// per connection waiting for a thread, up to `max_threads`, and a thread idle for
/// `idle_exit` ends (down to `warm_threads`). Past `max_threads`, connections wait in a
/// FIFO queue for a free thread.
///
/// Thread-safe. enqueue may be called until shutdown(); shutdown runs the queued tasks,
/// then joins every thread.
class ConnectionThreads final : public httplib::TaskQueue {
 public:
  /// REQUIRES: 1 <= warm_threads <= max_threads.
  ConnectionThreads(size_t warm_threads, size_t max_threads,
                    std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  ~ConnectionThreads() override;
  ConnectionThreads(const ConnectionThreads&) = delete;
  ConnectionThreads& operator=(const ConnectionThreads&) = delete;

  void enqueue(std::function<void()> task) override;
  void shutdown() override;

  /// Threads running now (busy or idle), for tests and metrics.
  size_t thread_count() const;

 private:
  void StartThread();  // REQUIRES: mutex_ held
  void Work();

  const size_t warm_threads_;
  const size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;         // GUARDED_BY(mutex_)
  std::map<std::thread::id, std::thread> threads_;  // GUARDED_BY(mutex_)
  std::vector<std::thread> finished_;               // GUARDED_BY(mutex_); ended, not yet joined
  size_t idle_ = 0;             // GUARDED_BY(mutex_); threads waiting for a task
  bool shutting_down_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace basin::server
