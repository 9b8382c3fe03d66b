// Checks shared by the Modbus harnesses: the codec's error convention, and the request/response
// agreement between the server-side and client-side halves of modbus.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.hpp"
#include "codec/modbus.hpp"
#include "fuzz_input.hpp"

namespace joule::fuzz {

// "truncated is kOutOfRange, malformed kInvalidArgument, CRC kDataLoss" (modbus.hpp).
inline void CheckModbusError(const Error& error) {
    JOULE_ASSERT(error.code == ErrorCode::kOutOfRange ||
                     error.code == ErrorCode::kInvalidArgument ||
                     error.code == ErrorCode::kDataLoss,
                 "a Modbus error outside the codec's convention");
}

inline bool IsReadBits(codec::modbus::FunctionCode f) {
    return f == codec::modbus::FunctionCode::kReadCoils ||
           f == codec::modbus::FunctionCode::kReadDiscreteInputs;
}
inline bool IsReadRegisters(codec::modbus::FunctionCode f) {
    return f == codec::modbus::FunctionCode::kReadHoldingRegisters ||
           f == codec::modbus::FunctionCode::kReadInputRegisters;
}

// A request a server decoded: re-encoding gives the same request back (and the same bytes, except
// the unused high bits of the last 0FH coil byte), and every reply the server can build for it is
// accepted by the client's ParseResponse with the same content.
inline void CheckServerRequest(const codec::modbus::Pdu& pdu, FuzzInput& in) {
    namespace modbus = codec::modbus;
    const auto request = modbus::DecodeRequest(pdu);
    if (!request.has_value()) {
        CheckModbusError(request.error());
        return;
    }
    const auto encoded = modbus::EncodeRequest(*request);
    JOULE_ASSERT(encoded.has_value(), "a decoded request does not encode");
    const auto again = modbus::DecodeRequest(*encoded);
    JOULE_ASSERT(again.has_value() && *again == *request, "request round trip");
    if (request->function != modbus::FunctionCode::kWriteMultipleCoils)
        JOULE_ASSERT(*encoded == pdu, "request bytes round trip");

    // The normal reply, with register values and bits from the input.
    std::vector<std::uint16_t> registers;
    std::vector<bool> bits;
    if (IsReadRegisters(request->function)) {
        for (std::size_t i = 0; i < request->quantity; ++i)
            registers.push_back(static_cast<std::uint16_t>(in.U16() ^ i));
    }
    if (IsReadBits(request->function)) {
        for (std::size_t i = 0; i < request->quantity; ++i)
            bits.push_back(((in.U8() >> (i % 8)) & 1) != 0);
    }
    const auto reply = modbus::BuildResponse(*request, registers, bits);
    JOULE_ASSERT(reply.has_value(), "no reply for a valid request");
    const auto parsed = modbus::ParseResponse(*request, *reply);
    JOULE_ASSERT(parsed.has_value(), "the client rejects the server's reply");
    JOULE_ASSERT(!parsed->exception && parsed->function == request->function, "reply function");
    JOULE_ASSERT(parsed->registers == registers && parsed->bits == bits, "reply values");
    if (!IsReadBits(request->function) && !IsReadRegisters(request->function))
        JOULE_ASSERT(parsed->address == request->address, "write echo address");

    // An exception reply.
    const std::uint8_t code = in.U8();
    const auto exception = modbus::BuildExceptionResponse(
        static_cast<std::uint8_t>(request->function), static_cast<modbus::ExceptionCode>(code));
    const auto parsed_exception = modbus::ParseResponse(*request, exception);
    JOULE_ASSERT(parsed_exception.has_value() && parsed_exception->exception &&
                     parsed_exception->exception_code == code,
                 "the client rejects the server's exception reply");
}

}  // namespace joule::fuzz
