#include "basin/server/connection_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace basin::server {
namespace {

using std::chrono::milliseconds;

// Tasks that hold their thread until released, as a client sending half a request does.
class BlockedTasks {
 public:
  std::function<void()> Task() {
    return [this] {
      std::unique_lock lock(mutex_);
      ++running_;
      ++started_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
      --running_;
    };
  }
  // True when `count` tasks have started within `timeout`.
  bool WaitStarted(int count, milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return started_ >= count; });
  }
  int running() {
    std::lock_guard lock(mutex_);
    return running_;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int running_ = 0;
  int started_ = 0;
  bool released_ = false;
};

TEST(ConnectionThreadsTest, StartsAThreadPerWaitingTaskUpToTheLimit) {
  ConnectionThreads threads(2, 100);
  BlockedTasks blocked;
  for (int i = 0; i < 80; ++i)
    threads.enqueue(blocked.Task());
  // All 80 hold a thread at once: a task enqueued now still finds one.
  ASSERT_TRUE(blocked.WaitStarted(80, milliseconds(5000)));
  std::atomic<bool> ran{false};
  threads.enqueue([&] { ran = true; });
  for (int i = 0; i < 500 && !ran; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_TRUE(ran);
  EXPECT_LE(threads.thread_count(), 100u);
  blocked.Release();
  threads.shutdown();
}

TEST(ConnectionThreadsTest, QueuesBeyondTheLimitAndRunsEverythingBeforeShutdownReturns) {
  ConnectionThreads threads(1, 4);
  BlockedTasks blocked;
  std::atomic<int> finished{0};
  for (int i = 0; i < 10; ++i) {
    threads.enqueue([&, task = blocked.Task()] {
      task();
      ++finished;
    });
  }
  ASSERT_TRUE(blocked.WaitStarted(4, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(blocked.running(), 4);
  EXPECT_EQ(threads.thread_count(), 4u);
  blocked.Release();
  threads.shutdown();
  EXPECT_EQ(finished.load(), 10);
}

TEST(ConnectionThreadsTest, IdleThreadsEndDownToTheWarmCount) {
  ConnectionThreads threads(2, 50, milliseconds(50));
  BlockedTasks blocked;
  for (int i = 0; i < 20; ++i)
    threads.enqueue(blocked.Task());
  ASSERT_TRUE(blocked.WaitStarted(20, milliseconds(5000)));
  EXPECT_GE(threads.thread_count(), 20u);
  blocked.Release();
  for (int i = 0; i < 300 && threads.thread_count() > 2; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(threads.thread_count(), 2u);
  // Still serving after the others ended (and joins them on the way).
  std::atomic<bool> ran{false};
  threads.enqueue([&] { ran = true; });
  threads.shutdown();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace basin::server
