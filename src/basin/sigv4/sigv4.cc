// Signing requests (client side) and verifying them (server side).

#include "basin/sigv4/sigv4.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/crypto.h"
#include "basin/sigv4/sigv4_internal.h"

namespace basin::sigv4 {
namespace {

using internal::AsciiLower;
using internal::HeaderValues;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos)
    return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

// Quotes untrusted text for an error message, cut short so a hostile header cannot
// bloat logs.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out += text.substr(0, kMax);
  if (text.size() > kMax)
    out += "...";
  out += "'";
  return out;
}

// Headers the AWS SDKs never sign (smithy signature-v4 ALWAYS_UNSIGNABLE_HEADERS plus
// the proxy-* and sec-* patterns): proxies and HTTP stacks add or rewrite them.
bool IsUnsignable(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 15> kNames = {
      "authorization", "cache-control",     "connection", "expect",     "from",
      "keep-alive",    "max-forwards",      "pragma",     "referer",    "te",
      "trailer",       "transfer-encoding", "upgrade",    "user-agent", "x-amzn-trace-id"};
  if (lower_name.starts_with("proxy-") || lower_name.starts_with("sec-"))
    return true;
  return std::find(kNames.begin(), kNames.end(), lower_name) != kNames.end();
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(separator, start);
    if (pos == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string AuthorizationValue(std::string_view access_key_id, const Scope& scope,
                               const std::vector<std::string>& signed_headers,
                               std::string_view signature) {
  std::string out(kAlgorithm);
  out += " Credential=";
  out += access_key_id;
  out += "/" + scope.date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out += ", SignedHeaders=";
  out += internal::JoinSignedHeaders(signed_headers);
  out += ", Signature=";
  out += signature;
  return out;
}

Status Unauthenticated(std::string message) {
  return Status::Unauthenticated("request signature rejected: " + std::move(message));
}

// The request time: x-amz-date, else the Date header. Also returns the x-amz-date form,
// which is what the string to sign carries.
Status RequestTime(const Request& request, std::chrono::system_clock::time_point& time,
                   std::string& amz_date) {
  std::vector<std::string_view> amz = HeaderValues(request, "x-amz-date");
  if (amz.size() > 1)
    return Unauthenticated("more than one x-amz-date header");
  if (amz.size() == 1) {
    Result<std::chrono::system_clock::time_point> parsed = ParseAmzDate(Trim(amz[0]));
    if (!parsed.ok())
      return Unauthenticated(parsed.status().message());
    time = *parsed;
    amz_date = std::string(Trim(amz[0]));
    return Status::OK();
  }
  std::vector<std::string_view> date = HeaderValues(request, "date");
  if (date.empty())
    return Unauthenticated("neither x-amz-date nor Date header present");
  if (date.size() > 1)
    return Unauthenticated("more than one Date header");
  Result<std::chrono::system_clock::time_point> parsed = internal::ParseHttpDate(Trim(date[0]));
  if (!parsed.ok())
    return Unauthenticated(parsed.status().message());
  time = *parsed;
  amz_date = FormatAmzDate(time);
  return Status::OK();
}

// The payload line of the canonical request, after checking x-amz-content-sha256
// against the body.
Status PayloadHash(const Request& request, std::string_view body, std::string& payload_hash) {
  std::vector<std::string_view> values = HeaderValues(request, "x-amz-content-sha256");
  if (values.size() > 1)
    return Unauthenticated("more than one x-amz-content-sha256 header");
  if (values.empty()) {
    payload_hash = Sha256Hex(body);
    return Status::OK();
  }
  std::string_view value = Trim(values[0]);
  if (value == kUnsignedPayload) {
    payload_hash = std::string(value);
    return Status::OK();
  }
  if (value.starts_with("STREAMING-")) {
    return Status::NotImplemented("aws-chunked uploads are not supported: x-amz-content-sha256 " +
                                  Quote(value));
  }
  std::string body_hash = Sha256Hex(body);
  if (AsciiLower(value) != body_hash) {
    return Unauthenticated("x-amz-content-sha256 " + Quote(value) +
                           " does not match the body's SHA-256 " + body_hash);
  }
  payload_hash = std::string(value);
  return Status::OK();
}

}  // namespace

namespace internal {

Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text) {
  using namespace std::chrono;
  auto invalid = [&] {
    return Status::InvalidArgument("Date must look like 'Fri, 24 May 2013 00:00:00 GMT': " +
                                   Quote(text));
  };
  // "Fri, 24 May 2013 00:00:00 GMT"
  //  0123456789012345678901234567 8
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return invalid();
  }
  auto number = [&](size_t pos, size_t len) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9')
        return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto month_it = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  int d = number(5, 2), y = number(12, 4), h = number(17, 2), mi = number(20, 2), s = number(23, 2);
  if (month_it == kMonths.end() || d < 0 || y < 0 || h < 0 || mi < 0 || s < 0)
    return invalid();
  year_month_day ymd{year{y}, month{static_cast<unsigned>(month_it - kMonths.begin() + 1)},
                     day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59)
    return invalid();
  return system_clock::time_point{sys_days{ymd} + hours{h} + minutes{mi} + seconds{s}};
}

}  // namespace internal

