// DL/T 645 frames, addresses, control bytes, typed requests and replies, and the baud-rate word.
// The data-identifier table, value formats and status words live in dlt645_data.cpp.
#include "codec/dlt645.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

namespace joule::codec::dlt645 {

namespace {

std::unexpected<Error> Truncated(std::string field, std::string message) {
    return MakeError(ErrorCode::kOutOfRange, std::move(message), std::move(field));
}

std::string HexByte(std::uint8_t b) { return ToHex(ByteView(&b, 1)) + "H"; }

std::uint8_t FunctionCode(Function function) { return static_cast<std::uint8_t>(function); }

bool IsAddressByte(std::uint8_t b) { return b == 0xAA || IsBcdByte(b); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsA(char c) { return c == 'A' || c == 'a'; }

std::size_t DiWidth(Edition edition) { return edition == Edition::k1997 ? 2 : 4; }

// --- little-endian fields -------------------------------------------------------------------

void PutLe(Bytes& out, std::uint32_t value, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i)
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint32_t GetLe(ByteView bytes) {
    std::uint32_t value = 0;
    for (std::size_t i = bytes.size(); i-- > 0;)
        value = value << 8 | bytes[i];
    return value;
}

Status CheckDi(DataId di, Edition edition) {
    if (edition == Edition::k1997 && di > 0xFFFF)
        return InvalidArgument(
            "di", "a 1997 data identifier has 2 bytes, got " + FormatDataId(di, Edition::k2007));
    return {};
}

Status CheckPassword(const Password& password) {
    if (password.code > 0xFFFFFF)
        return InvalidArgument("password", "the code has 3 bytes (P0 P1 P2), got a larger number");
    return {};
}

void PutPassword(Bytes& out, const Password& password) {
    out.push_back(password.level);
    PutLe(out, password.code, 3);
}

Password GetPassword(ByteView four) { return Password{four[0], GetLe(four.subspan(1, 3))}; }

bool IsKnownRemoteCommand(RemoteCommand command) {
    switch (command) {
        case RemoteCommand::kTrip:
        case RemoteCommand::kCloseAllowed:
        case RemoteCommand::kDirectClose:
        case RemoteCommand::kAlarm:
        case RemoteCommand::kAlarmRelease:
        case RemoteCommand::kHoldPower:
        case RemoteCommand::kHoldRelease:
            return true;
    }
    return false;
}

bool IsFunctionDefined(Function function) {
    switch (function) {
        case Function::kBroadcastTime:
        case Function::kSecurityAuthentication:
        case Function::kReadData:
        case Function::kReadFollowUp:
        case Function::kReadAddress:
        case Function::kWriteData:
        case Function::kWriteAddress:
        case Function::kFreeze:
        case Function::kChangeBaud:
        case Function::kChangePassword:
        case Function::kClearMaxDemand:
        case Function::kMeterClear:
        case Function::kEventClear:
        case Function::kRemoteControl:
        case Function::kMultiFunctionOutput:
        case Function::kReadData1997:
        case Function::kReadFollowUp1997:
        case Function::kWriteData1997:
        case Function::kWriteAddress1997:
        case Function::kChangeBaud1997:
        case Function::kChangePassword1997:
        case Function::kClearMaxDemand1997:
            return true;
    }
    return false;
}

// Functions whose normal reply is L = 0.
bool IsAckFunction(Function function) {
    switch (function) {
        case Function::kWriteData:
        case Function::kWriteAddress:
        case Function::kFreeze:
        case Function::kClearMaxDemand:
        case Function::kMeterClear:
        case Function::kEventClear:
        case Function::kRemoteControl:
        case Function::kMultiFunctionOutput:
        case Function::kWriteData1997:
        case Function::kWriteAddress1997:
        case Function::kClearMaxDemand1997:
            return true;
        default:
            return false;
    }
}

bool IsReadFunction(Function function) {
    return function == Function::kReadData || function == Function::kReadFollowUp ||
           function == Function::kReadData1997 || function == Function::kReadFollowUp1997;
}

Status NeedLength(ByteView data, std::size_t expected, std::string_view what) {
    if (data.size() != expected) {
        return InvalidArgument("length", std::string(what) +
                                             " needs L = " + std::to_string(expected) +
                                             ", got L = " + std::to_string(data.size()));
    }
    return {};
}

Status NeedAtLeast(ByteView data, std::size_t minimum, std::string_view what) {
    if (data.size() < minimum) {
        return InvalidArgument("length", std::string(what) +
                                             " needs L >= " + std::to_string(minimum) +
                                             ", got L = " + std::to_string(data.size()));
    }
    return {};
}

Status CheckNewAddress(const Address& address) {
    for (std::uint8_t b : address.bytes) {
        if (!IsBcdByte(b))
            return InvalidArgument("data",
                                   "a new address must be all BCD, got " + FormatAddress(address));
    }
    if (IsBroadcast(address))
        return InvalidArgument("data", "the broadcast address cannot be a meter's address");
    return {};
}

// --- request bodies -------------------------------------------------------------------------

struct Body {
    Function function = Function::kReadData;
    Bytes data;
};

Result<Body> BuildBody(const ReadDataRequest& r, const RequestOptions& options) {
    JOULE_TRY(CheckDi(r.di, r.edition));
    Body body;
    if (r.edition == Edition::k1997) {
        if (r.load_record.has_value())
            return InvalidArgument("data", "1997 reads have no load-record form");
        body.function = options.read_1997_code == Read1997Code::k11 ? Function::kReadData
                                                                    : Function::kReadData1997;
        PutLe(body.data, r.di, 2);
        return body;
    }
    body.function = Function::kReadData;
    PutLe(body.data, r.di, 4);
    if (r.load_record.has_value()) {
        body.data.push_back(r.load_record->block_count);
        if (r.load_record->from.has_value()) {
            JOULE_ASSIGN_OR_RETURN(Bytes from, EncodeDateTimeMinutes(*r.load_record->from));
            body.data.insert(body.data.end(), from.begin(), from.end());
        }
    }
    return body;
}

Result<Body> BuildBody(const ReadFollowUpRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckDi(r.di, r.edition));
    Body body;
    if (r.edition == Edition::k1997) {
        body.function = Function::kReadFollowUp1997;
        PutLe(body.data, r.di, 2);
        return body;
    }
    body.function = Function::kReadFollowUp;
    PutLe(body.data, r.di, 4);
    body.data.push_back(r.seq);
    return body;
}

Result<Body> BuildBody(const ReadAddressRequest&, const RequestOptions&) {
    return Body{Function::kReadAddress, {}};
}

Result<Body> BuildBody(const WriteDataRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckDi(r.di, r.edition));
    JOULE_TRY(CheckPassword(r.password));
    Body body;
    body.function = r.edition == Edition::k1997 ? Function::kWriteData1997 : Function::kWriteData;
    PutLe(body.data, r.di, DiWidth(r.edition));
    PutPassword(body.data, r.password);
    if (r.edition == Edition::k2007)
        PutLe(body.data, r.operator_code, 4);
    body.data.insert(body.data.end(), r.value.begin(), r.value.end());
    if (body.data.size() > kMaxWriteDataBytes) {
        return InvalidArgument(
            "length", "a write request carries at most " + std::to_string(kMaxWriteDataBytes) +
                          " bytes, this one " + std::to_string(body.data.size()));
    }
    return body;
}

Result<Body> BuildBody(const WriteAddressRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckNewAddress(r.new_address));
    Body body;
    body.function =
        r.edition == Edition::k1997 ? Function::kWriteAddress1997 : Function::kWriteAddress;
    body.data.assign(r.new_address.bytes.begin(), r.new_address.bytes.end());
    return body;
}

