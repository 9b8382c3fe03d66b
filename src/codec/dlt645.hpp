// DL/T 645-2007 and DL/T 645-1997: the multi-function watt-hour meter protocol spoken by Chinese
// electricity meters over RS-485 (PROTOCOLS.md §1; grammar in docs/protocols/dlt645.md).
//
// Three layers, each usable alone:
//   1. Frames: 68 A0..A5 68 C L DATA CS 16 <-> Frame{address, control, data with 33H removed}.
//   2. Messages: typed requests (read, write, time sync, freeze, 1CH trip/close, ...) and typed
//      replies, built into Frames and parsed out of them, for a master and for a simulated meter.
//   3. Data identifiers: a table of DIs with their formats, turning a read reply's payload into
//      exact Decimals, dates and status words, and back.
// Where field sources disagree (PROTOCOLS.md §6) the parsers accept every form seen in the field,
// and each encoder choice is an explicit option that the meter model sets.
//
// Pure: no I/O, no clock, no floating point. Every decoder reads only inside its input. Errors:
// kOutOfRange = the bytes end too early (a stream scanner reads this as "need more bytes"),
// kInvalidArgument = malformed, kDataLoss = checksum mismatch; Error::field names the part at fault
// ("start", "address", "control", "length", "data", "checksum", "end", "di", ...).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.hpp"
#include "codec/bytes.hpp"
#include "codec/values.hpp"

namespace joule::codec::dlt645 {

// ---------------------------------------------------------------------------------------------
// Limits and wire constants (PROTOCOLS.md §1.1, §1.2)

inline constexpr std::size_t kAddressBytes = 6;
inline constexpr std::size_t kFrameOverheadBytes = 12;  // 68 A0..A5 68 C L CS 16
inline constexpr std::size_t kMaxDataBytes = 200;       // L of any frame (read replies: L <= 200)
inline constexpr std::size_t kMaxWriteDataBytes = 50;   // L of a write request (14H, 04H) we build
inline constexpr std::size_t kMaxFrameBytes = kFrameOverheadBytes + kMaxDataBytes;
inline constexpr std::size_t kMaxPreambleBytes =
    4;  // the encoder's limit; decoders skip any number
inline constexpr std::uint8_t kPreambleByte = 0xFE;
inline constexpr std::uint8_t kStartByte = 0x68;
inline constexpr std::uint8_t kEndByte = 0x16;
inline constexpr std::uint8_t kDataOffset = 0x33;  // added to every DATA byte on the wire

enum class Edition : std::uint8_t {
    k2007 = 1,  // 4-byte DI, control codes 11H..1DH
    k1997 = 2,  // 2-byte DI, control codes 01H..10H
};

// ---------------------------------------------------------------------------------------------
// Address: 6 bytes of 2 BCD digits, low byte first. AAH bytes are wildcards.

struct Address {
    std::array<std::uint8_t, kAddressBytes> bytes{};  // wire order: bytes[0] = lowest two digits

