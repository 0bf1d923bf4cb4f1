#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "basin/sigv4/sigv4.h"
#include "basin/storage/http_client.h"
#include "basin/storage/object_store.h"

namespace basin::storage {

struct S3Options {
  /// "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000". Empty: AWS for `region`.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  // the store's root inside the bucket, no leading '/'
  /// Path-style ("endpoint/bucket/key") rather than virtual-host style
  /// ("bucket.endpoint/key"); MinIO, Ceph RGW and most self-hosted servers want path-style.
  bool path_style = true;
  sigv4::Credentials credentials;
  /// Objects larger than one part are uploaded in parts of this size (S3 minimum 5 MiB).
  size_t part_size = 8 << 20;
  /// Attempts for a request that failed with 5xx, 429 or no answer.
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{100};
  HttpClientOptions http;

  /// Fills empty fields from the usual AWS variables: AWS_ACCESS_KEY_ID,
  /// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION,
  /// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
  void FillFromEnvironment();
};

/// An ObjectStore over an S3-compatible service (AWS S3, MinIO, Ceph RGW), signing with
/// basin's SigV4. Listing pages with continuation tokens; large writes use multipart
/// upload, aborted on failure. Retries 5xx/429/unanswered requests with exponential backoff.
/// Errors: 403 -> PermissionDenied with S3's code; missing bucket -> FailedPrecondition;
/// missing key -> NotFound; unreachable endpoint -> Unavailable.
class S3ObjectStore final : public ObjectStore {
 public:
  /// InvalidArgument for an endpoint that is not an http(s) URL or an empty bucket.
  static Result<std::unique_ptr<S3ObjectStore>> Make(S3Options options);

  std::string Describe() const override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix,
                                       const ListOptions& options) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<std::unique_ptr<RandomAccessReader>> OpenForRead(std::string_view key) override;
  Result<std::unique_ptr<RandomAccessReader>> OpenListedForRead(const ObjectInfo& listed) override;
  Result<std::unique_ptr<ObjectWriter>> OpenForWrite(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Status Copy(std::string_view source_key, std::string_view target_key) override;
  StoreCounters counters() const override;
  bool is_remote() const override { return true; }

  /// One signed request, retried as described above. `key` is relative to the root ("" for
  /// the bucket); `query` is a raw query string. Exposed for the multipart writer and tests.
  struct Call {
    std::string method;
    std::string key;
    bool key_is_bucket = false;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;
    char* body_out = nullptr;
    size_t body_out_capacity = 0;
  };
  Result<HttpResponse> Send(const Call& call);

  /// Turns a non-2xx answer into a Status: "<what>: s3://bucket/key (HTTP 403 AccessDenied: ...)".
  Status ErrorFor(std::string_view what, const std::string& key,
                  const HttpResponse& response) const;

  const S3Options& options() const { return options_; }
  /// The full object key in the bucket for a store key: prefix + key.
  std::string FullKey(const std::string& key) const;

 private:
  explicit S3ObjectStore(S3Options options, std::string scheme, std::string host_port,
                         std::string base_path);

  S3Options options_;
  std::string scheme_;     // "http" / "https"
  std::string host_port_;  // "127.0.0.1:9000"
  std::string base_path_;  // path part of the endpoint, usually ""
  HttpClient http_;
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> read_requests_{0};

  friend class S3Reader;
};

}  // namespace basin::storage