Result<Body> BuildBody(const BroadcastTimeRequest& r, const RequestOptions& options) {
    Body body;
    body.function = Function::kBroadcastTime;
    JOULE_ASSIGN_OR_RETURN(body.data, EncodeDateTimeSeconds(r.time));
    if (options.time_sync_form == TimeSyncForm::kPlain) {
        // EncodeFrame adds 33H to every DATA byte; take it off first so the wire carries bare BCD.
        for (std::uint8_t& b : body.data)
            b = static_cast<std::uint8_t>(b - kDataOffset);
    }
    return body;
}

Result<std::uint8_t> FreezeField(const std::optional<int>& value, int low, int high,
                                 std::string_view name) {
    if (!value.has_value())
        return std::uint8_t{0x99};
    if (*value < low || *value > high) {
        return InvalidArgument("time", "freeze " + std::string(name) + " " +
                                           std::to_string(*value) + " is outside " +
                                           std::to_string(low) + ".." + std::to_string(high));
    }
    return ToBcdByte(static_cast<unsigned>(*value));
}

Result<Body> BuildBody(const FreezeRequest& r, const RequestOptions&) {
    Body body;
    body.function = Function::kFreeze;
    JOULE_ASSIGN_OR_RETURN(std::uint8_t minute, FreezeField(r.minute, 0, 59, "minute"));
    JOULE_ASSIGN_OR_RETURN(std::uint8_t hour, FreezeField(r.hour, 0, 23, "hour"));
    JOULE_ASSIGN_OR_RETURN(std::uint8_t day, FreezeField(r.day, 1, 31, "day"));
    JOULE_ASSIGN_OR_RETURN(std::uint8_t month, FreezeField(r.month, 1, 12, "month"));
    body.data = {minute, hour, day, month};
    return body;
}

Result<Body> BuildBody(const ChangeBaudRequest& r, const RequestOptions&) {
    Body body;
    body.function = r.edition == Edition::k1997 ? Function::kChangeBaud1997 : Function::kChangeBaud;
    body.data = {r.z};
    return body;
}

Status CheckPasswordDi(DataId di) {
    if (di < 0x04000C01 || di > 0x04000C0A)
        return InvalidArgument("di", "a password identifier is 04000C01..04000C0A");
    return {};
}

Result<Body> BuildBody(const ChangePasswordRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckPassword(r.old_password));
    JOULE_TRY(CheckPassword(r.new_password));
    Body body;
    if (r.edition == Edition::k1997) {
        body.function = Function::kChangePassword1997;
    } else {
        JOULE_TRY(CheckPasswordDi(r.di));
        body.function = Function::kChangePassword;
        PutLe(body.data, r.di, 4);
    }
    PutPassword(body.data, r.old_password);
    PutPassword(body.data, r.new_password);
    return body;
}

