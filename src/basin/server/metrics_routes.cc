// GET /metrics: Prometheus text for scrapers. Like every endpoint but /healthz it needs a
// credential (a scraper sends an API token as a bearer token); viewers may read it.
#include <httplib.h>

#include "basin/delivery/stream_metrics.h"
#include "basin/server/api_server.h"

namespace basin::server {

void ApiServer::RegisterMetricsRoutes() {
  Route("GET", "/metrics", Access::kViewer,
        [this](const httplib::Request&, httplib::Response& response, const RequestContext&) {
          std::map<std::string, delivery::StreamStats> stats;
          if (stream_service_ != nullptr && streams_ != nullptr) {
            Result<std::vector<stream::StoredStream>> defined = streams_->List();
            if (!defined.ok())
              return WriteError(response, defined.status());
            std::map<std::string, delivery::StreamStats> live = stream_service_->AllStats();
            for (const stream::StoredStream& stored : *defined) {
              auto found = live.find(stored.definition.name);
              stats[stored.definition.name] =
                  found == live.end() ? delivery::StreamStats{} : found->second;
            }
          }
          uint64_t buffered = stream_service_ ? stream_service_->BufferedBytes() : 0;
          uint64_t limit = stream_service_ ? stream_service_->max_buffered_bytes() : 0;
          response.status = 200;
          response.set_content(delivery::PrometheusText(stats, buffered, limit),
                               "text/plain; version=0.0.4; charset=utf-8");
        });
}

}  // namespace basin::server
