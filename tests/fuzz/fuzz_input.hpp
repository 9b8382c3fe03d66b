// Shared by the libFuzzer harnesses and the corpus replayer. A harness is built either with
// libFuzzer (clang, JOULE_FUZZ) or with replay_main.cpp (the GCC test build), so it may use only
// what both have: no <fuzzer/FuzzedDataProvider.h>, which GCC lacks.
//
// Harnesses check what they decode: round trips where the codec promises them, and the codecs'
// documented invariants, with JOULE_ASSERT, which aborts, so libFuzzer reports a crash and keeps
// the input. External input never triggers an assertion in the codecs; here it may, because a
// failed check means the codec broke a promise.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "base/assert.hpp"
#include "codec/bytes.hpp"

// The libFuzzer entry point each harness defines.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace joule::fuzz {

// Reads a fuzz input front to back. Past the end every read gives zeros or an empty view, so a
// harness takes what it needs without checking sizes and short inputs still run to the end.
class FuzzInput {
public:
    FuzzInput(const std::uint8_t* data, std::size_t size)
        : bytes_(size == 0 ? codec::ByteView{} : codec::ByteView(data, size)) {}

    [[nodiscard]] bool empty() const { return pos_ >= bytes_.size(); }
    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }

    std::uint8_t U8() { return empty() ? 0 : bytes_[pos_++]; }
    std::uint16_t U16() {
        const auto high = U8();
        return static_cast<std::uint16_t>(high << 8 | U8());
    }
    std::uint32_t U32() {
        const std::uint32_t high = U16();
        return high << 16 | U16();
    }
    bool Bool() { return (U8() & 1) != 0; }
    // Up to n bytes (fewer at the end).
    codec::ByteView Take(std::size_t n) {
        n = std::min(n, remaining());
        const auto view = bytes_.subspan(pos_, n);
        pos_ += n;
        return view;
    }
    codec::ByteView Rest() { return Take(remaining()); }

private:
    codec::ByteView bytes_;
    std::size_t pos_ = 0;
};

}  // namespace joule::fuzz