Result<Body> BuildBody(const ClearMaxDemandRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckPassword(r.password));
    Body body;
    body.function =
        r.edition == Edition::k1997 ? Function::kClearMaxDemand1997 : Function::kClearMaxDemand;
    PutPassword(body.data, r.password);
    if (r.edition == Edition::k2007)
        PutLe(body.data, r.operator_code, 4);
    return body;
}

Result<Body> BuildBody(const MeterClearRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckPassword(r.password));
    Body body;
    body.function = Function::kMeterClear;
    PutPassword(body.data, r.password);
    PutLe(body.data, r.operator_code, 4);
    return body;
}

Result<Body> BuildBody(const EventClearRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckPassword(r.password));
    Body body;
    body.function = Function::kEventClear;
    PutPassword(body.data, r.password);
    PutLe(body.data, r.operator_code, 4);
    PutLe(body.data, r.event_di, 4);
    return body;
}

Result<Body> BuildBody(const RemoteControlRequest& r, const RequestOptions&) {
    JOULE_TRY(CheckPassword(r.password));
    if (!IsKnownRemoteCommand(r.command)) {
        return InvalidArgument("data", "N1 " + HexByte(static_cast<std::uint8_t>(r.command)) +
                                           " is not a remote-control command");
    }
    Body body;
    body.function = Function::kRemoteControl;
    PutPassword(body.data, r.password);
    PutLe(body.data, r.operator_code, 4);
    body.data.push_back(static_cast<std::uint8_t>(r.command));
    body.data.push_back(r.reserved);
    JOULE_ASSIGN_OR_RETURN(Bytes deadline, EncodeDateTimeSeconds(r.valid_until));
    body.data.insert(body.data.end(), deadline.begin(), deadline.end());
    return body;
}

Result<Body> BuildBody(const MultiFunctionOutputRequest& r, const RequestOptions&) {
    auto code = static_cast<std::uint8_t>(r.output);
    if (code > 0x02)
        return InvalidArgument("data", "terminal output " + HexByte(code) + " is not 00..02H");
    return Body{Function::kMultiFunctionOutput, {code}};
}

// --- request parsers ------------------------------------------------------------------------

Result<Request> ParseReadData(ByteView d, Edition edition) {
    if (edition == Edition::k1997) {  // 11H with a 2-byte DI (PROTOCOLS.md §6.6)
        return ReadDataRequest{Edition::k1997, GetLe(d), std::nullopt};
    }
    if (d.size() != 4 && d.size() != 5 && d.size() != 10) {
        return InvalidArgument("length",
                               "11H needs L = 4 (DI), 5 (DI + N) or 10 (DI + N + "
                               "mmhhDDMMYY), got L = " +
                                   std::to_string(d.size()));
    }
    ReadDataRequest r{Edition::k2007, GetLe(d.first(4)), std::nullopt};
    if (d.size() >= 5) {
        LoadRecordQuery query;
        query.block_count = d[4];
        if (d.size() == 10) {
            JOULE_ASSIGN_OR_RETURN(query.from, DecodeDateTimeMinutes(d.subspan(5)));
        }
        r.load_record = query;
    }
    return r;
}

Result<std::optional<int>> ParseFreezeField(std::uint8_t b, int low, int high,
                                            std::string_view name) {
    if (b == 0x99)
        return std::optional<int>{};
    if (!IsBcdByte(b))
        return InvalidArgument("data",
                               "freeze " + std::string(name) + " " + HexByte(b) + " is not BCD");
    int value = BcdByteValue(b);
    if (value < low || value > high)
        return InvalidArgument("time", "freeze " + std::string(name) + " " + std::to_string(value) +
                                           " is out of range");
    return std::optional<int>{value};
}

Result<Request> ParseFreeze(ByteView d) {
    JOULE_TRY(NeedLength(d, 4, "16H freeze"));
    FreezeRequest r;
    JOULE_ASSIGN_OR_RETURN(r.minute, ParseFreezeField(d[0], 0, 59, "minute"));
    JOULE_ASSIGN_OR_RETURN(r.hour, ParseFreezeField(d[1], 0, 23, "hour"));
    JOULE_ASSIGN_OR_RETURN(r.day, ParseFreezeField(d[2], 1, 31, "day"));
    JOULE_ASSIGN_OR_RETURN(r.month, ParseFreezeField(d[3], 1, 12, "month"));
    return r;
}

Result<Request> ParseRemoteControl(ByteView d) {
    if (d.size() != 16) {
        return InvalidArgument("length", "1CH plaintext remote control needs L = 16, got L = " +
                                             std::to_string(d.size()) +
                                             " (the ESAM ciphertext form is not supported)");
    }
    RemoteControlRequest r;
    r.password = GetPassword(d.first(4));
    r.operator_code = GetLe(d.subspan(4, 4));
    r.command = static_cast<RemoteCommand>(d[8]);
    if (!IsKnownRemoteCommand(r.command))
        return InvalidArgument("data", "N1 " + HexByte(d[8]) + " is not a remote-control command");
    r.reserved = d[9];
    JOULE_ASSIGN_OR_RETURN(r.valid_until, DecodeDateTimeSeconds(d.subspan(10)));
    return r;
}