    friend bool operator==(const Address&, const Address&) = default;
};

// 999999999999: broadcast time sync and broadcast freeze only; meters never reply to it.
inline constexpr Address kBroadcastAddress{{0x99, 0x99, 0x99, 0x99, 0x99, 0x99}};
// AAAAAAAAAAAA: every byte a wildcard; "read address" (13H) on a single-meter bus uses it.
inline constexpr Address kWildcardAddress{{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}};

// How ParseAddress fills the high digits of a number shorter than 12 digits (PROTOCOLS.md §6.11).
enum class AddressPadding : std::uint8_t {
    kZero = 1,  // the standard: "123" -> 000000000123
    kAA = 2,    // some vendors: "123" -> AAAAAAAA0123 (an odd digit count pads one 0 first)
};

// "123456789012" (high digits first, as printed on the meter) -> Address. 1..12 characters; each
// byte's two characters are decimal digits or "AA" (wildcard, either case). kInvalidArgument
// (field "address") for anything else.
[[nodiscard]] Result<Address> ParseAddress(std::string_view text,
                                           AddressPadding padding = AddressPadding::kZero);
// 12 characters, high byte first: "123456789012", "AAAAAAAA0123".
[[nodiscard]] std::string FormatAddress(const Address& address);
[[nodiscard]] bool IsBroadcast(const Address& address);
[[nodiscard]] bool HasWildcard(const Address& address);
// True when a meter whose real address is `actual` must act on a frame sent to `pattern`: equal
// addresses; the broadcast address; or short addressing, where counting from the low byte the
// pattern's remaining high bytes are all AAH and the bytes below them equal `actual`'s.
// AAH bytes below a non-AAH byte are not a valid short address and match only themselves.
[[nodiscard]] bool AddressMatches(const Address& pattern, const Address& actual);

// ---------------------------------------------------------------------------------------------
// Control byte: D7 direction, D6 abnormal reply, D5 more frames follow, D4..D0 function.

// The function field (D4..D0). The two editions share 08H and otherwise use disjoint codes, except
// 03H: 2007 security authentication, 1997 re-read (neither is supported by the message layer).
enum class Function : std::uint8_t {
    kBroadcastTime = 0x08,  // both editions
    // DL/T 645-2007
    kSecurityAuthentication = 0x03,
    kReadData = 0x11,
    kReadFollowUp = 0x12,
    kReadAddress = 0x13,
    kWriteData = 0x14,
    kWriteAddress = 0x15,
    kFreeze = 0x16,
    kChangeBaud = 0x17,
    kChangePassword = 0x18,
    kClearMaxDemand = 0x19,
    kMeterClear = 0x1A,
    kEventClear = 0x1B,
    kRemoteControl = 0x1C,
    kMultiFunctionOutput = 0x1D,
    // DL/T 645-1997
    kReadData1997 = 0x01,
    kReadFollowUp1997 = 0x02,
    kWriteData1997 = 0x04,
    kWriteAddress1997 = 0x0A,
    kChangeBaud1997 = 0x0C,
    kChangePassword1997 = 0x0F,
    kClearMaxDemand1997 = 0x10,
};

enum class Direction : std::uint8_t { kMasterToSlave = 0, kSlaveToMaster = 1 };

struct Control {
    std::uint8_t raw = 0;

    [[nodiscard]] static Control Request(Function function);
    [[nodiscard]] static Control Reply(Function function, bool more_frames_follow = false);
    [[nodiscard]] static Control AbnormalReply(Function function);

    [[nodiscard]] Direction direction() const {
        return (raw & 0x80) != 0 ? Direction::kSlaveToMaster : Direction::kMasterToSlave;
    }
    [[nodiscard]] bool is_reply() const { return (raw & 0x80) != 0; }
    [[nodiscard]] bool is_abnormal() const { return (raw & 0x40) != 0; }
    [[nodiscard]] bool more_frames_follow() const { return (raw & 0x20) != 0; }
    [[nodiscard]] Function function() const { return static_cast<Function>(raw & 0x1F); }

    friend bool operator==(const Control&, const Control&) = default;
};

// ---------------------------------------------------------------------------------------------
// Frames

struct Frame {
    Address address;
    Control control;
    Bytes data;  // L bytes with 33H already removed (plain values, DI0 first)

