// JSON forms of meter frames for `joule frame decode|encode` (docs/frame-tool.md): a field
// engineer pastes the hex of a capture and reads every frame in it as JSON; or writes JSON and gets
// the bytes to send. DL/T 645-2007/1997, Modbus RTU and TCP, and CJ/T 188 go through their codecs
// in codec/; this file only maps typed messages to JSON and back.
//
// Decoding finds the frames of a capture with the StreamScanner (DL/T 645 and CJ/T 188: start byte,
// length and checksum), then looks at the bytes between frames for damaged frames (wrong
// checksum, wrong end byte, cut short) and, in auto mode, for Modbus TCP ADUs. Modbus RTU has no
// start byte and is only looked for when the caller says so. Measurements are decimal strings,
// never JSON numbers.
//
// The JSON a decode prints is what encode reads: each frame object holds the fields the bytes are
// built from ("protocol", "address", "message", ...) and annotations derived from them ("name",
// "unit", "checksum", "hex", ...). Encode builds the bytes from the fields, decodes them again and
// requires every annotation the input carries to agree, so an edited field with a stale annotation
// is an error naming that annotation, and a key that is neither is "not a known field".
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <vector>

#include "base/error.hpp"
#include "codec/bytes.hpp"

namespace joule::wire {

using Json = nlohmann::json;

// Limits: a capture larger than this is refused (kResourceExhausted), so a pasted file can never
// make the tool hold or print an unbounded document. Runs of skipped bytes print at most
// kMaxSkippedHexBytes of their hex.
inline constexpr std::size_t kMaxCaptureBytes = 1 << 20;
inline constexpr std::size_t kMaxSkippedHexBytes = 64;
// Frames in one encode document.
inline constexpr std::size_t kMaxEncodeFrames = 4096;

enum class FrameProtocol : std::uint8_t {
    kAuto = 0,  // DL/T 645 and CJ/T 188 by start byte and checksum, then Modbus TCP between them
    kDlt645 = 1,
    kCjt188 = 2,
    kModbusRtu = 3,  // never auto-detected: RTU has no start byte
    kModbusTcp = 4,
};

enum class FrameDirection : std::uint8_t { kRequest = 1, kResponse = 2 };

struct DecodeOptions {
    FrameProtocol protocol = FrameProtocol::kAuto;
    // Modbus only (RTU and TCP): which ADUs the capture holds. Without it both are tried and an
    // ADU that reads as both (05/06 echo) is reported as a request.
    std::optional<FrameDirection> direction;
};

// The capture as a document:
//   {"input_bytes": n, "frames": [...], "errors": [...], "skipped": [...],
//    "summary": {"frames": n, "errors": n, "skipped_bytes": n, "ok": bool}}
// "frames" are the frames whose checksum (CRC) verifies, in stream order, each with its "offset";
// a frame whose message cannot be parsed carries "error" and its raw "data". "errors" are damaged
// frames (checksum, end byte, cut short) with their offset, bytes and the codec's error (code,
// field, message). "skipped" are runs of preamble (FE/FF) or garbage bytes with their offsets.
// ok = at least one frame, no damaged frame, no frame with an error.
// Errors: kResourceExhausted for more than kMaxCaptureBytes; kInvalidArgument ("direction") for a
// direction with a protocol that is not Modbus.
[[nodiscard]] Result<Json> DecodeFrameToJson(codec::ByteView bytes, const DecodeOptions& options);

// The bytes of one frame object as DecodeFrameToJson prints it (annotations optional). An optional
// "preamble": 0..4 sends that many FEH first (DL/T 645, CJ/T 188). kInvalidArgument with the field
// path ("message.values[1]", "control.function") for a missing, malformed or unknown field, a
// value the codec refuses, or an annotation that disagrees with the fields.
[[nodiscard]] Result<codec::Bytes> EncodeFrameFromJson(const Json& frame);

// A decode document ({"frames": [...]}), an array of frame objects, or one frame object. Errors
// name the frame ("frames[2].message.di").
[[nodiscard]] Result<std::vector<codec::Bytes>> EncodeFramesFromJson(const Json& document);

}  // namespace joule::wire