Result<Request> ParseRequestBody(const Frame& frame, Edition edition) {
    ByteView d = frame.data;
    switch (frame.control.function()) {
        case Function::kReadData:
            return ParseReadData(d, edition);
        case Function::kReadData1997:
            JOULE_TRY(NeedLength(d, 2, "01H read"));
            return ReadDataRequest{Edition::k1997, GetLe(d), std::nullopt};
        case Function::kReadFollowUp:
            JOULE_TRY(NeedLength(d, 5, "12H read follow-up"));
            return ReadFollowUpRequest{Edition::k2007, GetLe(d.first(4)), d[4]};
        case Function::kReadFollowUp1997:
            JOULE_TRY(NeedLength(d, 2, "02H read follow-up"));
            return ReadFollowUpRequest{Edition::k1997, GetLe(d), 0};
        case Function::kReadAddress:
            JOULE_TRY(NeedLength(d, 0, "13H read address"));
            return ReadAddressRequest{};
        case Function::kWriteData: {
            JOULE_TRY(NeedAtLeast(d, 12, "14H write"));
            Bytes value(d.begin() + 12, d.end());
            return WriteDataRequest{Edition::k2007, GetLe(d.first(4)), GetPassword(d.subspan(4, 4)),
                                    GetLe(d.subspan(8, 4)), std::move(value)};
        }
        case Function::kWriteData1997: {
            JOULE_TRY(NeedAtLeast(d, 6, "04H write"));
            Bytes value(d.begin() + 6, d.end());
            return WriteDataRequest{Edition::k1997, GetLe(d.first(2)), GetPassword(d.subspan(2, 4)),
                                    0, std::move(value)};
        }
        case Function::kWriteAddress:
        case Function::kWriteAddress1997: {
            JOULE_TRY(NeedLength(d, 6, "write address"));
            WriteAddressRequest r{edition, {}};
            std::copy(d.begin(), d.end(), r.new_address.bytes.begin());
            JOULE_TRY(CheckNewAddress(r.new_address));
            return r;
        }
        case Function::kBroadcastTime: {
            JOULE_ASSIGN_OR_RETURN(TimeSyncData sync, DecodeTimeSyncData(d));
            return BroadcastTimeRequest{sync.time};
        }
        case Function::kFreeze:
            return ParseFreeze(d);
        case Function::kChangeBaud:
        case Function::kChangeBaud1997:
            JOULE_TRY(NeedLength(d, 1, "change baud rate"));
            return ChangeBaudRequest{edition, d[0]};
        case Function::kChangePassword: {
            JOULE_TRY(NeedLength(d, 12, "18H change password"));
            DataId di = GetLe(d.first(4));
            JOULE_TRY(CheckPasswordDi(di));
            return ChangePasswordRequest{Edition::k2007, di, GetPassword(d.subspan(4, 4)),
                                         GetPassword(d.subspan(8, 4))};
        }
        case Function::kChangePassword1997:
            JOULE_TRY(NeedLength(d, 8, "0FH change password"));
            return ChangePasswordRequest{Edition::k1997, 0, GetPassword(d.first(4)),
                                         GetPassword(d.subspan(4, 4))};
        case Function::kClearMaxDemand:
            JOULE_TRY(NeedLength(d, 8, "19H clear maximum demand"));
            return ClearMaxDemandRequest{Edition::k2007, GetPassword(d.first(4)),
                                         GetLe(d.subspan(4, 4))};
        case Function::kClearMaxDemand1997:
            JOULE_TRY(NeedLength(d, 4, "10H clear maximum demand"));
            return ClearMaxDemandRequest{Edition::k1997, GetPassword(d), 0};
        case Function::kMeterClear:
            JOULE_TRY(NeedLength(d, 8, "1AH meter clear"));
            return MeterClearRequest{GetPassword(d.first(4)), GetLe(d.subspan(4, 4))};
        case Function::kEventClear:
            JOULE_TRY(NeedLength(d, 12, "1BH event clear"));
            return EventClearRequest{GetPassword(d.first(4)), GetLe(d.subspan(4, 4)),
                                     GetLe(d.subspan(8, 4))};
        case Function::kRemoteControl:
            return ParseRemoteControl(d);
        case Function::kMultiFunctionOutput:
            JOULE_TRY(NeedLength(d, 1, "1DH multi-function output"));
            if (d[0] > 0x02)
                return InvalidArgument("data",
                                       "terminal output " + HexByte(d[0]) + " is not 00..02H");
            return MultiFunctionOutputRequest{static_cast<TerminalOutput>(d[0])};
        case Function::kSecurityAuthentication:
            return InvalidArgument("control",
                                   "03H security authentication (ESAM) is not "
                                   "supported");
    }
    return InvalidArgument("control", "function " +
                                          HexByte(FunctionCode(frame.control.function())) +
                                          " is not a request either edition defines");
}

// --- replies --------------------------------------------------------------------------------

Result<Frame> BuildReplyFrame(const Address& address, const ReadReply& r) {
    JOULE_TRY(CheckDi(r.di, r.edition));
    Frame frame{address, {}, {}};
    Function function;
    if (r.edition == Edition::k1997) {
        if (r.seq.has_value())
            return InvalidArgument("seq", "1997 replies carry no SEQ");
        function = r.answers_follow_up_read ? Function::kReadFollowUp1997 : Function::kReadData1997;
    } else {
        if (r.answers_follow_up_read != r.seq.has_value()) {
            return InvalidArgument("seq", "a SEQ ends exactly the replies to 12H read follow-up");
        }
        function = r.answers_follow_up_read ? Function::kReadFollowUp : Function::kReadData;
    }
    frame.control = Control::Reply(function, r.more_frames_follow);
    PutLe(frame.data, r.di, DiWidth(r.edition));
    frame.data.insert(frame.data.end(), r.payload.begin(), r.payload.end());
    if (r.seq.has_value())
        frame.data.push_back(*r.seq);
    return frame;
}

