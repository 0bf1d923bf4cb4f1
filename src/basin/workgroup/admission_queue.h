#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "basin/common/result.h"
#include "basin/workgroup/workgroup.h"

namespace basin::workgroup {

/// How many queries of one workgroup run and wait right now.
struct AdmissionCounts {
  int running = 0;
  int queued = 0;

  friend bool operator==(const AdmissionCounts&, const AdmissionCounts&) = default;
};

/// Admission control for queries, per workgroup: at most `max_concurrent` queries of a
/// workgroup run at once; later ones wait in first-in, first-out order, up to
/// `max_queued` of them and for at most `queue_timeout`.
///
/// Limits come from the Workgroup passed to each Admit, so a changed workgroup takes
/// effect with its next query: a raised max_concurrent admits waiting queries at once; a
/// lowered one lets running queries finish and admits no more until they drop below it.
/// Workgroups are told apart by name. The counts live in this process only: several
/// basin nodes sharing one metadata database each admit up to max_concurrent.
///
/// Thread-safe. The queue must outlive every Ticket it hands out.
class AdmissionQueue {
 public:
  /// How often a waiting Admit looks at its cancel flag (nothing signals a change of it).
  static constexpr std::chrono::milliseconds kCancelPollInterval{20};

  /// A running query's slot: released when the Ticket is destroyed (or Release() is
  /// called), which admits the longest-waiting query of the workgroup. Move-only; a
  /// default-constructed or moved-from Ticket holds no slot.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Release(); }

    /// Gives the slot back now. Idempotent.
    void Release();

    bool holds_slot() const { return queue_ != nullptr; }
    const std::string& workgroup() const { return workgroup_; }
    /// How long the query waited in the queue (zero when a slot was free).
    std::chrono::milliseconds queued_for() const { return queued_for_; }

   private:
    friend class AdmissionQueue;
    Ticket(AdmissionQueue* queue, std::string workgroup, std::chrono::milliseconds queued_for)
        : queue_(queue), workgroup_(std::move(workgroup)), queued_for_(queued_for) {}

    AdmissionQueue* queue_ = nullptr;
    std::string workgroup_;
    std::chrono::milliseconds queued_for_{0};
  };

  AdmissionQueue() = default;
  AdmissionQueue(const AdmissionQueue&) = delete;
  AdmissionQueue& operator=(const AdmissionQueue&) = delete;

  /// Returns a Ticket once a query of `workgroup` may run; blocks while max_concurrent of
  /// its queries run (and while earlier ones wait). Errors, each naming the workgroup:
  ///   ResourceExhausted when max_queued queries already wait ("workgroup 'x' has 100
  ///     queries queued; try again later"), without waiting;
  ///   DeadlineExceeded after waiting queue_timeout (0: no time limit);
  ///   Cancelled when `*cancel` is or becomes true (checked every kCancelPollInterval;
  ///     `cancel` may be null).
  Result<Ticket> Admit(const Workgroup& workgroup, const std::atomic<bool>* cancel);

  /// The counts of workgroup `name` (zeros when none of its queries run or wait).
  AdmissionCounts Counts(std::string_view name) const;
  /// The counts of every workgroup with a query running or waiting, by name.
  std::map<std::string, AdmissionCounts> AllCounts() const;

 private:
  // One Admit call that waits.
  struct Waiter {
    bool admitted = false;
    std::condition_variable wake;
  };
  struct WorkgroupState {
    int running = 0;
    int max_concurrent = 1;  // from the latest Admit
    std::deque<std::shared_ptr<Waiter>> waiting;
  };

  void Release(const std::string& workgroup);
  // Hands free slots to waiters, oldest first. REQUIRES: mutex_ held.
  static void AdmitWaiting(WorkgroupState& state);
  // Forgets the state of an idle workgroup. REQUIRES: mutex_ held.
  void ForgetIfIdle(const std::string& workgroup);

  mutable std::mutex mutex_;
  std::map<std::string, WorkgroupState, std::less<>> states_;  // GUARDED_BY(mutex_)
};

}  // namespace basin::workgroup
