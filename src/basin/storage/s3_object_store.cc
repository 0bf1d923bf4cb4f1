#include "basin/storage/s3_object_store.h"

#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

#include <pugixml.hpp>

#include "basin/common/crypto.h"

namespace basin::storage {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A key for x-amz-copy-source: percent-encoded, except the sub-delimiters that S3 decodes
// to themselves either way. Servers that decode the header with JavaScript's decodeURI
// (s3rver) leave "%3D" encoded and would not find "dt=2026-11-24/..."; copies out of Hive
// partition folders (`basin cp`, the engine's MoveFile) must work there too. '+', '?' and
// '#' stay encoded: S3 could read them as a space, a version query or a fragment.
std::string CopySourceKey(std::string_view key) {
  std::string out;
  out.reserve(key.size() * 3);
  for (size_t i = 0; i < key.size(); ++i) {
    if (std::string_view("=:@,;$&").find(key[i]) != std::string_view::npos)
      out.push_back(key[i]);
    else
      out += sigv4::UriEncode(key.substr(i, 1), true);
  }
  return out;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool Retryable(long status) {
  return status == 429 || status >= 500;
}

// Parses "2026-11-24T10:00:00.000Z" (ISO 8601, UTC) and "Tue, 24 Nov 2026 10:00:00 GMT".
std::chrono::system_clock::time_point ParseTime(const std::string& text) {
  struct tm parts {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  if (end == nullptr)
    end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &parts);
  if (end == nullptr)
    return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

std::string Unquote(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void S3Options::FillFromEnvironment() {
  if (credentials.access_key_id.empty()) {
    credentials.access_key_id = EnvOr("AWS_ACCESS_KEY_ID", "");
    credentials.secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY", "");
    credentials.session_token = EnvOr("AWS_SESSION_TOKEN", "");
  }
  if (region.empty() || region == "us-east-1")
    region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", region));
  if (endpoint.empty())
    endpoint = EnvOr("AWS_ENDPOINT_URL_S3", EnvOr("AWS_ENDPOINT_URL", ""));
}

// --- reader ------------------------------------------------------------------------

class S3Reader final : public RandomAccessReader {
 public:
  S3Reader(S3ObjectStore* store, ObjectInfo info)
      : store_(store), key_(info.key), size_(info.size), info_(std::move(info)) {}

  uint64_t size() const override { return size_; }
  const ObjectInfo& info() const override { return info_; }

  Result<size_t> ReadAt(uint64_t offset, size_t length, char* out) override {
    if (offset >= size_ || length == 0)
      return size_t{0};
    length = static_cast<size_t>(std::min<uint64_t>(length, size_ - offset));
    S3ObjectStore::Call call;
    call.method = "GET";
    call.key = key_;
    call.headers = {
        {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
    call.body_out = out;
    call.body_out_capacity = length;
    BASIN_ASSIGN_OR_RETURN(HttpResponse response, store_->Send(call));
    if (response.status == 416)
      return size_t{0};
    if (response.status != 206 && response.status != 200) {
      return store_->ErrorFor("ranged read failed", key_, response);
    }
    if (response.status == 200 && offset != 0) {
      return Status::Internal("server ignored the Range header: " + store_->Describe() + "/" +
                              key_);
    }
    store_->bytes_read_.fetch_add(response.body_out_size, std::memory_order_relaxed);
    store_->read_requests_.fetch_add(1, std::memory_order_relaxed);
    return response.body_out_size;
  }

 private:
  S3ObjectStore* store_;
  std::string key_;
  uint64_t size_;
  ObjectInfo info_;
};

// --- writer: one PUT for small objects, multipart upload for larger ones -------------

class S3Writer final : public ObjectWriter {
 public:
  S3Writer(S3ObjectStore* store, std::string key) : store_(store), key_(std::move(key)) {}
  ~S3Writer() override {
    if (!closed_)
      (void)Abort();
  }

  Status Append(std::string_view data) override {
    if (closed_)
      return Status::FailedPrecondition("write after close: " + Where());
    buffer_.append(data);
    while (buffer_.size() >= store_->options().part_size) {
      Status status = UploadPart(buffer_.substr(0, store_->options().part_size));
      if (!status.ok())
        return Fail(status);
      buffer_.erase(0, store_->options().part_size);
    }
    return Status::OK();
  }

  Status Close() override {
    if (closed_)
      return Status::FailedPrecondition("object already closed: " + Where());
    if (upload_id_.empty()) {
      S3ObjectStore::Call call{.method = "PUT", .key = key_, .body = buffer_};
      BASIN_ASSIGN_OR_RETURN(HttpResponse response, store_->Send(call));
      closed_ = true;
      if (response.status != 200)
        return store_->ErrorFor("write failed", key_, response);
      return Status::OK();
    }
    if (!buffer_.empty() || parts_.empty()) {
      Status status = UploadPart(buffer_);
      if (!status.ok())
        return Fail(status);
      buffer_.clear();
    }
    std::string body = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts_.size(); ++i) {
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              XmlEscape(parts_[i]) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    S3ObjectStore::Call call{.method = "POST",
                             .key = key_,
                             .query = "uploadId=" + sigv4::UriEncode(upload_id_, false),
                             .headers = {{"Content-Type", "application/xml"}},
                             .body = body};
    Result<HttpResponse> response = store_->Send(call);
    if (!response.ok())
      return Fail(response.status());
    // S3 may answer 200 with an <Error> body when completion fails late.
    if (response->status != 200 || response->body.find("<Error>") != std::string::npos) {
      return Fail(store_->ErrorFor("completing multipart upload failed", key_, *response));
    }
    closed_ = true;
    return Status::OK();
  }

  Status Abort() override {
    closed_ = true;
    buffer_.clear();
    if (upload_id_.empty())
      return Status::OK();
    std::string upload_id = std::exchange(upload_id_, "");
    S3ObjectStore::Call call{
        .method = "DELETE", .key = key_, .query = "uploadId=" + sigv4::UriEncode(upload_id, false)};
    BASIN_ASSIGN_OR_RETURN(HttpResponse response, store_->Send(call));
    if (response.status == 204 || response.status == 200 || response.status == 404)
      return Status::OK();
    if (response.status == 405 || response.status == 501) {
      // Some servers (s3rver among them) do not implement AbortMultipartUpload. The
      // object never became visible; only the uploaded parts linger until the bucket's
      // lifecycle rules remove them.
      return Status::NotImplemented(
          "the S3 server does not support aborting multipart upload " + upload_id + " of " +
          Where() + " (HTTP " + std::to_string(response.status) +
          "); the object was not written, its parts remain on the server");
    }
    return store_->ErrorFor("aborting multipart upload failed", key_, response);
  }

 private:
  std::string Where() const { return store_->Describe() + "/" + key_; }

  // Fails the write: aborts the upload and reports the first error (and the abort's, if any).
  Status Fail(const Status& cause) {
    Status abort = Abort();
    if (abort.ok())
      return cause;
    return Status(cause.code(), cause.message() + "; then " + abort.message());
  }

  Status Begin() {
    S3ObjectStore::Call call{.method = "POST", .key = key_, .query = "uploads"};
    BASIN_ASSIGN_OR_RETURN(HttpResponse response, store_->Send(call));
    if (response.status != 200)
      return store_->ErrorFor("starting multipart upload failed", key_, response);
    pugi::xml_document doc;
    doc.load_buffer(response.body.data(), response.body.size());
    upload_id_ = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
    if (upload_id_.empty())
      return Status::Internal("no UploadId in the answer for " + Where());
    return Status::OK();
  }

  Status UploadPart(std::string_view data) {
    if (upload_id_.empty())
      BASIN_RETURN_IF_ERROR(Begin());
    int number = static_cast<int>(parts_.size()) + 1;
    S3ObjectStore::Call call{.method = "PUT",
                             .key = key_,
                             .query = "partNumber=" + std::to_string(number) +
                                      "&uploadId=" + sigv4::UriEncode(upload_id_, false),
                             .body = data};
    BASIN_ASSIGN_OR_RETURN(HttpResponse response, store_->Send(call));
    if (response.status != 200)
      return store_->ErrorFor("uploading part " + std::to_string(number) + " failed", key_,
                              response);
    parts_.push_back(response.headers["etag"]);
    return Status::OK();
  }

  S3ObjectStore* store_;
  std::string key_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> parts_;  // ETags, quoted as received
  bool closed_ = false;
};

// --- store -------------------------------------------------------------------------

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Make(S3Options options) {
  if (options.bucket.empty())
    return Status::InvalidArgument("S3 location has no bucket");
  if (options.endpoint.empty())
    options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  std::string endpoint = options.endpoint;
  size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) {
    return Status::InvalidArgument("S3 endpoint is not an http(s) URL: '" + endpoint + "'");
  }
  std::string scheme = endpoint.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("S3 endpoint is not an http(s) URL: '" + endpoint + "'");
  }
  std::string rest = endpoint.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string host_port = rest.substr(0, slash);
  std::string base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base_path.empty() && base_path.back() == '/')
    base_path.pop_back();
  if (host_port.empty())
    return Status::InvalidArgument("S3 endpoint has no host: '" + endpoint + "'");
  // Drop default ports: SigV4 signs the Host header as curl sends it.
  if (scheme == "http" && host_port.ends_with(":80"))
    host_port.resize(host_port.size() - 3);
  if (scheme == "https" && host_port.ends_with(":443"))
    host_port.resize(host_port.size() - 4);
  BASIN_ASSIGN_OR_RETURN(std::string prefix, NormalizePrefix(options.prefix));
  if (!prefix.empty() && prefix.back() != '/')
    prefix.push_back('/');
  options.prefix = prefix;
  if (options.part_size < (5u << 20))
    options.part_size = 5u << 20;
  return std::unique_ptr<S3ObjectStore>(
      new S3ObjectStore(std::move(options), scheme, host_port, base_path));
}

S3ObjectStore::S3ObjectStore(S3Options options, std::string scheme, std::string host_port,
                             std::string base_path)
    : options_(std::move(options)),
      scheme_(std::move(scheme)),
      host_port_(std::move(host_port)),
      base_path_(std::move(base_path)),
      http_(options_.http) {}

std::string S3ObjectStore::Describe() const {
  std::string root = "s3://" + options_.bucket;
  if (!options_.prefix.empty())
    root += "/" + options_.prefix.substr(0, options_.prefix.size() - 1);
  return root;
}

std::string S3ObjectStore::FullKey(const std::string& key) const {
  return options_.prefix + key;
}

Result<HttpResponse> S3ObjectStore::Send(const Call& call) {
  std::string host = options_.path_style ? host_port_ : options_.bucket + "." + host_port_;
  std::string path = base_path_;
  if (options_.path_style)
    path += "/" + sigv4::UriEncode(options_.bucket, false);
  // Bucket requests go to "/bucket" in path style (S3 accepts it with or without the
  // slash; s3rver signs only the form without), and to "/" on a virtual host.
  if (!call.key_is_bucket) {
    path += "/" + sigv4::UriEncode(FullKey(call.key), true);
  } else if (!options_.path_style) {
    path += "/";
  }

  Status last_error;
  std::chrono::milliseconds backoff = options_.first_backoff;
  static thread_local std::mt19937 jitter(std::random_device{}());
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    sigv4::Request signed_request;
    signed_request.method = call.method;
    signed_request.path = path;
    signed_request.query = call.query;
    signed_request.headers = call.headers;
    signed_request.headers.emplace_back("Host", host);
    signed_request.payload_hash =
        call.body.empty() ? std::string(kEmptySha256) : Sha256Hex(call.body);
    sigv4::Sign(signed_request, options_.credentials, options_.region, "s3",
                std::chrono::system_clock::now());

    HttpRequest request;
    request.method = call.method;
    request.url = scheme_ + "://" + host + path + (call.query.empty() ? "" : "?" + call.query);
    request.headers = std::move(signed_request.headers);
    request.body = call.body;
    request.body_out = call.body_out;
    request.body_out_capacity = call.body_out_capacity;
    Result<HttpResponse> response = http_.Send(request);
    if (response.ok() && !Retryable(response->status))
      return response;
    last_error =
        response.ok() ? ErrorFor(call.method + " failed", call.key, *response) : response.status();
    if (attempt < options_.max_attempts) {
      auto sleep = backoff + std::chrono::milliseconds(jitter() % (backoff.count() + 1));
      std::this_thread::sleep_for(sleep);
      backoff *= 2;
    }
  }
  return Status(
      last_error.code() == StatusCode::kUnavailable || last_error.code() == StatusCode::kInternal
          ? StatusCode::kUnavailable
          : last_error.code(),
      last_error.message() + " (after " + std::to_string(options_.max_attempts) + " attempts)");
}

Status S3ObjectStore::ErrorFor(std::string_view what, const std::string& key,
                               const HttpResponse& response) const {
  std::string code;
  std::string message;
  if (!response.body.empty()) {
    pugi::xml_document doc;
    if (doc.load_buffer(response.body.data(), response.body.size())) {
      code = doc.child("Error").child_value("Code");
      message = doc.child("Error").child_value("Message");
    }
  }
  std::string where = Describe() + (key.empty() ? "" : "/" + key);
  std::string detail = "HTTP " + std::to_string(response.status);
  if (!code.empty())
    detail += " " + code;
  if (!message.empty())
    detail += ": " + message;
  std::string text = std::string(what) + ": " + where + " (" + detail + ")";
  if (code == "NoSuchBucket") {
    return Status::FailedPrecondition("bucket does not exist: s3://" + options_.bucket + " at " +
                                      options_.endpoint + " (" + detail + ")");
  }
  switch (response.status) {
    case 400:
      return Status::InvalidArgument(text);
    case 401:
    case 403:
      return Status::PermissionDenied(text + "; check the access key, secret and region");
    case 404:
      return Status::NotFound(text);
    case 409:
    case 412:
      return Status::FailedPrecondition(text);
    case 429:
      return Status::ResourceExhausted(text);
    default:
      break;
  }
  if (response.status >= 500)
    return Status::Unavailable(text);
  return Status::Internal(text);
}

Result<std::vector<ObjectInfo>> S3ObjectStore::List(std::string_view prefix,
                                                    const ListOptions& options) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizePrefix(prefix));
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    std::string query = "list-type=2&prefix=" + sigv4::UriEncode(FullKey(normalized), false);
    if (!options.recursive)
      query += "&delimiter=%2F";
    if (!token.empty())
      query += "&continuation-token=" + sigv4::UriEncode(token, false);
    Call call{.method = "GET", .key_is_bucket = true, .query = query};
    BASIN_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
    if (response.status != 200)
      return ErrorFor("listing failed", normalized, response);
    pugi::xml_document doc;
    pugi::xml_node result;
    if (doc.load_buffer(response.body.data(), response.body.size()))
      result = doc.child("ListBucketResult");
    if (!result) {
      return Status::Unavailable("listing failed: " + Describe() + "/" + normalized +
                                 " (the answer is not an S3 listing; is the endpoint " +
                                 options_.endpoint + " an S3 API?)");
    }
    for (pugi::xml_node item : result.children("Contents")) {
      std::string key = item.child_value("Key");
      if (key.rfind(options_.prefix, 0) != 0)
        continue;
      ObjectInfo info;
      info.key = key.substr(options_.prefix.size());
      info.size = std::strtoull(item.child_value("Size"), nullptr, 10);
      info.modified = ParseTime(item.child_value("LastModified"));
      info.etag = Unquote(item.child_value("ETag"));
      out.push_back(std::move(info));
    }
    for (pugi::xml_node item : result.children("CommonPrefixes")) {
      std::string key = item.child_value("Prefix");
      if (key.rfind(options_.prefix, 0) != 0)
        continue;
      ObjectInfo info;
      info.key = key.substr(options_.prefix.size());
      info.is_prefix = true;
      out.push_back(std::move(info));
    }
    bool truncated = std::string_view(result.child_value("IsTruncated")) == "true";
    token = truncated ? result.child_value("NextContinuationToken") : "";
    if (truncated && token.empty())
      return Status::Internal("truncated listing without a continuation token");
  } while (!token.empty());
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<ObjectInfo> S3ObjectStore::Stat(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  Call call{.method = "HEAD", .key = normalized};
  BASIN_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
  if (response.status == 404)
    return Status::NotFound("no such object: " + Describe() + "/" + normalized);
  if (response.status != 200)
    return ErrorFor("stat failed", normalized, response);
  ObjectInfo info;
  info.key = normalized;
  info.size = std::strtoull(response.headers["content-length"].c_str(), nullptr, 10);
  info.modified = ParseTime(response.headers["last-modified"]);
  info.etag = Unquote(response.headers["etag"]);
  return info;
}