Result<Frame> BuildReplyFrame(const Address& address, const AddressReply& r) {
    for (std::uint8_t b : r.address.bytes) {
        if (!IsAddressByte(b))
            return InvalidArgument("data", "an address byte is neither BCD nor AAH");
    }
    return Frame{address, Control::Reply(Function::kReadAddress),
                 Bytes(r.address.bytes.begin(), r.address.bytes.end())};
}

Result<Frame> BuildReplyFrame(const Address& address, const AckReply& r) {
    if (!IsAckFunction(r.function)) {
        return InvalidArgument("control", HexByte(FunctionCode(r.function)) +
                                              " is not answered by an L = 0 confirmation");
    }
    return Frame{address, Control::Reply(r.function), {}};
}

Result<Frame> BuildReplyFrame(const Address& address, const BaudReply& r) {
    Function function =
        r.edition == Edition::k1997 ? Function::kChangeBaud1997 : Function::kChangeBaud;
    return Frame{address, Control::Reply(function), {r.z}};
}

Result<Frame> BuildReplyFrame(const Address& address, const PasswordReply& r) {
    JOULE_TRY(CheckPassword(r.new_password));
    Function function =
        r.edition == Edition::k1997 ? Function::kChangePassword1997 : Function::kChangePassword;
    Frame frame{address, Control::Reply(function), {}};
    PutPassword(frame.data, r.new_password);
    return frame;
}

Result<Frame> BuildReplyFrame(const Address& address, const ErrorReply& r) {
    if (!IsFunctionDefined(r.function) || r.function == Function::kBroadcastTime ||
        r.function == Function::kSecurityAuthentication) {
        return InvalidArgument("control",
                               HexByte(FunctionCode(r.function)) + " has no 1-byte error reply");
    }
    return Frame{address, Control::AbnormalReply(r.function), {r.error.raw}};
}