void Sign(Request& request, const Credentials& credentials, std::string_view region,
          std::string_view service, std::chrono::system_clock::time_point now) {
  assert(!request.payload_hash.empty());
  const bool s3 = service == "s3";
  const bool has_token = !credentials.session_token.empty();
  // Drop what this function sets, so that signing again (a retry) replaces them.
  std::erase_if(request.headers, [&](const auto& header) {
    std::string name = AsciiLower(header.first);
    return name == "authorization" || name == "x-amz-date" ||
           (s3 && name == "x-amz-content-sha256") || (has_token && name == "x-amz-security-token");
  });

  const std::string amz_date = FormatAmzDate(now);
  const Scope scope{amz_date.substr(0, 8), std::string(region), std::string(service)};
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (s3)
    request.headers.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
  if (has_token)
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);

  std::vector<std::string> signed_headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    if (!IsUnsignable(lower))
      signed_headers.push_back(std::move(lower));
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()),
                       signed_headers.end());

  const std::string canonical = CanonicalRequest(request, signed_headers, service);
  const std::string string_to_sign = StringToSign(amz_date, scope, canonical);
  const std::string signature =
      HexEncode(HmacSha256(SigningKey(credentials.secret_access_key, scope), string_to_sign));
  request.headers.emplace_back("Authorization", AuthorizationValue(credentials.access_key_id, scope,
                                                                   signed_headers, signature));
}

