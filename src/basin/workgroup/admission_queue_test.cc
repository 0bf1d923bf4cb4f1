#include "basin/workgroup/admission_queue.h"

#include <condition_variable>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

// Real threads, no timing assumptions: each test waits for the queue to reach a state
// (WaitUntil polls its counts) before it acts, so the order of events is fixed.
namespace basin::workgroup {
namespace {

using std::chrono::milliseconds;

Workgroup Limits(int max_concurrent, int max_queued = 100, milliseconds queue_timeout = {}) {
  Workgroup workgroup;
  workgroup.name = "analysts";
  workgroup.max_concurrent = max_concurrent;
  workgroup.max_queued = max_queued;
  workgroup.queue_timeout = queue_timeout;  // 0: wait as long as it takes
  return workgroup;
}

// True once `condition` holds; false after 10 s (a hung test fails instead of hanging).
bool WaitUntil(const std::function<bool()>& condition) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up)
      return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(AdmissionQueueTest, AdmitsUpToMaxConcurrentAtOnceAndReleasesOnDestruction) {
  AdmissionQueue queue;
  Workgroup limits = Limits(2);
  {
    Result<AdmissionQueue::Ticket> first = queue.Admit(limits, nullptr);
    Result<AdmissionQueue::Ticket> second = queue.Admit(limits, nullptr);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_TRUE(first->holds_slot());
    EXPECT_EQ(first->workgroup(), "analysts");
    EXPECT_EQ(first->queued_for().count(), 0);
    EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{2, 0}));
    first->Release();
    first->Release();  // idempotent
    EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{1, 0}));
    AdmissionQueue::Ticket moved = std::move(second).value();
    EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{1, 0})) << "a move keeps the one slot";
  }
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{0, 0}));
  EXPECT_TRUE(queue.AllCounts().empty()) << "idle workgroups are forgotten";
}

TEST(AdmissionQueueTest, AdmitsWaitingQueriesInArrivalOrder) {
  AdmissionQueue queue;
  Workgroup limits = Limits(1);
  Result<AdmissionQueue::Ticket> holder = queue.Admit(limits, nullptr);
  ASSERT_TRUE(holder.ok());
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      Result<AdmissionQueue::Ticket> ticket = queue.Admit(limits, nullptr);
      std::lock_guard lock(mutex);
      order.push_back(ticket.ok() ? i : -1);
    });  // the ticket is released as the thread ends, admitting the next
    ASSERT_TRUE(WaitUntil([&] { return queue.Counts("analysts").queued == i + 1; }));
  }
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{1, 5}));
  holder->Release();
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{0, 0}));
}

TEST(AdmissionQueueTest, RefusesAtOnceWhenTheQueueIsFull) {
  AdmissionQueue queue;
  Workgroup limits = Limits(1, /*max_queued=*/1);
  Result<AdmissionQueue::Ticket> holder = queue.Admit(limits, nullptr);
  ASSERT_TRUE(holder.ok());
  std::thread waiter([&] { EXPECT_TRUE(queue.Admit(limits, nullptr).ok()); });
  ASSERT_TRUE(WaitUntil([&] { return queue.Counts("analysts").queued == 1; }));

  Result<AdmissionQueue::Ticket> refused = queue.Admit(limits, nullptr);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "workgroup 'analysts' has 1 query queued; try again later");
  Workgroup no_queue = Limits(1, /*max_queued=*/0);
  EXPECT_EQ(queue.Admit(no_queue, nullptr).status().message(),
            "workgroup 'analysts' runs its maximum of 1 queries and queues none; try again later");

  holder->Release();
  waiter.join();
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{0, 0}));
}

TEST(AdmissionQueueTest, GivesUpAfterTheQueueTimeout) {
  AdmissionQueue queue;
  Workgroup limits = Limits(1, 100, milliseconds(50));
  Result<AdmissionQueue::Ticket> holder = queue.Admit(limits, nullptr);
  ASSERT_TRUE(holder.ok());
  auto start = std::chrono::steady_clock::now();
  Result<AdmissionQueue::Ticket> late = queue.Admit(limits, nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50));
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(late.status().message(),
            "query waited 50 ms in the queue of workgroup 'analysts' (1 queries at once); try "
            "again later or raise its queue_timeout");
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{1, 0})) << "it left the queue";
}