    friend bool operator==(const Frame&, const Frame&) = default;
};

struct DecodedFrame {
    Frame frame;
    std::size_t consumed = 0;  // bytes of input used, leading FEH included
};

// Decodes the first frame in `bytes`: skips any number of leading FEH, then checks 68H, the
// address (each byte BCD or AAH), the second 68H, L <= kMaxDataBytes, the checksum and 16H, in
// wire order. Bytes after the frame are ignored (see `consumed`).
// Errors: kOutOfRange when the input ends before the frame does (every proper prefix of a valid
// frame, empty input, only FEH); kInvalidArgument for a wrong byte ("start", "address", "length",
// "end"); kDataLoss (field "checksum") when CS is not the sum of 68H..DATA mod 256. A byte that is
// already wrong is reported even when later bytes are missing.
[[nodiscard]] Result<DecodedFrame> DecodeFrame(ByteView bytes);

struct FrameOptions {
    std::size_t preamble_count = 4;  // FEH bytes sent before the frame, 0..kMaxPreambleBytes
};

// The wire bytes of `frame`: preamble, 68H, address, 68H, C, L, DATA + 33H, CS, 16H.
// kInvalidArgument: preamble_count > 4 ("preamble"), an address byte neither BCD nor AAH
// ("address"), more than kMaxDataBytes of data ("length").
[[nodiscard]] Result<Bytes> EncodeFrame(const Frame& frame, const FrameOptions& options = {});

// Which edition a decoded frame speaks, from its function code and data length: 01/02/04/0A/0C/
// 0F/10H are 1997; 11H with a 2-byte DI is a 1997 read sent with the 2007 code (PROTOCOLS.md §6.6);
// 08H (identical in both) and 03H are reported as 2007. kInvalidArgument ("control") for a
// function code neither edition defines.
[[nodiscard]] Result<Edition> DetectEdition(const Frame& frame);

// ---------------------------------------------------------------------------------------------
// Message fields

// DI3 DI2 DI1 DI0 as written in the standard (0x00010000 = forward active total). Sent DI0 first.
// 1997 identifiers use the low 16 bits (0x9010).
using DataId = std::uint32_t;

// "00010000" (8 hex digits, DI3 first) for 2007; "9010" (4 digits) for 1997.
[[nodiscard]] std::string FormatDataId(DataId di, Edition edition = Edition::k2007);

// PA P0 P1 P2 on the wire. `code` holds P2 P1 P0 as written (0x123456 -> P0 = 56H); < 2^24.
struct Password {
    std::uint8_t level = 0;  // PA: 02H/04H plaintext levels; 98H means ESAM ciphertext follows
    std::uint32_t code = 0;

    friend bool operator==(const Password&, const Password&) = default;
};

// The error word ERR of an abnormal reply (PROTOCOLS.md §1.4). 1997 meters use the same byte with
// bits 0/1 read as "illegal data"/"wrong DI" [MEM].
enum class ErrorBit : std::uint8_t {
    kOther = 0x01,
    kNoRequestedData = 0x02,
    kPasswordOrUnauthorized = 0x04,
    kBaudRateUnchangeable = 0x08,
    kYearZonesExceeded = 0x10,
    kDaySlotsExceeded = 0x20,
    kTariffsExceeded = 0x40,
};

struct ErrorWord {
    std::uint8_t raw = 0;

    [[nodiscard]] bool Has(ErrorBit bit) const {
        return (raw & static_cast<std::uint8_t>(bit)) != 0;
    }
    friend bool operator==(const ErrorWord&, const ErrorWord&) = default;
};

// "no requested data; password error or unauthorized"; "none" for 0.
[[nodiscard]] std::string DescribeErrorWord(ErrorWord word);

// N1 of the 1CH remote control request. 2A/2B/3A/3B are [MEM] (PROTOCOLS.md §1.3).
enum class RemoteCommand : std::uint8_t {  // wire values: never renumber
    kTrip = 0x1A,
    kCloseAllowed = 0x1B,  // the user presses the meter's button to close
    kDirectClose = 0x1C,
    kAlarm = 0x2A,
    kAlarmRelease = 0x2B,
    kHoldPower = 0x3A,  // 保电: never trip while held
    kHoldRelease = 0x3B,
};

// The 1 data byte of 1DH [MEM].
enum class TerminalOutput : std::uint8_t {  // wire values: never renumber
    kClockPulse = 0x00,
    kDemandPeriod = 0x01,
    kTimeSlotSwitch = 0x02,
};

// ---------------------------------------------------------------------------------------------
// Requests (master -> meter)

// 11H load-record form: DI + N [+ mm hh DD MM YY]. N is sent as a binary count [MEM].
struct LoadRecordQuery {
    std::uint8_t block_count = 1;
    std::optional<MeterDateTime> from;  // minute precision; seconds must be 0