Result<Authorization> ParseAuthorization(std::string_view header_value) {
  std::string_view text = Trim(header_value);
  if (!text.starts_with(kAlgorithm) || text.size() == kAlgorithm.size() ||
      (text[kAlgorithm.size()] != ' ' && text[kAlgorithm.size()] != '\t')) {
    return Status::InvalidArgument("Authorization: expected algorithm AWS4-HMAC-SHA256 in " +
                                   Quote(text));
  }
  std::optional<std::string_view> credential, signed_headers, signature;
  // SDKs separate the parts with ", ", the S3 documentation with ",".
  for (std::string_view part : Split(text.substr(kAlgorithm.size()), ',')) {
    part = Trim(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("Authorization: expected Key=Value, got " + Quote(part));
    }
    std::string_view key = part.substr(0, eq);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (slot == nullptr)
      return Status::InvalidArgument("Authorization: unknown part " + Quote(key));
    if (slot->has_value()) {
      return Status::InvalidArgument("Authorization: " + std::string(key) + " given twice");
    }
    *slot = part.substr(eq + 1);
  }
  if (!credential)
    return Status::InvalidArgument("Authorization: Credential missing");
  if (!signed_headers)
    return Status::InvalidArgument("Authorization: SignedHeaders missing");
  if (!signature)
    return Status::InvalidArgument("Authorization: Signature missing");

  Authorization auth;
  std::vector<std::string_view> scope = Split(*credential, '/');
  if (scope.size() != 5 || scope[4] != "aws4_request" ||
      std::any_of(scope.begin(), scope.end(), [](std::string_view p) { return p.empty(); })) {
    return Status::InvalidArgument(
        "Authorization: Credential must be <key id>/<date>/<region>/<service>/aws4_request: " +
        Quote(*credential));
  }
  if (scope[1].size() != 8 ||
      !std::all_of(scope[1].begin(), scope[1].end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument("Authorization: Credential date must be YYYYMMDD: " +
                                   Quote(scope[1]));
  }
  auth.access_key_id = std::string(scope[0]);
  auth.scope = {std::string(scope[1]), std::string(scope[2]), std::string(scope[3])};
  for (std::string_view name : Split(*signed_headers, ';')) {
    if (name.empty()) {
      return Status::InvalidArgument("Authorization: empty name in SignedHeaders " +
                                     Quote(*signed_headers));
    }
    auth.signed_headers.push_back(AsciiLower(name));
  }
  if (signature->size() != 64 || !IsLowerHex(*signature)) {
    return Status::InvalidArgument("Authorization: Signature must be 64 lower-case hex digits: " +
                                   Quote(*signature));
  }
  auth.signature = std::string(*signature);
  return auth;
}

Result<std::string> Verify(const Request& request, std::string_view body,
                           const SecretLookup& lookup, std::chrono::system_clock::time_point now,
                           const VerifyOptions& options) {
  std::vector<std::string_view> auth_values = HeaderValues(request, "authorization");
  if (auth_values.empty())
    return Unauthenticated("no Authorization header");
  if (auth_values.size() > 1)
    return Unauthenticated("more than one Authorization header");
  Result<Authorization> parsed = ParseAuthorization(auth_values[0]);
  if (!parsed.ok())
    return Unauthenticated(parsed.status().message());
  const Authorization& auth = *parsed;

  // What the signature must cover. Without host a signature could be replayed against
  // another endpoint; an unsigned x-amz-* header (x-amz-copy-source, x-amz-acl, ...)
  // could be changed in flight. S3 rejects both the same way.
  const std::vector<std::string>& signed_names = auth.signed_headers;
  auto is_signed = [&](std::string_view name) {
    return std::find(signed_names.begin(), signed_names.end(), name) != signed_names.end();
  };
  if (!is_signed("host"))
    return Unauthenticated("the host header is not signed");
  for (const std::string& name : signed_names) {
    if (HeaderValues(request, name).empty()) {
      return Unauthenticated("signed header " + Quote(name) + " is not in the request");
    }
  }
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    // Both may go unsigned (S3 docs, aws-sig-v4-test-suite post-sts-header-after): the
    // payload hash is signed anyway and a changed token only breaks the request.
    if (lower.starts_with("x-amz-") && !is_signed(lower) && lower != "x-amz-content-sha256" &&
        lower != "x-amz-security-token") {
      return Unauthenticated("header " + Quote(lower) + " is present but not signed");
    }
  }

  std::chrono::system_clock::time_point request_time;
  std::string amz_date;
  BASIN_RETURN_IF_ERROR(RequestTime(request, request_time, amz_date));
  if (auth.scope.date != std::string_view(amz_date).substr(0, 8)) {
    return Unauthenticated("credential date " + auth.scope.date + " is not the request date " +
                           amz_date);
  }
  auto skew = std::chrono::abs(std::chrono::floor<std::chrono::seconds>(request_time - now));
  if (skew > options.max_clock_skew) {
    return Unauthenticated("request time " + amz_date + " is " + std::to_string(skew.count()) +
                           "s from server time " + FormatAmzDate(now) + " (at most " +
                           std::to_string(options.max_clock_skew.count()) + "s allowed)");
  }

  std::string payload_hash;
  BASIN_RETURN_IF_ERROR(PayloadHash(request, body, payload_hash));

  Result<std::string> secret = lookup(auth.access_key_id);
  if (!secret.ok()) {
    if (secret.status().IsNotFound()) {
      return Unauthenticated("unknown access key id " + Quote(auth.access_key_id));
    }
    return secret.status().WithContext("looking up access key id " + Quote(auth.access_key_id));
  }

  const std::string canonical =
      internal::CanonicalRequest(request, signed_names, auth.scope.service, payload_hash);
  const std::string string_to_sign = StringToSign(amz_date, auth.scope, canonical);
  const std::string expected =
      HexEncode(HmacSha256(SigningKey(*secret, auth.scope), string_to_sign));
  if (!ConstantTimeEquals(expected, auth.signature)) {
    // The canonical request's hash lets a client compare with what it signed, as AWS's
    // SignatureDoesNotMatch does; it reveals nothing about the secret.
    return Unauthenticated("signature does not match (access key id " + Quote(auth.access_key_id) +
                           ", canonical request SHA-256 " + Sha256Hex(canonical) + ")");
  }
  return auth.access_key_id;
}

}  // namespace basin::sigv4
