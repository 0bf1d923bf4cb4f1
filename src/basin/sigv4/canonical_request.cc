// The pure parts of SigV4: encoding, the canonical request, the string to sign, the
// signing key and the x-amz-date format.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "basin/common/crypto.h"
#include "basin/sigv4/sigv4.h"
#include "basin/sigv4/sigv4_internal.h"

namespace basin::sigv4 {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool IsHttpWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Splits on '/' keeping empty pieces: "/a//b/" -> "", "a", "", "b", "".
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      pieces.push_back(path.substr(start));
      return pieces;
    }
    pieces.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

// Non-S3 services sign the path with dot segments removed, empty segments dropped and
// every segment percent-encoded once more. The rules match the AWS SDKs (smithy's
// SignatureV4Base.getCanonicalPath) so that their requests verify: a trailing slash
// survives, "/a/.." becomes "/".
std::string NormalizedCanonicalUri(std::string_view path) {
  std::vector<std::string_view> segments;
  for (std::string_view segment : SplitPath(path)) {
    if (segment.empty() || segment == ".")
      continue;
    if (segment == "..") {
      if (!segments.empty())
        segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string uri = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0)
      uri += '/';
    uri += UriEncode(segments[i], /*keep_slash=*/false);
  }
  if (!segments.empty() && path.ends_with('/'))
    uri += '/';
  return uri;
}

std::string CanonicalUri(std::string_view path, std::string_view service) {
  if (path.empty())
    return "/";
  // S3 object keys may legitimately contain "//", "." and "..", so S3 signs the path
  // exactly as it went over the wire.
  if (service == "s3")
    return std::string(path);
  return NormalizedCanonicalUri(path);
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos)
      amp = query.size();
    std::string_view param = query.substr(start, amp - start);
    start = amp + 1;
    if (param.empty())
      continue;  // "a=1&&b=2", or a trailing '&'
    size_t eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    // Decoding first makes "a/b" and "a%2Fb" (both seen from clients) sign the same.
    params.emplace_back(UriEncode(UriDecode(name), false), UriEncode(UriDecode(value), false));
  }
  // Pairs, not "name=value" strings: "Param" must sort before "Param-3" although
  // '-' < '='.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty())
      out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

}  // namespace

namespace internal {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> HeaderValues(const Request& request, std::string_view lower_name) {
  std::vector<std::string_view> values;
  for (const auto& [name, value] : request.headers) {
    if (name.size() == lower_name.size() && AsciiLower(name) == lower_name) {
      values.push_back(value);
    }
  }
  return values;
}

std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsHttpWhitespace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space)
      out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

}  // namespace internal

std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view service) {
  return internal::CanonicalRequest(request, signed_headers, service, request.payload_hash);
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];  // a stray '%' is kept, as the SDKs' decoders do
    }
  }
  return out;
}

std::string internal::CanonicalRequest(const Request& request,
                                       const std::vector<std::string>& signed_headers,
                                       std::string_view service, std::string_view payload_hash) {
  std::vector<std::string> names;
  names.reserve(signed_headers.size());
  for (const std::string& name : signed_headers)
    names.push_back(internal::AsciiLower(name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::string out = request.method;
  out += '\n';
  out += CanonicalUri(request.path, service);
  out += '\n';
  out += CanonicalQuery(request.query);
  out += '\n';
  for (const std::string& name : names) {
    out += name;
    out += ':';
    bool first = true;
    // Repeated headers are joined in request order (aws-sig-v4-test-suite
    // get-header-key-duplicate: "value2,value2,value1").
    for (std::string_view value : internal::HeaderValues(request, name)) {
      if (!first)
        out += ',';
      first = false;
      out += internal::CanonicalHeaderValue(value);
    }
    out += '\n';
  }
  out += '\n';
  out += internal::JoinSignedHeaders(names);
  out += '\n';
  out += payload_hash;
  return out;
}

namespace internal {

std::string JoinSignedHeaders(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out += ';';
    out += names[i];
  }
  return out;
}

}  // namespace internal

std::string StringToSign(std::string_view amz_date, const Scope& scope,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out += '\n';
  out += scope.date + "/" + scope.region + "/" + scope.service + "/aws4_request\n";
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret_access_key, const Scope& scope) {
  std::string key = "AWS4";
  key += secret_access_key;
  std::string k_date = HmacSha256(key, scope.date);
  std::string k_region = HmacSha256(k_date, scope.region);
  std::string k_service = HmacSha256(k_region, scope.service);
  return HmacSha256(k_service, "aws4_request");
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto seconds = floor<std::chrono::seconds>(time);
  auto day = floor<days>(seconds);
  year_month_day ymd{day};
  hh_mm_ss hms{seconds - day};
  std::string out;
  out.reserve(16);
  auto append = [&out](long long value, int width) {
    std::string digits = std::to_string(value);
    if (static_cast<int>(digits.size()) < width)
      out.append(width - digits.size(), '0');
    out += digits;
  };
  append(static_cast<int>(ymd.year()), 4);
  append(static_cast<unsigned>(ymd.month()), 2);
  append(static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  append(hms.hours().count(), 2);
  append(hms.minutes().count(), 2);
  append(hms.seconds().count(), 2);
  out += 'Z';
  return out;
}

Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text) {
  using namespace std::chrono;
  auto invalid = [&] {
    return Status::InvalidArgument("x-amz-date must look like 20150830T123600Z: '" +
                                   std::string(text.substr(0, 40)) + "'");
  };
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z')
    return invalid();
  auto number = [&](size_t pos, size_t len) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9')
        return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  int y = number(0, 4), mo = number(4, 2), d = number(6, 2);
  int h = number(9, 2), mi = number(11, 2), s = number(13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0)
    return invalid();
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59)
    return invalid();
  return system_clock::time_point{sys_days{ymd} + hours{h} + minutes{mi} + seconds{s}};
}

}  // namespace basin::sigv4