    friend bool operator==(const LoadRecordQuery&, const LoadRecordQuery&) = default;
};

// 11H (2007) / 01H (1997; or 11H with a 2-byte DI, see RequestOptions).
struct ReadDataRequest {
    Edition edition = Edition::k2007;
    DataId di = 0;
    std::optional<LoadRecordQuery> load_record;  // 2007 only

    friend bool operator==(const ReadDataRequest&, const ReadDataRequest&) = default;
};

// 12H: DI + SEQ (2007) / 02H: DI (1997, no SEQ [MEM]).
struct ReadFollowUpRequest {
    Edition edition = Edition::k2007;
    DataId di = 0;
    std::uint8_t seq = 0;  // 2007 only

    friend bool operator==(const ReadFollowUpRequest&, const ReadFollowUpRequest&) = default;
};

// 13H, L = 0, usually to kWildcardAddress. 2007 only.
struct ReadAddressRequest {
    friend bool operator==(const ReadAddressRequest&, const ReadAddressRequest&) = default;
};

// 14H: DI(4) + PA P0P1P2 + C0..C3 + value. 04H (1997): DI(2) + PA P0P1P2 + value.
struct WriteDataRequest {
    Edition edition = Edition::k2007;
    DataId di = 0;
    Password password;
    std::uint32_t operator_code = 0;  // C0 = low byte; 2007 only
    Bytes value;                      // the item's bytes, plain, low byte first

    friend bool operator==(const WriteDataRequest&, const WriteDataRequest&) = default;
};

// 15H (2007, sent to kWildcardAddress) / 0AH (1997): the new address, all BCD.
struct WriteAddressRequest {
    Edition edition = Edition::k2007;
    Address new_address;

    friend bool operator==(const WriteAddressRequest&, const WriteAddressRequest&) = default;
};

// 08H, both editions: ss mm hh DD MM YY, to kBroadcastAddress per the standard (some meters also
// take it on their own address). No reply. Years 2000..2099.
struct BroadcastTimeRequest {
    MeterDateTime time;

    friend bool operator==(const BroadcastTimeRequest&, const BroadcastTimeRequest&) = default;
};

// 16H: mm hh DD MM, each 99 (here nullopt) as a wildcard; 99 99 99 99 freezes at once.
struct FreezeRequest {
    std::optional<int> month;
    std::optional<int> day;
    std::optional<int> hour;
    std::optional<int> minute;

    friend bool operator==(const FreezeRequest&, const FreezeRequest&) = default;
};

// 17H (2007) / 0CH (1997): the baud-rate characteristic word Z; see BaudTable.
struct ChangeBaudRequest {
    Edition edition = Edition::k2007;
    std::uint8_t z = 0;

    friend bool operator==(const ChangeBaudRequest&, const ChangeBaudRequest&) = default;
};

// 18H: DI (04000C01..04000C0A) + old PA+PW + new PA+PW. 0FH (1997): old + new, no DI [MEM].
struct ChangePasswordRequest {
    Edition edition = Edition::k2007;
    DataId di = 0x04000C01;  // 2007 only
    Password old_password;
    Password new_password;

    friend bool operator==(const ChangePasswordRequest&, const ChangePasswordRequest&) = default;
};

// 19H: password + operator code. 10H (1997): password only [MEM].
struct ClearMaxDemandRequest {
    Edition edition = Edition::k2007;
    Password password;
    std::uint32_t operator_code = 0;  // 2007 only

    friend bool operator==(const ClearMaxDemandRequest&, const ClearMaxDemandRequest&) = default;
};

// 1AH: password + operator code.
struct MeterClearRequest {
    Password password;
    std::uint32_t operator_code = 0;

    friend bool operator==(const MeterClearRequest&, const MeterClearRequest&) = default;
};

// 1BH: password + operator code + event DI (FFFFFFFF = every event).
struct EventClearRequest {
    Password password;
    std::uint32_t operator_code = 0;
    DataId event_di = 0xFFFFFFFF;

