#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "basin/sigv4/sigv4.h"

/// Helpers shared by the sigv4 sources; not part of the public API.
namespace basin::sigv4::internal {

/// ASCII lower-casing: header names are ASCII, and locale-aware tolower would not be.
std::string AsciiLower(std::string_view text);

/// Values of every header called `lower_name` (already lower-case), in request order.
std::vector<std::string_view> HeaderValues(const Request& request, std::string_view lower_name);

/// The canonical form of one header value: trimmed, inner whitespace runs as one space.
std::string CanonicalHeaderValue(std::string_view value);

/// "host;x-amz-date": signed header names joined as both the canonical request and the
/// Authorization header spell them.
std::string JoinSignedHeaders(const std::vector<std::string>& names);

/// CanonicalRequest with the payload line given apart from the request, so that Verify
/// need not copy the request to put in the hash it worked out.
std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view service, std::string_view payload_hash);

/// Parses "Fri, 24 May 2013 00:00:00 GMT" (RFC 9110 IMF-fixdate, the only form
/// HTTP/1.1 senders may generate).
Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);

}  // namespace basin::sigv4::internal
