#include "basin/workgroup/admission_queue.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace basin::workgroup {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Quoted(const std::string& name) {
  return "'" + name + "'";
}

std::string DescribeMilliseconds(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0)
    return std::to_string(duration.count() / 1000) + " s";
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

AdmissionQueue::Ticket::Ticket(Ticket&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)),
      workgroup_(std::move(other.workgroup_)),
      queued_for_(other.queued_for_) {}

AdmissionQueue::Ticket& AdmissionQueue::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    queue_ = std::exchange(other.queue_, nullptr);
    workgroup_ = std::move(other.workgroup_);
    queued_for_ = other.queued_for_;
  }
  return *this;
}

void AdmissionQueue::Ticket::Release() {
  if (AdmissionQueue* queue = std::exchange(queue_, nullptr))
    queue->Release(workgroup_);
}

Result<AdmissionQueue::Ticket> AdmissionQueue::Admit(const Workgroup& workgroup,
                                                     const std::atomic<bool>* cancel) {
  const std::string& name = workgroup.name;
  auto cancelled = [cancel] {
    return cancel != nullptr && cancel->load();
  };
  if (cancelled())
    return Status::Cancelled("query cancelled before workgroup " + Quoted(name) + " admitted it");
  const SteadyClock::time_point start = SteadyClock::now();
  std::optional<SteadyClock::time_point> deadline;
  if (workgroup.queue_timeout.count() > 0)
    deadline = start + workgroup.queue_timeout;

  std::unique_lock lock(mutex_);
  WorkgroupState& state = states_.try_emplace(name).first->second;
  state.max_concurrent = std::max(1, workgroup.max_concurrent);
  AdmitWaiting(state);  // the limit may have been raised since the last call
  if (state.waiting.empty() && state.running < state.max_concurrent) {
    ++state.running;
    return Ticket(this, name, std::chrono::milliseconds(0));
  }
  // Not idle here (a query runs), so the state stays put until this call returns.
  if (static_cast<int64_t>(state.waiting.size()) >= workgroup.max_queued) {
    if (workgroup.max_queued <= 0) {
      return Status::ResourceExhausted("workgroup " + Quoted(name) + " runs its maximum of " +
                                       std::to_string(state.max_concurrent) +
                                       " queries and queues none; try again later");
    }
    size_t queued = state.waiting.size();
    return Status::ResourceExhausted(
        "workgroup " + Quoted(name) + " has " + std::to_string(queued) +
        (queued == 1 ? " query" : " queries") + " queued; try again later");
  }

  auto waiter = std::make_shared<Waiter>();
  state.waiting.push_back(waiter);
  // Leaves the queue after a timeout or cancel; a waiter in it keeps the state alive.
  auto give_up = [&](Status status) -> Status {
    state.waiting.erase(std::find(state.waiting.begin(), state.waiting.end(), waiter));
    AdmitWaiting(state);
    ForgetIfIdle(name);
    return status;
  };
  while (!waiter->admitted) {
    if (cancelled()) {
      return give_up(Status::Cancelled("query cancelled while waiting in the queue of workgroup " +
                                       Quoted(name)));
    }
    SteadyClock::time_point now = SteadyClock::now();
    if (deadline && now >= *deadline) {
      return give_up(Status::DeadlineExceeded(
          "query waited " + DescribeMilliseconds(workgroup.queue_timeout) +
          " in the queue of workgroup " + Quoted(name) + " (" +
          std::to_string(state.max_concurrent) +
          " queries at once); try again later or raise its queue_timeout"));
    }
    SteadyClock::time_point wake_at = now + kCancelPollInterval;
    if (deadline)
      wake_at = std::min(wake_at, *deadline);
    waiter->wake.wait_until(lock, wake_at);
  }
  return Ticket(this, name,
                std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start));
}

void AdmissionQueue::Release(const std::string& workgroup) {
  std::lock_guard lock(mutex_);
  auto found = states_.find(workgroup);
  if (found == states_.end())
    return;  // unreachable: a ticket's state stays until its slot is released
  --found->second.running;
  AdmitWaiting(found->second);
  ForgetIfIdle(workgroup);
}

void AdmissionQueue::AdmitWaiting(WorkgroupState& state) {
  while (!state.waiting.empty() && state.running < state.max_concurrent) {
    std::shared_ptr<Waiter> next = std::move(state.waiting.front());
    state.waiting.pop_front();
    ++state.running;
    next->admitted = true;
    next->wake.notify_one();
  }
}

void AdmissionQueue::ForgetIfIdle(const std::string& workgroup) {
  auto found = states_.find(workgroup);
  if (found != states_.end() && found->second.running == 0 && found->second.waiting.empty())
    states_.erase(found);
}

AdmissionCounts AdmissionQueue::Counts(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto found = states_.find(name);
  if (found == states_.end())
    return {};
  return {found->second.running, static_cast<int>(found->second.waiting.size())};
}

std::map<std::string, AdmissionCounts> AdmissionQueue::AllCounts() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, AdmissionCounts> counts;
  for (const auto& [name, state] : states_)
    counts[name] = {state.running, static_cast<int>(state.waiting.size())};
  return counts;
}

}  // namespace basin::workgroup