Result<std::unique_ptr<RandomAccessReader>> S3ObjectStore::OpenForRead(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key));
  return std::unique_ptr<RandomAccessReader>(new S3Reader(this, std::move(info)));
}

Result<std::unique_ptr<RandomAccessReader>> S3ObjectStore::OpenListedForRead(
    const ObjectInfo& listed) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(listed.key));
  ObjectInfo info = listed;
  info.key = normalized;
  return std::unique_ptr<RandomAccessReader>(new S3Reader(this, std::move(info)));
}

Result<std::unique_ptr<ObjectWriter>> S3ObjectStore::OpenForWrite(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  if (normalized.back() == '/')
    return Status::InvalidArgument("object key ends with '/': " + normalized);
  return std::unique_ptr<ObjectWriter>(new S3Writer(this, normalized));
}

Status S3ObjectStore::Delete(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string normalized, NormalizeKey(key));
  Call call{.method = "DELETE", .key = normalized};
  BASIN_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
  if (response.status == 204 || response.status == 200 || response.status == 404)
    return Status::OK();
  return ErrorFor("delete failed", normalized, response);
}

Status S3ObjectStore::Copy(std::string_view source_key, std::string_view target_key) {
  BASIN_ASSIGN_OR_RETURN(std::string source, NormalizeKey(source_key));
  BASIN_ASSIGN_OR_RETURN(std::string target, NormalizeKey(target_key));
  std::string copy_source = "/" + options_.bucket + "/" + CopySourceKey(FullKey(source));
  Call call{.method = "PUT", .key = target, .headers = {{"x-amz-copy-source", copy_source}}};
  BASIN_ASSIGN_OR_RETURN(HttpResponse response, Send(call));
  if (response.status != 200 || response.body.find("<Error>") != std::string::npos) {
    if (response.status == 404)
      return Status::NotFound("copy source not found: " + Describe() + "/" + source);
    return ErrorFor("copy failed", target, response);
  }
  return Status::OK();
}

StoreCounters S3ObjectStore::counters() const {
  return {bytes_read_.load(std::memory_order_relaxed),
          read_requests_.load(std::memory_order_relaxed)};
}

}  // namespace basin::storage