Result<Reply> ParseReadReply(const Frame& frame, Edition edition) {
    ByteView d = frame.data;
    Function function = frame.control.function();
    ReadReply r;
    r.edition = edition;
    r.answers_follow_up_read =
        function == Function::kReadFollowUp || function == Function::kReadFollowUp1997;
    r.more_frames_follow = frame.control.more_frames_follow();
    std::size_t width = DiWidth(edition);
    std::size_t seq_bytes = function == Function::kReadFollowUp ? 1 : 0;
    JOULE_TRY(NeedAtLeast(d, width + seq_bytes, "a read reply"));
    r.di = GetLe(d.first(width));
    r.payload.assign(d.begin() + static_cast<std::ptrdiff_t>(width),
                     d.end() - static_cast<std::ptrdiff_t>(seq_bytes));
    if (seq_bytes == 1)
        r.seq = d.back();
    return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Address

Result<Address> ParseAddress(std::string_view text, AddressPadding padding) {
    if (text.empty() || text.size() > 2 * kAddressBytes) {
        return InvalidArgument("address",
                               "needs 1 to 12 characters, got " + std::to_string(text.size()));
    }
    std::string full(text);
    std::size_t missing = 2 * kAddressBytes - full.size();
    if (padding == AddressPadding::kAA) {
        if (missing % 2 == 1) {
            full.insert(0, 1, '0');
            --missing;
        }
        full.insert(0, missing, 'A');
    } else {
        full.insert(0, missing, '0');
    }
    Address out;
    for (std::size_t i = 0; i < kAddressBytes; ++i) {
        char high = full[2 * i];
        char low = full[2 * i + 1];
        std::uint8_t byte = 0;
        if (IsA(high) && IsA(low)) {
            byte = 0xAA;
        } else if (IsDigit(high) && IsDigit(low)) {
            byte = static_cast<std::uint8_t>((high - '0') << 4 | (low - '0'));
        } else {
            return InvalidArgument("address", "\"" + full.substr(2 * i, 2) + "\" in \"" + full +
                                                  "\" is neither two digits nor AA");
        }
        out.bytes[kAddressBytes - 1 - i] = byte;
    }
    return out;
}

std::string FormatAddress(const Address& address) {
    std::string out;
    out.reserve(2 * kAddressBytes);
    for (std::size_t i = kAddressBytes; i-- > 0;) {
        std::uint8_t b = address.bytes[i];
        out += ToHex(ByteView(&b, 1));
    }
    return out;
}

bool IsBroadcast(const Address& address) { return address == kBroadcastAddress; }

bool HasWildcard(const Address& address) {
    return std::any_of(address.bytes.begin(), address.bytes.end(),
                       [](std::uint8_t b) { return b == 0xAA; });
}

bool AddressMatches(const Address& pattern, const Address& actual) {
    if (pattern == actual || IsBroadcast(pattern))
        return true;
    std::size_t exact = 0;  // low bytes that must match
    while (exact < kAddressBytes && pattern.bytes[exact] != 0xAA)
        ++exact;
    for (std::size_t i = exact; i < kAddressBytes; ++i) {
        if (pattern.bytes[i] != 0xAA)
            return false;  // AAH below a real byte: not a short address
    }
    return std::equal(pattern.bytes.begin(),
                      pattern.bytes.begin() + static_cast<std::ptrdiff_t>(exact),
                      actual.bytes.begin());
}

// ---------------------------------------------------------------------------------------------
// Control

Control Control::Request(Function function) { return Control{FunctionCode(function)}; }

Control Control::Reply(Function function, bool more_frames_follow) {
    return Control{
        static_cast<std::uint8_t>(0x80 | (more_frames_follow ? 0x20 : 0) | FunctionCode(function))};
}

Control Control::AbnormalReply(Function function) {
    return Control{static_cast<std::uint8_t>(0xC0 | FunctionCode(function))};
}

// ---------------------------------------------------------------------------------------------
// Frames

Result<DecodedFrame> DecodeFrame(ByteView bytes) {
    std::size_t start = 0;
    while (start < bytes.size() && bytes[start] == kPreambleByte)
        ++start;
    if (start == bytes.size())
        return Truncated("start", bytes.empty() ? "no bytes yet" : "only FEH preamble so far");
    ByteView f = bytes.subspan(start);
    if (f[0] != kStartByte) {
        return InvalidArgument(
            "start", "expected 68H at offset " + std::to_string(start) + ", got " + HexByte(f[0]));
    }
    for (std::size_t i = 1; i <= kAddressBytes; ++i) {
        if (i >= f.size())
            return Truncated("address", "the input ends inside the address");
        if (!IsAddressByte(f[i])) {
            return InvalidArgument("address", "A" + std::to_string(i - 1) + " is " + HexByte(f[i]) +
                                                  ": neither BCD nor AAH");
        }
    }
    if (f.size() < 8)
        return Truncated("start", "the input ends before the second 68H");
    if (f[7] != kStartByte)
        return InvalidArgument("start", "expected the second 68H, got " + HexByte(f[7]));
    if (f.size() < 9)
        return Truncated("control", "the input ends before the control byte");
    if (f.size() < 10)
        return Truncated("length", "the input ends before L");
    std::size_t length = f[9];
    if (length > kMaxDataBytes) {
        return InvalidArgument("length", "L = " + std::to_string(length) + " exceeds " +
                                             std::to_string(kMaxDataBytes));
    }
    std::size_t checksum_at = 10 + length;
    if (f.size() < checksum_at)
        return Truncated("data",
                         "the input ends inside the " + std::to_string(length) + " data bytes");
    if (f.size() == checksum_at)
        return Truncated("checksum", "the input ends before CS");
    std::uint8_t computed = Sum8(f.first(checksum_at));
    if (f[checksum_at] != computed) {
        return MakeError(
            ErrorCode::kDataLoss,
            "CS is " + HexByte(f[checksum_at]) + ", the bytes sum to " + HexByte(computed),
            "checksum");
    }
    if (f.size() == checksum_at + 1)
        return Truncated("end", "the input ends before 16H");
    if (f[checksum_at + 1] != kEndByte)
        return InvalidArgument("end", "expected 16H, got " + HexByte(f[checksum_at + 1]));

    DecodedFrame out;
    std::copy(f.begin() + 1, f.begin() + 7, out.frame.address.bytes.begin());
    out.frame.control = Control{f[8]};
    out.frame.data.reserve(length);
    for (std::size_t i = 0; i < length; ++i)
        out.frame.data.push_back(static_cast<std::uint8_t>(f[10 + i] - kDataOffset));
    out.consumed = start + checksum_at + 2;
    return out;
}

Result<Bytes> EncodeFrame(const Frame& frame, const FrameOptions& options) {
    if (options.preamble_count > kMaxPreambleBytes) {
        return InvalidArgument("preamble", "at most " + std::to_string(kMaxPreambleBytes) +
                                               " FEH, asked for " +
                                               std::to_string(options.preamble_count));
    }
    for (std::uint8_t b : frame.address.bytes) {
        if (!IsAddressByte(b))
            return InvalidArgument("address", HexByte(b) + " is neither BCD nor AAH");
    }
    if (frame.data.size() > kMaxDataBytes) {
        return InvalidArgument("length",
                               std::to_string(frame.data.size()) +
                                   " data bytes do not fit L <= " + std::to_string(kMaxDataBytes));
    }
    Bytes out(options.preamble_count, kPreambleByte);
    out.reserve(options.preamble_count + kFrameOverheadBytes + frame.data.size());
    out.push_back(kStartByte);
    out.insert(out.end(), frame.address.bytes.begin(), frame.address.bytes.end());
    out.push_back(kStartByte);
    out.push_back(frame.control.raw);
    out.push_back(static_cast<std::uint8_t>(frame.data.size()));
    for (std::uint8_t b : frame.data)
        out.push_back(static_cast<std::uint8_t>(b + kDataOffset));
    out.push_back(Sum8(ByteView(out).subspan(options.preamble_count)));
    out.push_back(kEndByte);
    return out;
}

Result<Edition> DetectEdition(const Frame& frame) {
    switch (frame.control.function()) {
        case Function::kReadData1997:
        case Function::kReadFollowUp1997:
        case Function::kWriteData1997:
        case Function::kWriteAddress1997:
        case Function::kChangeBaud1997:
        case Function::kChangePassword1997:
        case Function::kClearMaxDemand1997:
            return Edition::k1997;
        case Function::kReadData:
            if (!frame.control.is_reply() && frame.data.size() == 2)
                return Edition::k1997;
            return Edition::k2007;
        case Function::kBroadcastTime:
        case Function::kSecurityAuthentication:
        case Function::kReadFollowUp:
        case Function::kReadAddress:
        case Function::kWriteData:
        case Function::kWriteAddress:
        case Function::kFreeze:
        case Function::kChangeBaud:
        case Function::kChangePassword:
        case Function::kClearMaxDemand:
        case Function::kMeterClear:
        case Function::kEventClear:
        case Function::kRemoteControl:
        case Function::kMultiFunctionOutput:
            return Edition::k2007;
    }
    return InvalidArgument("control", "function " +
                                          HexByte(FunctionCode(frame.control.function())) +
                                          " is defined by neither edition");
}

// ---------------------------------------------------------------------------------------------
// Messages

std::string FormatDataId(DataId di, Edition edition) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::size_t digits = edition == Edition::k1997 ? 4 : 8;
    std::string out(digits, '0');
    for (std::size_t i = digits; i-- > 0;) {
        out[i] = kDigits[di & 0x0F];
        di >>= 4;
    }
    return out;
}

