// SimMeter's Modbus front end: RTU (unit + CRC) and Modbus-TCP (MBAP) requests. FC01/02 read the
// relay coils, FC03/04 read the model's register map (each point encoded per its format; registers
// outside the map read 0), FC05 switches a relay. Anything else is an exception reply.
#include "codec/modbus.hpp"
#include "sim/sim_meter.hpp"
#include "sim/sim_values.hpp"

namespace joule::sim {

namespace mb = codec::modbus;

namespace {

bool IsUnsigned(mb::ValueType type) {
    return type == mb::ValueType::kU16 || type == mb::ValueType::kU32 ||
           type == mb::ValueType::kU64;
}

// `value` on the wire of `spec`: registers truncate to the register's resolution, other values
// round; an unsigned register shows a negative value's magnitude.
Result<std::vector<std::uint16_t>> EncodePoint(const codec::PointSpec& spec, Decimal value) {
    const mb::RegisterFormat& format = spec.format;
    if (value.mantissa < 0 && IsUnsigned(format.type))
        value.mantissa = -value.mantissa;
    const bool registers = IsRegisterPoint(spec.point);
    if (format.type == mb::ValueType::kF32) {
        if (auto at = AtPlaces(value, format.decimals, registers))
            value = *at;
    } else if (format.scale_exponent <= 0) {
        auto at = AtPlaces(value, -format.scale_exponent, registers);
        if (!at)
            return InvalidArgument("value", "does not fit");
        value = *at;
    } else if (auto at = AtPlaces(value, 0, registers)) {  // raw unit 10^scale: drop the rest
        std::int64_t unit = 1;
        for (int i = 0; i < format.scale_exponent; ++i)
            unit *= 10;
        value = Decimal{at->mantissa / unit * unit, 0};
    }
    return mb::EncodeRegisters(value, format);
}

std::uint8_t ExceptionFor(const Error& error) {
    if (error.field == "function")
        return static_cast<std::uint8_t>(mb::ExceptionCode::kIllegalFunction);
    if (error.field == "address")
        return static_cast<std::uint8_t>(mb::ExceptionCode::kIllegalDataAddress);
    return static_cast<std::uint8_t>(mb::ExceptionCode::kIllegalDataValue);
}

}  // namespace

bool SimMeter::ModbusBit(mb::FunctionCode function, std::uint32_t address) const {
    for (int c = 0; c < model_.circuits; ++c) {
        const auto uc = static_cast<std::uint32_t>(c);
        if (function == mb::FunctionCode::kReadCoils && model_.has_relay &&
            model_.relay_coil + uc * model_.relay_coil_stride == address) {
            return circuit(c).relay_closed();
        }
        for (const codec::PointSpec& p : model_.points) {
            if (p.point != codec::Point::kRelayClosed || p.function != function)
                continue;
            const std::uint32_t at = p.address + (p.per_circuit ? uc * model_.circuit_stride : 0);
            if (at == address)
                return circuit(p.per_circuit ? c : 0).relay_closed();
        }
    }
    return false;
}

Result<std::vector<std::uint16_t>> SimMeter::ModbusRegisters(mb::FunctionCode function,
                                                             std::uint32_t address,
                                                             std::uint32_t quantity) const {
    std::vector<std::uint16_t> out(quantity, 0);
    for (const auto* list : {&model_.points, &model_.frozen_points}) {
        for (const codec::PointSpec& p : *list) {
            if (p.function != function)
                continue;
            const int copies = p.per_circuit ? model_.circuits : 1;
            const auto count = static_cast<std::uint32_t>(mb::RegisterCount(p.format.type));
            for (int c = 0; c < copies; ++c) {
                const std::uint32_t base =
                    p.address + static_cast<std::uint32_t>(c) * model_.circuit_stride;
                if (base + count <= address || base >= address + quantity)
                    continue;
                const std::optional<Decimal> value = Value(c, p.point);
                if (!value)
                    continue;  // nothing held yet (no freeze): the registers read 0
                JOULE_ASSIGN_OR_RETURN(std::vector<std::uint16_t> words, EncodePoint(p, *value));
                for (std::uint32_t k = 0; k < count; ++k) {
                    if (base + k >= address && base + k < address + quantity)
                        out[base + k - address] = words[k];
                }
            }
        }
    }
    return out;
}

mb::Pdu SimMeter::ModbusReply(const mb::Pdu& pdu) {
    const auto refuse = [&](std::uint8_t code) {
        ++stats_.errors;
        return mb::BuildExceptionResponse(static_cast<std::uint8_t>(pdu.function & 0x7F),
                                          static_cast<mb::ExceptionCode>(code));
    };
    auto request = mb::DecodeRequest(pdu);
    if (!request)
        return refuse(ExceptionFor(request.error()));
    const mb::Request& r = *request;
    Result<mb::Pdu> reply = std::unexpected(Error{});
    switch (r.function) {
        case mb::FunctionCode::kReadCoils:
        case mb::FunctionCode::kReadDiscreteInputs: {
            std::vector<bool> bits(r.quantity);
            for (std::uint32_t i = 0; i < r.quantity; ++i)
                bits[i] = ModbusBit(r.function, r.address + i);
            reply = mb::BuildResponse(r, {}, bits);
            break;
        }
        case mb::FunctionCode::kReadHoldingRegisters:
        case mb::FunctionCode::kReadInputRegisters: {
            auto registers = ModbusRegisters(r.function, r.address, r.quantity);
            if (!registers)
                return refuse(static_cast<std::uint8_t>(mb::ExceptionCode::kServerDeviceFailure));
            reply = mb::BuildResponse(r, *registers);
            break;
        }
        case mb::FunctionCode::kWriteSingleCoil: {
            int target = -1;
            for (int c = 0; c < model_.circuits && model_.has_relay; ++c) {
                if (model_.relay_coil + static_cast<std::uint32_t>(c) * model_.relay_coil_stride ==
                    r.address)
                    target = c;
            }
            if (target < 0)
                return refuse(static_cast<std::uint8_t>(mb::ExceptionCode::kIllegalDataAddress));
            const bool done = r.coils.at(0) ? Close(target, true) : Trip(target);
            if (!done)
                return refuse(static_cast<std::uint8_t>(mb::ExceptionCode::kServerDeviceFailure));
            ++stats_.commands;
            reply = mb::BuildResponse(r);
            break;
        }
        default:
            return refuse(static_cast<std::uint8_t>(mb::ExceptionCode::kIllegalFunction));
    }
    if (!reply)
        return refuse(static_cast<std::uint8_t>(mb::ExceptionCode::kServerDeviceFailure));
    return *reply;
}

std::optional<Bytes> SimMeter::HandleModbus(ByteView bytes) {
    // RTU first: a slave sees one frame between silences and checks its CRC over all of it. A
    // Modbus-TCP ADU passes that check by chance once in 65536; then it is read as RTU.
    std::uint8_t unit = 0;
    mb::Pdu pdu;
    std::uint16_t transaction = 0;
    bool mbap = false;
    const bool rtu =
        bytes.size() >= 4 &&
        mb::Crc16(bytes.first(bytes.size() - 2)) ==
            static_cast<std::uint16_t>(bytes[bytes.size() - 1] << 8 | bytes[bytes.size() - 2]);
    if (rtu) {
        unit = bytes[0];
        pdu.function = bytes[1];
        pdu.data.assign(bytes.begin() + 2, bytes.end() - 2);
    } else {
        auto tcp = mb::DecodeTcp(bytes);
        if (!tcp || tcp->consumed != bytes.size())
            return std::nullopt;
        unit = tcp->adu.unit;
        pdu = std::move(tcp->adu.pdu);
        transaction = tcp->adu.transaction_id;
        mbap = true;
    }
    const bool broadcast = !mbap && unit == mb::kBroadcastUnit;
    if ((unit != unit_ && !broadcast) || pdu.function >= mb::kExceptionFlag)
        return std::nullopt;
    reply_is_mbap_ = mbap;
    mb::Pdu reply = ModbusReply(pdu);
    if (broadcast)
        return std::nullopt;  // every slave acts on a broadcast, none answers
    auto wire = mbap ? mb::EncodeTcp({transaction, unit, std::move(reply)})
                     : mb::EncodeRtu({unit, std::move(reply)});
    if (!wire)
        return std::nullopt;
    return *wire;
}

}  // namespace joule::sim
