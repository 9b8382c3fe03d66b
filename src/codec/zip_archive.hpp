// A zip archive read from memory (libzip), for the files users and providers hand us as zips: XLSX
// workbooks [HIER-3] and Alipay's daily bill [PAY-3]. Untrusted input, bounded: at most
// max_entries entries; an entry is decompressed only up to max_entry_bytes (a zip bomb stops
// there, whatever its headers claim) and all entries read together up to max_total_bytes. Every
// entry's CRC is checked as it is read; encrypted entries are refused.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace joule::codec {

struct ZipLimits {
    std::size_t max_entries = 10'000;
    std::size_t max_entry_bytes = std::size_t{64} * 1024 * 1024;
    std::size_t max_total_bytes = std::size_t{96} * 1024 * 1024;
};

// Whether `bytes` start like a zip: "PK\x03\x04".
[[nodiscard]] bool LooksLikeZip(std::string_view bytes);

class ZipArchive {
public:
    // `bytes` must outlive the archive. `what` names the file in errors ("an XLSX file").
    // kInvalidArgument when it is not a zip or a damaged one; kOutOfRange past max_entries.
    [[nodiscard]] static Result<std::unique_ptr<ZipArchive>> Open(std::string_view bytes,
                                                                  const ZipLimits& limits,
                                                                  std::string_view what);
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;
    ~ZipArchive();

    // The entries' names as the writer stored them (UTF-8, or a legacy code page such as GBK).
    [[nodiscard]] std::vector<std::string> RawNames() const;
    // The decompressed bytes of entry `name` (matched without regard to ASCII case), nullopt when
    // there is none. kInvalidArgument for an entry that cannot be read (encrypted, damaged, a
    // wrong CRC); kOutOfRange past the limits.
    [[nodiscard]] Result<std::optional<std::string>> Read(const std::string& name);
    // The same for the entry at `index` in RawNames().
    [[nodiscard]] Result<std::string> ReadAt(std::size_t index);

private:
    struct Impl;
    explicit ZipArchive(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace joule::codec
