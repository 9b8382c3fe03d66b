#include "app/frame_cli.hpp"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "base/file.hpp"
#include "codec/bytes.hpp"
#include "wire/frame_json.hpp"

namespace joule::app {
namespace {

// Hex text of a capture: two characters and a separator per byte, with room for line breaks and
// "0x" prefixes. JSON for encode: a generous bound on kMaxEncodeFrames frame objects.
constexpr std::size_t kMaxHexTextBytes = 8 * wire::kMaxCaptureBytes;
constexpr std::size_t kMaxJsonTextBytes = 16 << 20;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(const Error& e) {
    std::fprintf(stderr, "joule: %s\n", e.ToString().c_str());
    return kExitFailed;
}

int Usage(const std::string& message) {
    std::fprintf(stderr, "joule: %s\n", message.c_str());
    return kExitUsage;
}

Result<std::string> ReadInput(const std::string& file, std::size_t max_bytes) {
    if (file.empty() || file == "-") {
        return ReadAll(std::cin, max_bytes, "standard input", "input");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return NotFound("cannot read '" + file + "'", "file");
    }
    return ReadAll(in, max_bytes, "'" + file + "'", "input");
}

int Decode(const std::vector<std::string>& hex_args, const std::string& protocol,
           const std::string& direction) {
    wire::DecodeOptions options;
    if (protocol == "dlt645") {
        options.protocol = wire::FrameProtocol::kDlt645;
    } else if (protocol == "cjt188") {
        options.protocol = wire::FrameProtocol::kCjt188;
    } else if (protocol == "modbus-rtu") {
        options.protocol = wire::FrameProtocol::kModbusRtu;
    } else if (protocol == "modbus-tcp") {
        options.protocol = wire::FrameProtocol::kModbusTcp;
    }
    if (!direction.empty()) {
        if (options.protocol != wire::FrameProtocol::kModbusRtu &&
            options.protocol != wire::FrameProtocol::kModbusTcp) {
            return Usage(
                "--direction needs --protocol modbus-rtu or modbus-tcp: the other protocols "
                "carry the direction in the frame");
        }
        options.direction = direction == "request" ? wire::FrameDirection::kRequest
                                                   : wire::FrameDirection::kResponse;
    }
    std::string text;
    if (hex_args.empty()) {
        auto input = ReadInput("", kMaxHexTextBytes);
        if (!input) {
            return Fail(input.error());
        }
        text = std::move(*input);
    } else {
        for (const std::string& arg : hex_args) {
            text += arg;
            text += ' ';
        }
    }
    auto bytes = codec::ParseHex(text);
    if (!bytes) {
        return Fail(bytes.error());
    }
    if (bytes->empty()) {
        return Usage("no hex to decode: pass it as arguments or on standard input");
    }
    auto document = wire::DecodeFrameToJson(*bytes, options);
    if (!document) {
        return Fail(document.error());
    }
    std::cout << document->dump(2) << "\n";
    const wire::Json& summary = (*document)["summary"];
    if (summary.value("ok", false)) {
        return 0;
    }
    std::fprintf(stderr, "joule: %d frame(s) decoded, %d error(s)%s\n", summary.value("frames", 0),
                 summary.value("errors", 0),
                 summary.value("frames", 0) == 0 ? ": no frame found" : "");
    return kExitFailed;
}

int Encode(const std::string& file, int preamble) {
    auto text = ReadInput(file, kMaxJsonTextBytes);
    if (!text) {
        return Fail(text.error());
    }
    wire::Json document = wire::Json::parse(*text, nullptr, false);
    if (document.is_discarded()) {
        return Fail(
            Error{ErrorCode::kInvalidArgument,
                  (file.empty() || file == "-" ? std::string("standard input") : "'" + file + "'") +
                      " is not valid JSON",
                  "json"});
    }
    if (preamble >= 0) {
        // --preamble applies to every DL/T 645 and CJ/T 188 frame that does not say otherwise.
        auto add = [preamble](wire::Json& frame) {
            if (frame.is_object() && !frame.contains("preamble") && frame.contains("protocol") &&
                (frame["protocol"] == "dlt645" || frame["protocol"] == "cjt188")) {
                frame["preamble"] = preamble;
            }
        };
        wire::Json* frames = &document;
        if (document.is_object() && document.contains("frames")) {
            frames = &document["frames"];
        }
        if (frames->is_array()) {
            for (wire::Json& frame : *frames) {
                add(frame);
            }
        } else {
            add(*frames);
        }
    }
    auto encoded = wire::EncodeFramesFromJson(document);
    if (!encoded) {
        return Fail(encoded.error());
    }
    for (const codec::Bytes& frame : *encoded) {
        std::cout << codec::ToHex(frame) << "\n";
    }
    return 0;
}

}  // namespace

int RunFrameCli(int argc, char** argv) {
    CLI::App app{"Decode captured meter frames to JSON, or encode JSON to frames", "joule frame"};
    app.require_subcommand(1);

    auto* decode = app.add_subcommand(
        "decode", "hex (arguments or standard input) to JSON: every frame in the capture");
    std::vector<std::string> hex_args;
    std::string protocol = "auto";
    std::string direction;
    decode->add_option("hex", hex_args, "hex bytes; spaces, ':', '-', ',' and 0x are ignored");
    decode
        ->add_option("--protocol", protocol,
                     "auto (DL/T 645, CJ/T 188, Modbus TCP), dlt645, cjt188, modbus-rtu, "
                     "modbus-tcp")
        ->check(CLI::IsMember({"auto", "dlt645", "cjt188", "modbus-rtu", "modbus-tcp"}))
        ->capture_default_str();
    decode
        ->add_option("--direction", direction,
                     "Modbus only: the capture holds requests or responses (default: both tried)")
        ->check(CLI::IsMember({"request", "response"}));

    auto* encode =
        app.add_subcommand("encode", "JSON (a file or standard input) to hex: one line per frame");
    std::string file;
    int preamble = -1;
    encode->add_option("file", file, "JSON: one frame, an array of frames, or a decode document");
    encode
        ->add_option("--preamble", preamble,
                     "FEH bytes before each DL/T 645 and CJ/T 188 frame that names none (0..4)")
        ->check(CLI::Range(0, 4));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }
    try {
        if (decode->parsed()) {
            return Decode(hex_args, protocol, direction);
        }
        return Encode(file, preamble);
    } catch (const std::exception& e) {
        // nlohmann-json throws on misuse; the wire layer catches its own, this is the last guard.
        return Fail(Error{ErrorCode::kInternal, e.what(), ""});
    }
}

}  // namespace joule::app