std::string DescribeErrorWord(ErrorWord word) {
    static constexpr std::pair<ErrorBit, std::string_view> kNames[] = {
        {ErrorBit::kOther, "other error"},
        {ErrorBit::kNoRequestedData, "no requested data"},
        {ErrorBit::kPasswordOrUnauthorized, "password error or unauthorized"},
        {ErrorBit::kBaudRateUnchangeable, "baud rate cannot be changed"},
        {ErrorBit::kYearZonesExceeded, "year time-zone count exceeded"},
        {ErrorBit::kDaySlotsExceeded, "day time-period count exceeded"},
        {ErrorBit::kTariffsExceeded, "tariff count exceeded"},
    };
    std::string out;
    for (const auto& [bit, name] : kNames) {
        if (!word.Has(bit))
            continue;
        if (!out.empty())
            out += "; ";
        out += name;
    }
    if ((word.raw & 0x80) != 0)
        out += out.empty() ? "reserved bit 7" : "; reserved bit 7";
    return out.empty() ? "none" : out;
}

Result<Frame> BuildRequest(const Address& address, const Request& request,
                           const RequestOptions& options) {
    JOULE_ASSIGN_OR_RETURN(
        Body body, std::visit([&](const auto& r) { return BuildBody(r, options); }, request));
    return Frame{address, Control::Request(body.function), std::move(body.data)};
}

Result<Request> ParseRequest(const Frame& frame) {
    if (frame.control.is_reply())
        return InvalidArgument("control", "a reply (D7 = 1), not a request");
    if (frame.control.is_abnormal() || frame.control.more_frames_follow())
        return InvalidArgument("control", "a request never sets D6 or D5");
    JOULE_ASSIGN_OR_RETURN(Edition edition, DetectEdition(frame));
    return ParseRequestBody(frame, edition);
}

Result<TimeSyncData> DecodeTimeSyncData(ByteView data) {
    JOULE_TRY(NeedLength(data, 6, "08H broadcast time sync"));
    if (auto standard = DecodeDateTimeSeconds(data); standard.has_value())
        return TimeSyncData{*standard, TimeSyncForm::kPlus33};
    Bytes wire(data.begin(), data.end());
    for (std::uint8_t& b : wire)
        b = static_cast<std::uint8_t>(b + kDataOffset);
    if (auto plain = DecodeDateTimeSeconds(wire); plain.has_value())
        return TimeSyncData{*plain, TimeSyncForm::kPlain};
    return InvalidArgument("time", "neither the +33H form (" + ToHex(data) +
                                       ") nor the plain form (" + ToHex(wire) +
                                       ") is a valid ss mm hh DD MM YY");
}

Result<Frame> BuildReply(const Address& address, const Reply& reply) {
    JOULE_ASSIGN_OR_RETURN(
        Frame frame, std::visit([&](const auto& r) { return BuildReplyFrame(address, r); }, reply));
    if (frame.data.size() > kMaxDataBytes) {
        return InvalidArgument("length",
                               std::to_string(frame.data.size()) +
                                   " data bytes do not fit L <= " + std::to_string(kMaxDataBytes));
    }
    return frame;
}