TEST(AdmissionQueueTest, CancelStopsTheWait) {
  AdmissionQueue queue;
  Workgroup limits = Limits(1);
  std::atomic<bool> cancel{true};
  EXPECT_EQ(queue.Admit(limits, &cancel).status().code(), StatusCode::kCancelled)
      << "cancelled before it starts, even with a free slot";

  cancel = false;
  Result<AdmissionQueue::Ticket> holder = queue.Admit(limits, &cancel);
  ASSERT_TRUE(holder.ok());
  Status waited;
  std::thread waiter([&] { waited = queue.Admit(limits, &cancel).status(); });
  ASSERT_TRUE(WaitUntil([&] { return queue.Counts("analysts").queued == 1; }));
  cancel = true;
  waiter.join();
  EXPECT_EQ(waited.code(), StatusCode::kCancelled);
  EXPECT_EQ(waited.message(), "query cancelled while waiting in the queue of workgroup 'analysts'");
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{1, 0}));
}

TEST(AdmissionQueueTest, NeverRunsMoreThanMaxConcurrentAtOnce) {
  AdmissionQueue queue;
  Workgroup limits = Limits(3);
  constexpr int kQueries = 20;
  std::mutex mutex;
  std::condition_variable go_signal;
  bool go = false;
  int inside = 0, most_inside = 0, admitted = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kQueries; ++i) {
    threads.emplace_back([&] {
      Result<AdmissionQueue::Ticket> ticket = queue.Admit(limits, nullptr);
      if (!ticket.ok())
        return;
      std::unique_lock lock(mutex);
      ++admitted;
      most_inside = std::max(most_inside, ++inside);
      go_signal.wait(lock, [&] { return go; });  // the first three hold their slots
      --inside;
    });
  }
  // Three run, the rest wait; nothing moves until `go`.
  ASSERT_TRUE(WaitUntil([&] { return queue.Counts("analysts") == AdmissionCounts{3, 17}; }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(admitted, 3);
    go = true;
  }
  go_signal.notify_all();
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(admitted, kQueries);
  EXPECT_EQ(most_inside, 3);
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{0, 0}));
}

TEST(AdmissionQueueTest, TakesLimitsFromEachCall) {
  AdmissionQueue queue;
  Result<AdmissionQueue::Ticket> holder = queue.Admit(Limits(1), nullptr);
  ASSERT_TRUE(holder.ok());
  std::thread waiter([&] { EXPECT_TRUE(queue.Admit(Limits(1), nullptr).ok()); });
  ASSERT_TRUE(WaitUntil([&] { return queue.Counts("analysts").queued == 1; }));
  // A raised limit admits the waiting query first, then this one.
  Result<AdmissionQueue::Ticket> raised = queue.Admit(Limits(3), nullptr);
  ASSERT_TRUE(raised.ok());
  waiter.join();
  EXPECT_EQ(queue.Counts("analysts"), (AdmissionCounts{2, 0}));
}

TEST(AdmissionQueueTest, WorkgroupsDoNotShareSlots) {
  AdmissionQueue queue;
  Workgroup analysts = Limits(1, 0);
  Workgroup etl = analysts;
  etl.name = "etl";
  Result<AdmissionQueue::Ticket> first = queue.Admit(analysts, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(queue.Admit(analysts, nullptr).status().code(), StatusCode::kResourceExhausted);
  Result<AdmissionQueue::Ticket> other = queue.Admit(etl, nullptr);
  ASSERT_TRUE(other.ok());
  auto counts = queue.AllCounts();
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts["etl"], (AdmissionCounts{1, 0}));
}

}  // namespace
}  // namespace basin::workgroup
