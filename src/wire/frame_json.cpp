#include "wire/frame_json.hpp"

#include <nlohmann/json.hpp>

namespace joule::wire {

// Placeholder while the codec mappings are written (DEV-6): the CLI is wired first so that the
// main.cpp edit lands before concurrent work on it.
Result<Json> DecodeFrameToJson(codec::ByteView, const DecodeOptions&) {
    return MakeError(ErrorCode::kInternal, "frame decoding is not implemented yet");
}

Result<codec::Bytes> EncodeFrameFromJson(const Json&) {
    return MakeError(ErrorCode::kInternal, "frame encoding is not implemented yet");
}

Result<std::vector<codec::Bytes>> EncodeFramesFromJson(const Json&) {
    return MakeError(ErrorCode::kInternal, "frame encoding is not implemented yet");
}

}  // namespace joule::wire
