// RFC 3986 percent-encoding, for the query strings of the providers' calls and redirects.
#pragma once

#include <string>
#include <string_view>

namespace joule {

// Everything but A-Z a-z 0-9 - _ . ~ encoded as %XX (upper-case hex): what Aliyun calls
// percentEncode, and what a URL's query value and an OAuth redirect_uri need.
[[nodiscard]] std::string PercentEncode(std::string_view text);

}  // namespace joule
