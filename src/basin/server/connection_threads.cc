#include "basin/server/connection_threads.h"

#include <cassert>
#include <system_error>
#include <utility>

namespace basin::server {

ConnectionThreads::ConnectionThreads(size_t warm_threads, size_t max_threads,
                                     std::chrono::milliseconds idle_exit)
    : warm_threads_(warm_threads), max_threads_(max_threads), idle_exit_(idle_exit) {
  assert(warm_threads >= 1 && warm_threads <= max_threads);
  std::lock_guard lock(mutex_);
  while (threads_.size() < warm_threads_)
    StartThread();
}

ConnectionThreads::~ConnectionThreads() {
  shutdown();
}

void ConnectionThreads::enqueue(std::function<void()> task) {
  std::vector<std::thread> ended;
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    // Every task waiting beyond the idle threads gets a thread of its own, while allowed.
    if (tasks_.size() > idle_ && threads_.size() < max_threads_)
      StartThread();
    ended.swap(finished_);
  }
  wake_.notify_one();
  for (std::thread& thread : ended)
    thread.join();
}

void ConnectionThreads::shutdown() {
  std::vector<std::thread> all;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  {
    // The threads run what is queued, then end; none starts or retires itself after this.
    std::lock_guard lock(mutex_);
    for (auto& [id, thread] : threads_)
      all.push_back(std::move(thread));
    threads_.clear();
    for (std::thread& thread : finished_)
      all.push_back(std::move(thread));
    finished_.clear();
  }
  for (std::thread& thread : all) {
    if (thread.joinable())
      thread.join();
  }
}

size_t ConnectionThreads::thread_count() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void ConnectionThreads::StartThread() {
  try {
    std::thread thread([this] { Work(); });
    std::thread::id id = thread.get_id();
    threads_.emplace(id, std::move(thread));
    ++idle_;  // available from now on, before it first waits
  } catch (const std::system_error&) {
    // Out of threads: the queued task waits for one of the running threads.
  }
}

void ConnectionThreads::Work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    bool woken =
        wake_.wait_for(lock, idle_exit_, [this] { return shutting_down_ || !tasks_.empty(); });
    if (!woken) {
      if (threads_.size() <= warm_threads_)
        continue;
      // Idle too long and not needed warm: end, to be joined by the next enqueue or shutdown.
      auto self = threads_.find(std::this_thread::get_id());
      finished_.push_back(std::move(self->second));
      threads_.erase(self);
      --idle_;
      return;
    }
    if (tasks_.empty()) {  // shutting down, nothing left to run
      --idle_;
      return;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    task();
    task = nullptr;  // the connection's state is released outside the lock
    lock.lock();
    ++idle_;
  }
}

}  // namespace basin::server
