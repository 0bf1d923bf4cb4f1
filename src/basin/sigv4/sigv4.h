#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "basin/common/result.h"
#include "basin/common/status.h"

/// AWS Signature Version 4, basin's own (libcurl 7.88's CURLOPT_AWS_SIGV4 signs query
/// strings wrongly). Used by the S3 client to sign and by the server to verify requests
/// from AWS SDKs. Pure functions; thread-safe.
namespace basin::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when not using temporary credentials
};

/// An HTTP request as it goes over the wire.
struct Request {
  std::string method;  // "GET"
  std::string path;    // as sent on the request line, already percent-encoded, no query: "/b/k%20x"
  std::string query;   // as sent, without '?': "list-type=2&prefix=a%2Fb", may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case; includes Host
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Scope {
  std::string date;     // "20150830"
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
};

/// The canonical request (AWS docs, "Create a canonical request"). The path is
/// normalised and percent-encoded once more, except for service "s3", whose path is
/// used as sent. Query parameters are decoded, re-encoded (RFC 3986 unreserved set) and
/// sorted by name then value; a parameter without '=' ("?uploads") becomes "uploads=".
std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view service);

/// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256>".
std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request);

/// The derived signing key kSigning (raw bytes).
std::string SigningKey(std::string_view secret_access_key, const Scope& scope);

/// "20150830T123600Z" for a time point (UTC).
std::string FormatAmzDate(std::chrono::system_clock::time_point time);

/// The inverse of FormatAmzDate; InvalidArgument unless `text` is exactly
/// "YYYYMMDDTHHMMSSZ" with a valid date and time.
Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text);

/// Signs `request` in place: sets x-amz-date, x-amz-content-sha256 (service "s3" only),
/// x-amz-security-token (when the credentials have one) and Authorization. Signs every
/// header present (host and x-amz-* at least) except those the AWS SDKs never sign because
/// proxies and HTTP stacks rewrite them (user-agent, expect, connection, transfer-encoding,
/// proxy-*, ...). REQUIRES: Host header and payload_hash set.
void Sign(Request& request, const Credentials& credentials, std::string_view region,
          std::string_view service, std::chrono::system_clock::time_point now);

/// A parsed "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
struct Authorization {
  std::string access_key_id;
  Scope scope;
  std::vector<std::string> signed_headers;
  std::string signature;
};

/// Parses an Authorization header value. InvalidArgument naming the part that is wrong.
Result<Authorization> ParseAuthorization(std::string_view header_value);

/// Looks up the secret for an access key id; NotFound when there is no such key.
using SecretLookup = std::function<Result<std::string>(std::string_view access_key_id)>;

struct VerifyOptions {
  std::chrono::seconds max_clock_skew{std::chrono::minutes(15)};
};

/// Verifies a signed request received by a server. `body` is the received body: its
/// SHA-256 must match x-amz-content-sha256 when that header is present and not
/// UNSIGNED-PAYLOAD; without the header the body hash is what gets signed. Returns the
/// access key id on success; Unauthenticated naming the reason otherwise (missing or
/// malformed Authorization, unknown key, request time too far from `now`, signature
/// mismatch, body hash mismatch, a required header such as host or a present x-amz-*
/// header not signed). `request.payload_hash` is not used. A lookup error other than
/// NotFound is returned as it is (a broken key store is not the caller's fault);
/// x-amz-content-sha256 "STREAMING-*" (aws-chunked bodies) gives NotImplemented.
Result<std::string> Verify(const Request& request, std::string_view body,
                           const SecretLookup& lookup, std::chrono::system_clock::time_point now,
                           const VerifyOptions& options = {});

/// Percent-encodes `text` per AWS rules: unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
/// everything else becomes %XX (upper-case hex); '/' stays when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

/// Decodes %XX escapes (and nothing else; '+' stays '+').
std::string UriDecode(std::string_view text);

}  // namespace basin::sigv4
