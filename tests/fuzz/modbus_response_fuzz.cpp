// Fuzzes the Modbus client's reply check (modbus::ParseResponse): a request built from the input
// by the codec's own builders, then arbitrary reply PDU bytes. Checked: the error convention; an
// accepted reply really answers the request (function, exactly `quantity` values, the write echo);
// rebuilding the reply with the server half (BuildResponse / BuildExceptionResponse) parses to the
// same Response; and requests the builders make decode back to themselves.
//
// Input: function selector | address (2) | quantity (2) | reply function selector | reply data.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/modbus.hpp"
#include "fuzz_input.hpp"
#include "modbus_checks.hpp"

namespace {

namespace modbus = joule::codec::modbus;
using modbus::FunctionCode;

constexpr std::array<FunctionCode, 8> kFunctions{
    FunctionCode::kReadCoils,
    FunctionCode::kReadDiscreteInputs,
    FunctionCode::kReadHoldingRegisters,
    FunctionCode::kReadInputRegisters,
    FunctionCode::kWriteSingleCoil,
    FunctionCode::kWriteSingleRegister,
    FunctionCode::kWriteMultipleCoils,
    FunctionCode::kWriteMultipleRegisters,
};

modbus::Request MakeRequest(joule::fuzz::FuzzInput& in) {
    const FunctionCode function = kFunctions[in.U8() % kFunctions.size()];
    const std::uint16_t address = in.U16();
    // Mostly small quantities, sometimes any: the limits are part of what is tested.
    const std::uint16_t raw_quantity = in.U16();
    const auto quantity = static_cast<std::uint16_t>(
        (raw_quantity & 0x8000) != 0 ? raw_quantity & 0x7FFF : raw_quantity % 130);
    switch (function) {
        case FunctionCode::kWriteSingleCoil:
            return modbus::WriteSingleCoil(address, (quantity & 1) != 0);
        case FunctionCode::kWriteSingleRegister:
            return modbus::WriteSingleRegister(address, quantity);
        case FunctionCode::kWriteMultipleCoils:
            return modbus::WriteMultipleCoils(
                address, std::vector<bool>(quantity % 2000, (address & 1) != 0));
        case FunctionCode::kWriteMultipleRegisters:
            return modbus::WriteMultipleRegisters(
                address, std::vector<std::uint16_t>(quantity % 130, address));
        default:
            return modbus::ReadRequest(function, address, quantity);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    joule::fuzz::FuzzInput in(data, size);
    const modbus::Request request = MakeRequest(in);
    const auto request_pdu = modbus::EncodeRequest(request);
    if (!request_pdu.has_value()) {
        joule::fuzz::CheckModbusError(request_pdu.error());
        return 0;  // a request the master would never send
    }
    const auto decoded_request = modbus::DecodeRequest(*request_pdu);
    JOULE_ASSERT(decoded_request.has_value(), "an encoded request does not decode");
    const auto reencoded = modbus::EncodeRequest(*decoded_request);
    JOULE_ASSERT(reencoded.has_value() && *reencoded == *request_pdu, "request round trip");

    // The reply: the request's function, its exception form, or any function.
    const std::uint8_t selector = in.U8();
    const auto function = static_cast<std::uint8_t>(request.function);
    modbus::Pdu reply;
    reply.function = selector < 0x60   ? function
                     : selector < 0xC0 ? function | modbus::kExceptionFlag
                                       : in.U8();
    const auto rest = in.Rest();
    reply.data.assign(rest.begin(), rest.end());

    const auto parsed = modbus::ParseResponse(request, reply);
    if (!parsed.has_value()) {
        joule::fuzz::CheckModbusError(parsed.error());
        return 0;
    }
    JOULE_ASSERT(parsed->function == request.function, "answered function");
    modbus::Pdu rebuilt;
    if (parsed->exception) {
        JOULE_ASSERT(reply.function == (function | modbus::kExceptionFlag), "exception function");
        rebuilt = modbus::BuildExceptionResponse(
            function, static_cast<modbus::ExceptionCode>(parsed->exception_code));
    } else {
        JOULE_ASSERT(reply.function == function, "reply function");
        if (joule::fuzz::IsReadBits(request.function))
            JOULE_ASSERT(parsed->bits.size() == request.quantity, "bit count");
        else if (joule::fuzz::IsReadRegisters(request.function))
            JOULE_ASSERT(parsed->registers.size() == request.quantity, "register count");
        else
            JOULE_ASSERT(parsed->address == request.address, "write echo address");
        const auto built = modbus::BuildResponse(request, parsed->registers, parsed->bits);
        JOULE_ASSERT(built.has_value(), "the server cannot build a reply the client accepted");
        rebuilt = *built;
    }
    const auto reparsed = modbus::ParseResponse(request, rebuilt);
    JOULE_ASSERT(reparsed.has_value() && *reparsed == *parsed, "reply round trip");
    return 0;
}
