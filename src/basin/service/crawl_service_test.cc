#include "basin/service/crawl_service.h"

#include <gtest/gtest.h>

#include "basin/crawler/crawl_test_fixture.h"

namespace basin::service {
namespace {

class CrawlServiceTest : public crawler::testing::CrawlFixture {};

INSTANTIATE_TEST_SUITE_P(Engines, CrawlServiceTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

TEST_P(CrawlServiceTest, RunsACrawlNowOrInTheBackground) {
  Put("sales/orders/dt=2026-11-24/part-0.csv", "id,amount\n1,3.5\n");
  Create("sales", "lake://sales/");
  CrawlService service(*crawler_);
  Result<crawler::RunReport> now = service.Run("sales");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->status, "completed");
  EXPECT_EQ(now->tables_created, std::vector<std::string>{"orders"});

  Put("sales/orders/dt=2026-11-25/part-0.csv", "id,amount\n2,4\n");
  Result<int64_t> started = service.Start("sales");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  Result<CrawlRunView> ended = service.Wait(*started);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->state, "completed") << ended->status.ToString();
  ASSERT_TRUE(ended->report);
  EXPECT_EQ(ended->report->tables_updated, std::vector<std::string>{"orders"});
  EXPECT_EQ(ended->progress.listed, 2);
  EXPECT_EQ(service.Cancel(*started).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service.Get(*started + 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service.Start("nobody").status().code(), StatusCode::kNotFound);
}

// The service's stop reaches a run under way on the caller's thread, which reports its
// progress to the caller (the CLI's progress line) as it goes.
TEST_P(CrawlServiceTest, StoppingTheServiceStopsARunUnderWay) {
  for (int i = 0; i < 50; ++i)
    Put("big/t/part-" + std::to_string(i) + ".csv", "a,b\n" + std::to_string(i) + ",x\n");
  Create("big", "lake://big/");
  CrawlService service(*crawler_);
  std::atomic<bool> cancel{false};
  crawler::CrawlProgress seen;
  crawler::CrawlOptions options{.on_progress =
                                    [&](const crawler::CrawlProgress& progress) {
                                      seen = progress;
                                      service.Stop();  // as `basin serve` does on SIGTERM
                                    },
                                .cancel = &cancel};
  Result<crawler::RunReport> report = service.Run("big", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->status, "cancelled");
  EXPECT_EQ(seen.listed, 50);
  EXPECT_FALSE(cancel.load());  // the caller's flag is the caller's
  EXPECT_EQ(crawler_->catalog().GetTable("lake", "t").status().code(), StatusCode::kNotFound);
}

TEST_P(CrawlServiceTest, ACancelledOrStoppedRunChangesNothing) {
  for (int i = 0; i < 400; ++i)
    Put("big/t/part-" + std::to_string(i) + ".csv", "a,b\n" + std::to_string(i) + ",x\n");
  Create("big", "lake://big/");
  CrawlService service(*crawler_);
  std::atomic<bool> cancel{true};
  Result<crawler::RunReport> cancelled = service.Run("big", {.cancel = &cancel});
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(crawler_->catalog().GetTable("lake", "t").status().code(), StatusCode::kNotFound);

  Result<int64_t> started = service.Start("big");
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(service.Cancel(*started).ok() ||
              service.Get(*started)->state != "running");  // it may have ended already
  Result<CrawlRunView> ended = service.Wait(*started);
  ASSERT_TRUE(ended.ok());
  EXPECT_NE(ended->state, "running");

  service.Stop();
  EXPECT_EQ(service.Start("big").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(service.Run("big").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace basin::service
