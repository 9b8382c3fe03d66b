// For tests: a zip made in memory with libzip (deflated), as a spreadsheet program or a provider
// writes one. Test targets that include this link PkgConfig::LIBZIP.
#pragma once

#include <gtest/gtest.h>
#include <zip.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace joule::codec::testing {

using ZipEntries = std::vector<std::pair<std::string, std::string>>;

// `utf8_names` false stores the names as they are, without the UTF-8 flag (as Chinese Windows
// tools write GBK names).
inline std::string MakeZip(const ZipEntries& entries, bool utf8_names = true) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &error);
    zip_source_keep(out);
    zip_t* archive = zip_open_from_source(out, ZIP_TRUNCATE, &error);
    EXPECT_NE(archive, nullptr);
    for (const auto& [name, data] : entries) {
        zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
        EXPECT_GE(zip_file_add(archive, name.c_str(), source,
                               utf8_names ? ZIP_FL_ENC_UTF_8 : ZIP_FL_ENC_RAW),
                  0)
            << name;
    }
    EXPECT_EQ(zip_close(archive), 0);
    std::string bytes;
    EXPECT_EQ(zip_source_open(out), 0);
    EXPECT_EQ(zip_source_seek(out, 0, SEEK_END), 0);
    bytes.resize(static_cast<std::size_t>(zip_source_tell(out)));
    EXPECT_EQ(zip_source_seek(out, 0, SEEK_SET), 0);
    EXPECT_EQ(zip_source_read(out, bytes.data(), bytes.size()),
              static_cast<zip_int64_t>(bytes.size()));
    zip_source_close(out);
    zip_source_free(out);
    zip_error_fini(&error);
    return bytes;
}

}  // namespace joule::codec::testing