    friend bool operator==(const EventClearRequest&, const EventClearRequest&) = default;
};

// 1CH plaintext form, L = 10H: PA P0P1P2 + C0..C3 + N1 N2 + N3..N8 (ss mm hh DD MM YY). The ESAM
// form (PA = 98H, ciphertext) has another length and is rejected by ParseRequest.
struct RemoteControlRequest {
    Password password;
    std::uint32_t operator_code = 0;
    RemoteCommand command = RemoteCommand::kTrip;
    std::uint8_t reserved = 0;  // N2
    MeterDateTime valid_until;  // the meter ignores the command after this time

    friend bool operator==(const RemoteControlRequest&, const RemoteControlRequest&) = default;
};

// 1DH [MEM].
struct MultiFunctionOutputRequest {
    TerminalOutput output = TerminalOutput::kClockPulse;

    friend bool operator==(const MultiFunctionOutputRequest&,
                           const MultiFunctionOutputRequest&) = default;
};

using Request =
    std::variant<ReadDataRequest, ReadFollowUpRequest, ReadAddressRequest, WriteDataRequest,
                 WriteAddressRequest, BroadcastTimeRequest, FreezeRequest, ChangeBaudRequest,
                 ChangePasswordRequest, ClearMaxDemandRequest, MeterClearRequest, EventClearRequest,
                 RemoteControlRequest, MultiFunctionOutputRequest>;

// The DATA of 08H on the wire (PROTOCOLS.md §6.5).
enum class TimeSyncForm : std::uint8_t {
    kPlus33 = 1,  // the standard and field captures: every byte + 33H like all DATA
    kPlain = 2,   // one 1376.2 test fixture: BCD sent without + 33H
};

// The control code of a 1997 read (PROTOCOLS.md §6.6).
enum class Read1997Code : std::uint8_t {
    k01 = 1,  // the standard, and 1997 meters in the field
    k11 = 2,  // 11H with a 2-byte DI, as one open-source library sends
};

// Encoder choices a meter model sets. Parsers need none of them: they accept every form.
struct RequestOptions {
    TimeSyncForm time_sync_form = TimeSyncForm::kPlus33;
    Read1997Code read_1997_code = Read1997Code::k01;
};

// `request` to `address` as a Frame (encode it with EncodeFrame). kInvalidArgument for a field out
// of range (field named: "password", "time", "data", "di", "address", ...) or a 2007-only request
// with edition 1997; write requests longer than kMaxWriteDataBytes are rejected ("length").
[[nodiscard]] Result<Frame> BuildRequest(const Address& address, const Request& request,
                                         const RequestOptions& options = {});

// The typed request a master frame carries (a simulated meter's view). kInvalidArgument when the
// frame is a reply ("control"), the function is unknown or unsupported (03H) ("control"), L does
// not fit the function ("length"), or a field is malformed ("data", "di", "time", ...).
[[nodiscard]] Result<Request> ParseRequest(const Frame& frame);

// The 6 DATA bytes of 08H (after the frame layer removed 33H) as a time, trying the standard form
// first and then the plain form; the first that is BCD and a real date and time wins.
// kInvalidArgument ("length" or "time") when neither is.
struct TimeSyncData {
    MeterDateTime time;
    TimeSyncForm form = TimeSyncForm::kPlus33;
};
[[nodiscard]] Result<TimeSyncData> DecodeTimeSyncData(ByteView data);

// ---------------------------------------------------------------------------------------------
// Replies (meter -> master)

// 91H/B1H (reply to 11H), 92H/B2H (reply to 12H, SEQ last); 81H/A1H, 82H/A2H for 1997.
struct ReadReply {
    Edition edition = Edition::k2007;
    DataId di = 0;
    Bytes payload;                        // the value bytes after the DI (and before SEQ), plain
    bool answers_follow_up_read = false;  // a reply to 12H/02H
    bool more_frames_follow = false;      // D5: the master should send 12H/02H for the rest
    std::optional<std::uint8_t> seq;      // present exactly on 2007 replies to 12H

