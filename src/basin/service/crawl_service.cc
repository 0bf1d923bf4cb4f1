#include "basin/service/crawl_service.h"

namespace basin::service {

CrawlService::~CrawlService() {
  Stop();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, run] : runs_) {
      if (run->thread.joinable())
        threads.push_back(std::move(run->thread));
    }
  }
  for (std::thread& thread : threads)
    thread.join();
}

void CrawlService::Stop() {
  stopping_ = true;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, run] : runs_)
    run->cancel = true;
}

Result<crawler::RunReport> CrawlService::Run(const std::string& name,
                                             crawler::CrawlOptions options) {
  if (stopping_)
    return Status::Unavailable("the server is stopping: crawls are not started");
  options.stop = &stopping_;
  return crawler_.Run(name, options);
}

Result<int64_t> CrawlService::Start(const std::string& name) {
  if (stopping_)
    return Status::Unavailable("the server is stopping: crawls are not started");
  BASIN_RETURN_IF_ERROR(crawler_.store().Get(name).status());
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t id = next_id_++;
  auto run = std::make_unique<RunState>();
  run->view = {.id = id, .crawler = name, .state = "running"};
  RunState* state = run.get();
  run->thread = std::thread([this, state, name] {
    crawler::CrawlOptions options;
    options.cancel = &state->cancel;
    options.stop = &stopping_;
    options.on_progress = [this, state](const crawler::CrawlProgress& progress) {
      std::lock_guard<std::mutex> lock(mutex_);
      state->view.progress = progress;
    };
    Result<crawler::RunReport> report = crawler_.Run(name, options);
    std::lock_guard<std::mutex> lock(mutex_);
    if (report.ok())
      state->view.report = *report;
    state->view.status = report.status();
    state->view.state = state->cancel ? "cancelled" : report.ok() ? report->status : "failed";
    ended_.notify_all();
  });
  runs_.emplace(id, std::move(run));
  return id;
}

Result<CrawlRunView> CrawlService::Get(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = runs_.find(id);
  if (found == runs_.end())
    return Status::NotFound("no crawl run " + std::to_string(id));
  return found->second->view;
}

Result<CrawlRunView> CrawlService::Wait(int64_t id) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto found = runs_.find(id);
  if (found == runs_.end())
    return Status::NotFound("no crawl run " + std::to_string(id));
  RunState& run = *found->second;
  ended_.wait(lock, [&] { return run.view.state != "running"; });
  return run.view;
}

Status CrawlService::Cancel(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = runs_.find(id);
  if (found == runs_.end())
    return Status::NotFound("no crawl run " + std::to_string(id));
  if (found->second->view.state != "running")
    return Status::FailedPrecondition("crawl run " + std::to_string(id) + " has ended (" +
                                      found->second->view.state + ")");
  found->second->cancel = true;
  return Status::OK();
}

}  // namespace basin::service
