#include "codec/zip_archive.hpp"

#include <zip.h>

#include <utility>

namespace joule::codec {

namespace {

constexpr std::size_t kReadChunkBytes = std::size_t{64} * 1024;

Error Invalid(std::string message) {
    return Error{ErrorCode::kInvalidArgument, std::move(message), {}};
}

}  // namespace

bool LooksLikeZip(std::string_view bytes) {
    return bytes.starts_with(std::string_view("PK\x03\x04", 4));
}

struct ZipArchive::Impl {
    zip_t* zip = nullptr;
    ZipLimits limits;
    std::size_t budget = 0;  // decompressed bytes left for all entries
    ~Impl() {
        if (zip != nullptr) {
            zip_discard(zip);
        }
    }
};

ZipArchive::ZipArchive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZipArchive::~ZipArchive() = default;

Result<std::unique_ptr<ZipArchive>> ZipArchive::Open(std::string_view bytes,
                                                     const ZipLimits& limits,
                                                     std::string_view what) {
    if (!LooksLikeZip(bytes)) {
        return std::unexpected(
            Invalid("not " + std::string(what) + " (it does not start like a zip)"));
    }
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (source == nullptr) {
        zip_error_fini(&error);
        return MakeError(ErrorCode::kInternal, "cannot read the zip from memory");
    }
    zip_t* zip = zip_open_from_source(source, ZIP_RDONLY, &error);
    if (zip == nullptr) {
        zip_source_free(source);
        std::string reason = zip_error_strerror(&error);
        zip_error_fini(&error);
        return std::unexpected(
            Invalid("not " + std::string(what) + ": the zip is damaged (" + reason + ")"));
    }
    zip_error_fini(&error);
    auto impl = std::make_unique<Impl>();
    impl->zip = zip;
    impl->limits = limits;
    impl->budget = limits.max_total_bytes;
    const zip_int64_t entries = zip_get_num_entries(zip, 0);
    if (entries < 0 || static_cast<std::size_t>(entries) > limits.max_entries) {
        return MakeError(ErrorCode::kOutOfRange,
                         "the zip has more than " + std::to_string(limits.max_entries) +
                             " entries, more than " + std::string(what) + " has");
    }
    return std::unique_ptr<ZipArchive>(new ZipArchive(std::move(impl)));
}

std::vector<std::string> ZipArchive::RawNames() const {
    std::vector<std::string> names;
    const zip_int64_t entries = zip_get_num_entries(impl_->zip, 0);
    for (zip_int64_t i = 0; i < entries; ++i) {
        const char* name = zip_get_name(impl_->zip, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
        names.emplace_back(name == nullptr ? "" : name);
    }
    return names;
}

Result<std::optional<std::string>> ZipArchive::Read(const std::string& name) {
    const zip_int64_t index = zip_name_locate(impl_->zip, name.c_str(), ZIP_FL_NOCASE);
    if (index < 0) {
        return std::optional<std::string>();
    }
    JOULE_ASSIGN_OR_RETURN(std::string bytes, ReadAt(static_cast<std::size_t>(index)));
    return std::optional<std::string>(std::move(bytes));
}

Result<std::string> ZipArchive::ReadAt(std::size_t index) {
    const char* raw_name = zip_get_name(impl_->zip, index, ZIP_FL_ENC_RAW);
    const std::string name = raw_name == nullptr ? "entry " + std::to_string(index) : raw_name;
    zip_file_t* file = zip_fopen_index(impl_->zip, index, 0);
    if (file == nullptr) {
        return std::unexpected(Invalid("cannot read " + name + " from the zip: " +
                                       zip_strerror(impl_->zip) + " (encrypted or damaged)"));
    }
    const auto close_file = [](zip_file_t* f) { zip_fclose(f); };
    const std::unique_ptr<zip_file_t, decltype(close_file)> owned(file, close_file);
    std::string out;
    std::string chunk(kReadChunkBytes, '\0');
    while (true) {
        const zip_int64_t got = zip_fread(file, chunk.data(), chunk.size());
        if (got < 0) {
            return std::unexpected(
                Invalid("cannot read " + name + " from the zip: " + zip_file_strerror(file)));
        }
        if (got == 0) {
            break;
        }
        const auto n = static_cast<std::size_t>(got);
        if (out.size() + n > impl_->limits.max_entry_bytes) {
            return MakeError(ErrorCode::kOutOfRange,
                             name + " is larger than " +
                                 std::to_string(impl_->limits.max_entry_bytes) +
                                 " bytes decompressed");
        }
        if (n > impl_->budget) {
            return MakeError(ErrorCode::kOutOfRange,
                             "the zip's entries are larger than " +
                                 std::to_string(impl_->limits.max_total_bytes) +
                                 " bytes decompressed");
        }
        impl_->budget -= n;
        out.append(chunk, 0, n);
    }
    return out;
}

}  // namespace joule::codec
