// basin stream put: the records of a file into a stream, through the running server (only
// it holds the stream's write-ahead log). Batches are sent one after the other on one
// connection, so records arrive in file order. A 503 (the server's buffers or log are full,
// or the stream cannot deliver) refused the whole batch without a trace, so the batch is
// sent again after the Retry-After. A lost connection leaves a batch's fate unknown: put
// stops and names the first line of that batch, so nothing is sent twice by accident.
#include "basin/app/stream_put_command.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "basin/app/server_client.h"

namespace basin::app {
namespace {

constexpr size_t kBatchRecords = 500;
constexpr size_t kBatchBytes = 4u << 20;  // as PutRecordBatch
constexpr size_t kErrorsShown = 20;

struct Batch {
  std::string body;            // NDJSON
  std::vector<int64_t> lines;  // the input line of each record
  uint64_t input_bytes = 0;
};

// Reads records from NDJSON (one per non-blank line) or from one JSON array.
class RecordReader {
 public:
  static Result<RecordReader> Open(const std::string& file) {
    RecordReader reader;
    if (file != "-") {
      reader.file_.open(file, std::ios::binary);
      if (!reader.file_)
        return Status::NotFound("cannot read " + file);
      struct stat info {};
      if (::stat(file.c_str(), &info) == 0)
        reader.total_bytes_ = static_cast<uint64_t>(info.st_size);
    }
    std::istream& in = reader.in();
    while (in && std::isspace(in.peek())) {
      if (in.get() == '\n')
        ++reader.line_;
    }
    if (in.peek() == '[') {
      nlohmann::json array = nlohmann::json::parse(in, nullptr, false);
      if (array.is_discarded() || !array.is_array())
        return Status::InvalidArgument(
            file + ": starts with '[' but is not a JSON array (send NDJSON or one array)");
      for (const nlohmann::json& record : array)
        reader.array_.push_back(
            record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      reader.from_array_ = true;
    }
    return reader;
  }

  uint64_t total_bytes() const { return total_bytes_; }

  // Fills `batch`; false at the end of the input.
  bool Next(Batch& batch) {
    batch = {};
    std::string line;
    while (batch.lines.size() < kBatchRecords && batch.body.size() < kBatchBytes) {
      if (from_array_) {
        if (next_ >= array_.size())
          break;
        line = std::move(array_[next_++]);
        batch.lines.push_back(static_cast<int64_t>(next_));  // the element's position
      } else {
        if (!std::getline(in(), line))
          break;
        ++line_;
        batch.input_bytes += line.size() + 1;
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos)
          continue;
        batch.lines.push_back(line_);
      }
      batch.body += line;
      batch.body += '\n';
    }
    if (from_array_)
      batch.input_bytes = batch.body.size();
    return !batch.lines.empty();
  }

 private:
  std::istream& in() { return file_.is_open() ? static_cast<std::istream&>(file_) : std::cin; }

  std::ifstream file_;
  uint64_t total_bytes_ = 0;
  int64_t line_ = 0;
  bool from_array_ = false;
  std::vector<std::string> array_;
  size_t next_ = 0;
};

struct Totals {
  int64_t records = 0, accepted = 0, failed = 0;
  nlohmann::json errors = nlohmann::json::array();
};

// Sleeps for a Retry-After (seconds), in steps so Ctrl-C is prompt.
void WaitToRetry(const std::string& retry_after) {
  int seconds = std::max(1, std::atoi(retry_after.c_str()));
  for (int i = 0; i < seconds * 10 && !interrupted; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

int RunStreamPut(const GlobalFlags& flags, const StreamPutFlags& put) {
  Result<std::unique_ptr<Home>> home = OpenHome(flags);
  if (!home.ok())
    return ReportError(home.status());
  Result<RecordReader> reader = RecordReader::Open(put.file);
  if (!reader.ok())
    return ReportError(reader.status());
  Result<std::unique_ptr<ServerClient>> client = ServerClient::Connect(**home, put.url, put.token);
  if (!client.ok())
    return ReportError(client.status());
  InstallInterruptFlag();

  const std::string path = "/api/streams/" + put.name + "/records";
  const std::string source = put.file == "-" ? "stdin" : put.file;
  ProgressBar progress("sending " + source, reader->total_bytes());
  auto started = std::chrono::steady_clock::now();
  Totals totals;
  Batch batch;
  bool told_busy = false;
  while (!interrupted && reader->Next(batch)) {
    Result<ServerResponse> response = Status::Internal("not sent");
    while (!interrupted) {
      response = (*client)->Post(path, batch.body, "application/x-ndjson");
      if (!response.ok() || response->status != 503)
        break;
      if (!told_busy) {
        std::fprintf(stderr, "\nbasin: the server is busy (%s); retrying\n",
                     ErrorMessageOf(*response).c_str());
        told_busy = true;
      }
      WaitToRetry(response->retry_after);
    }
    if (interrupted)
      break;
    if (!response.ok() || response->status != 200) {
      progress.Finish();
      Status failed =
          response.ok()
              ? Status::InvalidArgument("stream " + put.name + ": " + ErrorMessageOf(*response))
              : response.status();
      return ReportError(failed.WithContext(
          std::to_string(totals.records) + " records acknowledged; the batch from " + source +
          " line " + std::to_string(batch.lines.front()) + " on may not have been"));
    }
    nlohmann::json answer = nlohmann::json::parse(response->body, nullptr, false);
    if (!answer.is_object() || !answer["accepted"].is_number_integer())
      return ReportError(
          Status::Internal("unexpected answer from the server: " + response->body.substr(0, 200)));
    totals.records += static_cast<int64_t>(batch.lines.size());
    totals.accepted += answer["accepted"].get<int64_t>();
    totals.failed += answer["failed"].get<int64_t>();
    for (const nlohmann::json& error : answer["errors"]) {
      size_t index = error.value("index", size_t{0});
      if (totals.errors.size() < 1000)
        totals.errors.push_back({{"line", index < batch.lines.size() ? batch.lines[index] : 0},
                                 {"code", error.value("code", "")},
                                 {"message", error.value("message", "")}});
    }
    progress.Add(batch.input_bytes);
  }
  progress.Finish();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (flags.json) {
    PrintJson({{"stream", put.name},
               {"records", totals.records},
               {"accepted", totals.accepted},
               {"failed", totals.failed},
               {"errors", totals.errors},
               {"seconds", seconds},
               {"interrupted", interrupted.load()}});
  } else {
    std::printf("sent %lld records to stream %s in %.1f s: %lld accepted, %lld failed\n",
                static_cast<long long>(totals.records), put.name.c_str(), seconds,
                static_cast<long long>(totals.accepted), static_cast<long long>(totals.failed));
    for (size_t i = 0; i < totals.errors.size() && i < kErrorsShown; ++i) {
      const nlohmann::json& error = totals.errors[i];
      std::fprintf(stderr, "  %s line %lld: %s: %s\n", source.c_str(),
                   static_cast<long long>(error["line"].get<int64_t>()),
                   error["code"].get<std::string>().c_str(),
                   error["message"].get<std::string>().c_str());
    }
    if (totals.failed > 0)
      std::fprintf(stderr, "  (the failed records were written to the stream's error prefix)\n");
  }
  if (interrupted) {
    std::fprintf(stderr, "basin: interrupted; %lld records were acknowledged\n",
                 static_cast<long long>(totals.records));
    return kExitInterrupted;
  }
  return totals.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace basin::app