    friend bool operator==(const ReadReply&, const ReadReply&) = default;
};

// 93H: the meter's real address in DATA.
struct AddressReply {
    Address address;

    friend bool operator==(const AddressReply&, const AddressReply&) = default;
};

// L = 0 confirmations: 94H 95H 96H 99H 9AH 9BH 9CH 9DH, and 84H 8AH 90H for 1997.
struct AckReply {
    Function function = Function::kWriteData;

    friend bool operator==(const AckReply&, const AckReply&) = default;
};

// 97H + Z (2007) / 8CH + Z (1997): the rate the meter switches to.
struct BaudReply {
    Edition edition = Edition::k2007;
    std::uint8_t z = 0;

    friend bool operator==(const BaudReply&, const BaudReply&) = default;
};

// 98H (2007) / 8FH (1997): the new PA+PW.
struct PasswordReply {
    Edition edition = Edition::k2007;
    Password new_password;

    friend bool operator==(const PasswordReply&, const PasswordReply&) = default;
};

// D1H, D4H, DCH, ... (and C1H, C4H, ... for 1997): 1 byte ERR.
struct ErrorReply {
    Function function = Function::kReadData;
    ErrorWord error;

    friend bool operator==(const ErrorReply&, const ErrorReply&) = default;
};

using Reply = std::variant<ReadReply, AddressReply, AckReply, BaudReply, PasswordReply, ErrorReply>;

// `reply` from the meter at `address` as a Frame (a simulated meter's view). kInvalidArgument for
// a reply no request can get (08H, 03H, an AckReply for a function that answers with data), a SEQ
// on a non-12H reply or none on a 12H reply ("seq"), or data too long ("length").
[[nodiscard]] Result<Frame> BuildReply(const Address& address, const Reply& reply);

// The typed reply a meter frame carries. kInvalidArgument when the frame is a request
// ("control"), its function cannot be answered that way ("control"), or L is wrong ("length").
[[nodiscard]] Result<Reply> ParseReply(const Frame& frame);

// OK when `reply` answers `request`: a reply frame to a request frame, the same function (a 1997
// read sent as 11H may be answered by 81H or 91H), an address that `request`'s address matches
// (AddressMatches; so wildcard and short-addressed requests accept the meter's real address), and,
// for normal read replies, the same DI. kInvalidArgument naming "control", "address" or "di"
// otherwise; also when the request was broadcast (08H or 999999999999), which gets no reply.
[[nodiscard]] Status CheckReplyMatches(const Frame& request, const Frame& reply);

// ---------------------------------------------------------------------------------------------
// Baud-rate characteristic word Z (PROTOCOLS.md §6.4): three published tables disagree, so the
// meter model names its table. Rates: 600, 1200, 2400, 4800, 9600, 19200.
enum class BaudTable : std::uint8_t {
    kBitmapD1Is600 = 1,  // 02 04 08 10 20 40H: 2007 Appendix C as recalled [MEM]
    kBitmapD0Is600 = 2,  // 01 02 04 08 10 20H: ng-gateway's 2007 table
    kBitmapD2Is600 = 3,  // 04 08 10 20 40 80H: ng-gateway's 1997 table
    kRateDiv300Bcd = 4,  // 02 04 08 16 32 64H: rate / 300 in BCD, 600888/dlt645
};

// kInvalidArgument ("baud") for a rate the table has no code for.
[[nodiscard]] Result<std::uint8_t> BaudRateToZ(std::uint32_t bits_per_second, BaudTable table);
// kInvalidArgument ("z") for a byte that is not one of the table's codes.
[[nodiscard]] Result<std::uint32_t> ZToBaudRate(std::uint8_t z, BaudTable table);

// ---------------------------------------------------------------------------------------------
// Data identifiers (PROTOCOLS.md §1.5, §1.6)

enum class ValueFormat : std::uint8_t {
    kBcd = 1,              // value_bytes of BCD, `decimals` implied places, optional sign bit
    kStatusWord = 2,       // 2 bytes binary, low first (run status words)
    kDateWeek = 3,         // YYMMDDWW, 4 bytes (wire WW DD MM YY); DecodeMeterDate
    kTime = 4,             // hhmmss, 3 bytes (wire ss mm hh); DecodeMeterTime
    kDateTimeMinutes = 5,  // YYMMDDhhmm, 5 bytes (wire mm hh DD MM YY); DecodeDateTimeMinutes
    kRaw = 6,              // bytes without a numeric reading (passwords)
};

struct DataItem {
    DataId di = 0;
    Edition edition = Edition::k2007;
    std::string name;  // English, e.g. "forward active energy tariff 2"
    ValueFormat format = ValueFormat::kBcd;
    std::uint8_t value_bytes = 0;  // bytes per value
    std::uint8_t decimals = 0;     // implied decimal places (kBcd)
    bool sign_bit = false;         // highest bit of the most significant byte = negative
    bool block = false;            // a data block: the payload holds 1..n values
    std::string_view unit;         // "kWh", "V", "yuan", ... ("" when none)
    // 0 = current. Energy: DI0 = N means settlement day N back (上N结算日). Purchase records
    // (0333xxNN / 0332xxNN): N = the Nth last purchase (上N次).
    std::uint8_t history_index = 0;
    std::optional<DataId> equivalent_2007;  // 1997 items: the 2007 DI of the same quantity
    bool from_memory = false;               // [MEM] in PROTOCOLS.md: confirm on a real meter
};

// The table entry for `di`. 2007 energy identifiers 00 kk tt pp are derived (kind kk, tariff tt
// 00..3F or FF = block, settlement period pp 00..0C); so are tariff prices 040501NN/040502NN and
// purchase records. kNotFound (field "di") for an identifier not in the table.
[[nodiscard]] Result<DataItem> FindDataItem(DataId di, Edition edition = Edition::k2007);

// The payload of a read reply (ReadReply::payload) as exact values: one for a plain item, one per
// value_bytes for a block. kBcd honours decimals and the sign bit; kStatusWord gives the word.
// kInvalidArgument: "length" when the size does not fit the item, "data" for a non-BCD nibble,
// "di" for a non-numeric format (dates, times, raw).
[[nodiscard]] Result<std::vector<Decimal>> DecodeValues(const DataItem& item, ByteView payload);
// FindDataItem + DecodeValues.
[[nodiscard]] Result<std::vector<Decimal>> DecodeValues(DataId di, ByteView payload,
                                                        Edition edition = Edition::k2007);
// The payload bytes for `values` (a simulated meter's reply). Values are rescaled exactly to the
// item's decimals; kInvalidArgument ("value") when that would round, for a negative value of an
// unsigned item, or a wrong count; kOutOfRange ("value") when it needs more digits than fit.
[[nodiscard]] Result<Bytes> EncodeValues(const DataItem& item, std::span<const Decimal> values);

// 1997 <-> 2007 identifiers of the same quantity. kNotFound ("di") when there is none.
[[nodiscard]] Result<DataId> Map1997To2007(DataId di_1997);
[[nodiscard]] Result<DataId> Map2007To1997(DataId di_2007);

// 04000101 / C010: YYMMDDWW. weekday 0 = Sunday .. 6, as the meter sends it (not cross-checked).
struct MeterDate {
    int year = 2000;
    int month = 1;
    int day = 1;
    int weekday = 6;

