#include "base/file.hpp"

#include <fstream>

namespace joule {

Result<std::string> ReadAll(std::istream& in, std::size_t max_bytes, std::string_view what,
                            std::string_view field) {
    std::string text;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes) {
            return MakeError(
                ErrorCode::kResourceExhausted,
                std::string(what) + " is larger than " + std::to_string(max_bytes) + " bytes",
                std::string(field));
        }
    }
    if (in.bad()) {
        return MakeError(ErrorCode::kUnavailable, "cannot read " + std::string(what),
                         std::string(field));
    }
    return text;
}

Result<std::string> ReadFileText(const std::string& path, std::string_view field,
                                 std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return NotFound("cannot read '" + path + "'", std::string(field));
    }
    return ReadAll(in, max_bytes, "'" + path + "'", field);
}

}  // namespace joule