Result<Reply> ParseReply(const Frame& frame) {
    if (!frame.control.is_reply())
        return InvalidArgument("control", "a request (D7 = 0), not a reply");
    Function function = frame.control.function();
    ByteView d = frame.data;
    if (frame.control.is_abnormal()) {
        if (function == Function::kSecurityAuthentication) {
            return InvalidArgument("control",
                                   "C3H security-authentication errors (2-byte SERR) "
                                   "are not supported");
        }
        if (!IsFunctionDefined(function) || function == Function::kBroadcastTime) {
            return InvalidArgument("control", HexByte(frame.control.raw) +
                                                  " is not an error reply of a known request");
        }
        JOULE_TRY(NeedLength(d, 1, "an error reply"));
        return ErrorReply{function, ErrorWord{d[0]}};
    }
    switch (function) {
        case Function::kReadData:
        case Function::kReadFollowUp:
            return ParseReadReply(frame, Edition::k2007);
        case Function::kReadData1997:
        case Function::kReadFollowUp1997:
            return ParseReadReply(frame, Edition::k1997);
        case Function::kReadAddress: {
            JOULE_TRY(NeedLength(d, 6, "93H address reply"));
            AddressReply r;
            std::copy(d.begin(), d.end(), r.address.bytes.begin());
            for (std::uint8_t b : r.address.bytes) {
                if (!IsAddressByte(b))
                    return InvalidArgument(
                        "data", "the reported address is not BCD: " + FormatAddress(r.address));
            }
            return r;
        }
        case Function::kChangeBaud:
        case Function::kChangeBaud1997:
            JOULE_TRY(NeedLength(d, 1, "a baud-rate reply"));
            return BaudReply{function == Function::kChangeBaud ? Edition::k2007 : Edition::k1997,
                             d[0]};
        case Function::kChangePassword:
        case Function::kChangePassword1997:
            JOULE_TRY(NeedLength(d, 4, "a password reply"));
            return PasswordReply{
                function == Function::kChangePassword ? Edition::k2007 : Edition::k1997,
                GetPassword(d)};
        default:
            break;
    }
    if (IsAckFunction(function)) {
        JOULE_TRY(NeedLength(d, 0, "a confirmation"));
        return AckReply{function};
    }
    return InvalidArgument("control",
                           HexByte(frame.control.raw) + " is not a reply to a supported request");
}

Status CheckReplyMatches(const Frame& request, const Frame& reply) {
    if (request.control.is_reply())
        return InvalidArgument("control", "the request frame is itself a reply");
    if (!reply.control.is_reply())
        return InvalidArgument("control", "the reply frame is a request (D7 = 0)");
    Function asked = request.control.function();
    if (asked == Function::kBroadcastTime || IsBroadcast(request.address))
        return InvalidArgument("address", "broadcast requests get no reply");
    Function answered = reply.control.function();
    bool read_1997_as_11 = asked == Function::kReadData && request.data.size() == 2;
    if (answered != asked && !(read_1997_as_11 && answered == Function::kReadData1997)) {
        return InvalidArgument("control", "a " + HexByte(reply.control.raw) +
                                              " reply does not answer a " +
                                              HexByte(request.control.raw) + " request");
    }
    if (!AddressMatches(request.address, reply.address)) {
        return InvalidArgument("address", "the reply comes from " + FormatAddress(reply.address) +
                                              ", the request went to " +
                                              FormatAddress(request.address));
    }
    if (reply.control.is_abnormal() || !IsReadFunction(asked))
        return {};
    std::size_t width = request.data.size() == 2 ? 2 : 4;
    if (request.data.size() < width)
        return InvalidArgument("di", "the request carries no DI");
    if (reply.data.size() < width)
        return InvalidArgument("di", "the reply is too short to carry the DI");
    if (!std::equal(request.data.begin(), request.data.begin() + static_cast<std::ptrdiff_t>(width),
                    reply.data.begin())) {
        return InvalidArgument("di", "the reply's DI " + ToHex(ByteView(reply.data).first(width)) +
                                         " is not the request's " +
                                         ToHex(ByteView(request.data).first(width)) +
                                         " (DI0 first)");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Baud-rate word

namespace {

constexpr std::uint32_t kRates[] = {600, 1200, 2400, 4800, 9600, 19200};

std::uint8_t CodeFor(std::size_t rate_index, BaudTable table) {
    switch (table) {
        case BaudTable::kBitmapD1Is600:
            return static_cast<std::uint8_t>(0x02 << rate_index);
        case BaudTable::kBitmapD0Is600:
            return static_cast<std::uint8_t>(0x01 << rate_index);
        case BaudTable::kBitmapD2Is600:
            return static_cast<std::uint8_t>(0x04 << rate_index);
        case BaudTable::kRateDiv300Bcd:
            return ToBcdByte(kRates[rate_index] / 300);
    }
    return 0;
}

bool IsKnownTable(BaudTable table) {
    switch (table) {
        case BaudTable::kBitmapD1Is600:
        case BaudTable::kBitmapD0Is600:
        case BaudTable::kBitmapD2Is600:
        case BaudTable::kRateDiv300Bcd:
            return true;
    }
    return false;
}

}  // namespace

Result<std::uint8_t> BaudRateToZ(std::uint32_t bits_per_second, BaudTable table) {
    if (!IsKnownTable(table))
        return InvalidArgument("baud", "unknown baud table");
    for (std::size_t i = 0; i < std::size(kRates); ++i) {
        if (kRates[i] == bits_per_second)
            return CodeFor(i, table);
    }
    return InvalidArgument(
        "baud", std::to_string(bits_per_second) + " bps has no Z code (600..19200 only)");
}

Result<std::uint32_t> ZToBaudRate(std::uint8_t z, BaudTable table) {
    if (!IsKnownTable(table))
        return InvalidArgument("z", "unknown baud table");
    for (std::size_t i = 0; i < std::size(kRates); ++i) {
        if (CodeFor(i, table) == z)
            return kRates[i];
    }
    return InvalidArgument("z", HexByte(z) + " is not a rate in this table");
}

}  // namespace joule::codec::dlt645