    friend bool operator==(const MeterDate&, const MeterDate&) = default;
};
// 04000102 / C011: hhmmss.
struct MeterTime {
    int hour = 0;
    int minute = 0;
    int second = 0;

    friend bool operator==(const MeterTime&, const MeterTime&) = default;
};

// kInvalidArgument ("length", "data" for non-BCD, "time" for an impossible date or time).
[[nodiscard]] Result<MeterDate> DecodeMeterDate(ByteView payload);
[[nodiscard]] Result<MeterTime> DecodeMeterTime(ByteView payload);
// YYMMDDhhmm (wire mm hh DD MM YY): purchase dates, the load-record start of 11H.
[[nodiscard]] Result<MeterDateTime> DecodeDateTimeMinutes(ByteView payload);
// YYMMDDhhmmss (wire ss mm hh DD MM YY): 08H time sync, the 1CH validity deadline.
[[nodiscard]] Result<MeterDateTime> DecodeDateTimeSeconds(ByteView payload);
[[nodiscard]] MeterDateTime CombineDateTime(const MeterDate& date, const MeterTime& time);
// Encoders for the same formats; the weekday is computed. kInvalidArgument ("time") for an
// invalid time or a year outside 2000..2099.
[[nodiscard]] Result<Bytes> EncodeMeterDate(const MeterDateTime& t);
[[nodiscard]] Result<Bytes> EncodeMeterTime(const MeterDateTime& t);
[[nodiscard]] Result<Bytes> EncodeDateTimeMinutes(const MeterDateTime& t);  // seconds must be 0
[[nodiscard]] Result<Bytes> EncodeDateTimeSeconds(const MeterDateTime& t);

// ---------------------------------------------------------------------------------------------
// Run status words (04000501..04000507): 2 bytes, low byte first.

// kInvalidArgument ("length") unless exactly 2 bytes.
[[nodiscard]] Result<std::uint16_t> DecodeStatusWord(ByteView payload);
[[nodiscard]] Bytes EncodeStatusWord(std::uint16_t word);

enum class PowerSupply : std::uint8_t { kMain = 0, kAuxiliary = 1, kBattery = 2, kReserved = 3 };
// Status word 3 bits 8-9: selects the prepaid identifiers (PurchaseCountDi).
enum class PrepaidType : std::uint8_t {
    kNotPrepaid = 0,
    kEnergy = 1,  // 电量型: the meter keeps kWh
    kMoney = 2,   // 电费型: the meter keeps money
    kReserved = 3,
};

// Run status word 3 (04000503). Bits 4 and 6 are confirmed by captures (0x0050 after a trip,
// 0x0000 after a close); the rest follow PROTOCOLS.md §1.5 [MEM].
struct RunStatus3 {
    bool second_time_slot_table = false;                // bit 0
    PowerSupply supply = PowerSupply::kMain;            // bits 1-2
    bool programming_allowed = false;                   // bit 3
    bool relay_open = false;                            // bit 4: 1 = open (supply off)
    bool second_time_zone_set = false;                  // bit 5
    bool relay_command_trip = false;                    // bit 6: the last relay command was a trip
    bool pre_trip_alarm = false;                        // bit 7
    PrepaidType meter_type = PrepaidType::kNotPrepaid;  // bits 8-9
    bool second_tariff_price_set = false;               // bit 10
    bool second_step_set = false;                       // bit 11
    bool hold_power = false;                            // bit 12: 保电
    bool identity_authenticated = false;                // bit 13
    bool local_account_not_opened = false;              // bit 14
    bool remote_account_not_opened = false;             // bit 15

    friend bool operator==(const RunStatus3&, const RunStatus3&) = default;
};

[[nodiscard]] RunStatus3 DecodeRunStatus3(std::uint16_t word);
[[nodiscard]] std::uint16_t EncodeRunStatus3(const RunStatus3& status);

// PROTOCOLS.md §6.7: money-type meters keep purchase records under 0333xxxx, energy-type under
// 0332xxxx. kFailedPrecondition ("meter_type") for a meter that is not prepaid.
[[nodiscard]] Result<DataId> PurchaseCountDi(PrepaidType meter_type);       // 03330201/03320201
[[nodiscard]] Result<DataId> CumulativePurchaseDi(PrepaidType meter_type);  // 03330601/03320601

}  // namespace joule::codec::dlt645
