// Turns a meter model into bytes on a bus and bytes back into values: the requests one scheduled
// read sends, how each reply folds into a reading, and the frames of device commands (relay,
// valve, time sync, in-meter settings). Transports (ingest/) own sockets, timeouts and retries;
// this file owns no state between calls and reads no clock: the meter's time comes in as an
// argument. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/device_model.hpp"
#include "codec/stream_scanner.hpp"

namespace joule::codec {

// How Modbus travels: RTU ADUs with CRC (on RS-485, or raw through a transparent serial server or
// DTU), or Modbus-TCP ADUs with an MBAP header (a Modbus-TCP gateway; unit id = RS-485 address).
enum class ModbusFraming : std::uint8_t { kRtu = 1, kMbap = 2 };

// One request on the bus and what its reply looks like to the stream scanner.
struct Exchange {
    Bytes request;
    bool expects_reply = true;  // false for broadcasts
    FrameKind reply_kind = FrameKind::kDlt645;
    std::optional<RtuExpectation> rtu;  // set for Modbus RTU replies
};

struct PointValue {
    Point point = Point::kEnergyTotal;
    Decimal value;

    friend bool operator==(const PointValue&, const PointValue&) = default;
};

// What one read of a device returned, circuit by circuit.
struct DeviceReading {
    std::vector<std::vector<PointValue>> circuits;  // [circuit][...]
    std::optional<MeterDateTime> meter_clock;       // when the model reads the clock

    [[nodiscard]] std::optional<Decimal> Find(int circuit, Point point) const;
};

// The requests of one read and their decoding. `bus_address` is the meter's address on its bus:
// 12 digits (DL/T 645), 14 digits (CJ/T 188) or a unit id 1..247 (Modbus).
class ReadPlan {
public:
    // kInvalidArgument ("bus_address") when the address does not fit the protocol.
    [[nodiscard]] static Result<ReadPlan> Make(const DeviceModel& model,
                                               std::string_view bus_address, ModbusFraming framing,
                                               bool frozen = false);

    [[nodiscard]] std::size_t size() const { return steps_.size(); }
    // The i-th request. `sequence` is the MBAP transaction id or the CJ/T 188 SER.
    [[nodiscard]] Result<Exchange> Request(std::size_t i, std::uint16_t sequence) const;
    // Folds the reply frame (as the scanner returned it) to request i into `out`. Errors:
    // kInvalidArgument when the frame is not a reply to that request (another address, function,
    // DI or transaction: "a reply to a request never sent"); kFailedPrecondition for a meter's
    // error or exception reply (message names its error word); decoding errors as the codecs
    // report them. `out` is unchanged on error.
    [[nodiscard]] Status Apply(std::size_t i, std::uint16_t sequence, ByteView reply,
                               DeviceReading& out) const;

private:
    struct Step {
        // DL/T 645 and CJ/T 188: one identifier; Modbus: one register or coil range.
        std::uint32_t di = 0;
        modbus::FunctionCode function = modbus::FunctionCode::kReadHoldingRegisters;
        std::uint16_t address = 0;
        std::uint16_t quantity = 0;
        struct Target {
            PointSpec spec;
            int circuit = 0;  // -1: every circuit (a shared point)
            std::uint16_t address = 0;
        };
        std::vector<Target> targets;
    };

    const DeviceModel* model_ = nullptr;
    ModbusFraming framing_ = ModbusFraming::kRtu;
    dlt645::Address dlt_address_;
    cjt188::Address cjt_address_{};
    std::uint8_t unit_ = 1;
    std::vector<Step> steps_;

    [[nodiscard]] Status ApplyDlt645(const Step& step, ByteView reply, DeviceReading& out) const;
    [[nodiscard]] Status ApplyModbus(const Step& step, std::uint16_t sequence, ByteView reply,
                                     DeviceReading& out) const;
    [[nodiscard]] Status ApplyCjt188(const Step& step, std::uint16_t sequence, ByteView reply,
                                     DeviceReading& out) const;
};

// One daily freeze (日冻结) as the meter recorded it [DEV-7]: the meter-clock minute it froze and
// the forward active registers at that minute.
struct FrozenRecord {
    MeterDateTime at;  // the meter's local time of the freeze (seconds 0)
    Decimal total;     // kWh
    std::optional<std::array<Decimal, 4>> per_rate;  // T1..T4 (尖峰平谷) when the block has them

    friend bool operator==(const FrozenRecord&, const FrozenRecord&) = default;
};

// The requests that read a meter's last `count` daily freezes, newest first, for backfill after an
// outage [DEV-7]: for N = 1..count, the freeze time 0506 00 NN then the frozen forward active block
// 0506 01 NN (DL/T 645-2007; the block DI comes from the model's daily_frozen_energy point).
// Request 2(N-1) reads freeze N's time, 2(N-1)+1 its block; a caller that only wants freezes newer
// than some time reads the time first and stops at the first freeze that is not newer.
// CJ/T 188 history D120..D12B is not offered: its replies carry no freeze date, so the values
// could only be stamped by guessing the settlement day.
class FreezeReadPlan {
public:
    static constexpr int kMaxFreezes = 62;  // NN 01..3E
    // kFailedPrecondition ("frozen_points") when the model keeps no daily freeze this plan can
    // read; kInvalidArgument ("count") outside 1..kMaxFreezes, ("bus_address") as ReadPlan.
    [[nodiscard]] static Result<FreezeReadPlan> Make(const DeviceModel& model,
                                                     std::string_view bus_address, int count);
    // Whether Make can succeed for this model (a DL/T 645-2007 daily freeze point).
    [[nodiscard]] static bool Supports(const DeviceModel& model);

    [[nodiscard]] std::size_t size() const { return 2 * static_cast<std::size_t>(count_); }
    [[nodiscard]] Result<Exchange> Request(std::size_t i) const;
    // Folds the reply to request i into out[N-1] (resized to `count` on first use). Errors as
    // ReadPlan::Apply; a meter holding fewer freezes answers an error reply (kFailedPrecondition).
    [[nodiscard]] Status Apply(std::size_t i, ByteView reply,
                               std::vector<std::optional<FrozenRecord>>& out) const;
    // Whether request i reads a freeze time (even i) rather than a frozen block.
    [[nodiscard]] static bool IsTimeRequest(std::size_t i) { return i % 2 == 0; }

private:
    const DeviceModel* model_ = nullptr;
    dlt645::Address address_;
    std::uint32_t block_family_ = 0;  // the block DI without NN, e.g. 0x05060100
    int count_ = 0;

    [[nodiscard]] std::uint32_t DataIdOf(std::size_t i) const;
};

// Commands a device can be sent [CTRL-5, CTRL-6].
enum class DeviceCommandKind : std::uint8_t {
    kTrip,
    kClose,
    kHoldPower,
    kReleaseHold,
    kValveOpen,
    kValveClose,
    kTimeSync,         // broadcast; no reply
    kSetAlarmAmount1,  // in-meter alarm amount 1 (yuan)
    kSetAlarmAmount2,
    kSetPrice,  // in-meter price, tariff 1 (yuan/kWh)
    // Meter billing [ACCT-1]: credit `value` yuan to an in-meter prepaid meter; `count` is the
    // meter's purchase count after it, so the meter applies it once (its count + 1) only.
    kPurchase,
};
std::string_view DeviceCommandName(DeviceCommandKind kind);
[[nodiscard]] Result<DeviceCommandKind> ParseDeviceCommand(std::string_view name);

struct DeviceCommand {
    DeviceCommandKind kind = DeviceCommandKind::kTrip;
    int circuit = 0;
    MeterDateTime meter_now;       // the meter's local time now: deadlines and time sync
    std::optional<Decimal> value;  // settings: the amount or price; purchases: the amount
    std::optional<std::int64_t> count = std::nullopt;  // purchases: the count after it
};

// Meter billing [ACCT-1] ----------------------------------------------------------------------

// The DL/T 645 purchase write's data (PurchaseLayout): amount 4 bytes BCD XXXXXX.XX yuan and
// count 2 bytes BCD XXXX, low byte first, plain (EncodeFrame adds 33H). kInvalidArgument for an
// amount outside 0.01 .. 999999.99 or a count outside 0 .. 9999.
struct Dlt645Purchase {
    std::int64_t amount_fen = 0;
    std::int64_t count = 0;
    friend bool operator==(const Dlt645Purchase&, const Dlt645Purchase&) = default;
};
[[nodiscard]] Result<Bytes> EncodeDlt645Purchase(PurchaseLayout layout,
                                                 const Dlt645Purchase& purchase);
// kInvalidArgument when the data is not 6 bytes or not BCD.
[[nodiscard]] Result<Dlt645Purchase> DecodeDlt645Purchase(PurchaseLayout layout, ByteView data);

// Where the purchase count wraps on the wire: DL/T 645 XXXX 10000, CJ/T 188's one byte 256.
inline constexpr std::int64_t kDlt645PurchaseCounts = 10000;
inline constexpr std::int64_t kCjt188PurchaseCounts = 256;
[[nodiscard]] std::int64_t PurchaseCountModulus(const DeviceModel& model);
// The request that reads the meter's purchase count before a purchase is (re)sent: DL/T 645 the
// model's purchase_count point (03330201 when it has none), CJ/T 188 read purchase amount 8105.
// kFailedPrecondition ("kind") for a model that does not TakesPurchases.
[[nodiscard]] Result<Exchange> EncodePurchaseCountRead(const DeviceModel& model,
                                                       std::string_view bus_address,
                                                       std::uint16_t sequence);
// The purchase count (a wire value, below PurchaseCountModulus) in the reply to that request.
// Errors as ReadPlan::Apply.
[[nodiscard]] Result<std::int64_t> DecodePurchaseCount(const DeviceModel& model,
                                                       const Exchange& exchange, ByteView reply);

// The frame of `command` for the meter at `bus_address`. kFailedPrecondition ("kind") when the
// model cannot do it (no relay, no valve, a setting its protocol has no identifier for).
[[nodiscard]] Result<Exchange> EncodeCommand(const DeviceModel& model, std::string_view bus_address,
                                             ModbusFraming framing, const DeviceCommand& command,
                                             std::uint16_t sequence);
// OK when `reply` acknowledges `exchange`; kFailedPrecondition with the meter's error word or
// exception otherwise; kInvalidArgument when it answers something else.
[[nodiscard]] Status CheckCommandReply(const DeviceModel& model, const Exchange& exchange,
                                       ByteView reply);

// Relay state from a reading: true = closed, false = open, nullopt = not reported.
[[nodiscard]] std::optional<bool> RelayClosed(const DeviceReading& reading, int circuit);
// Hold (保电) from DL/T 645 status word 3.
[[nodiscard]] std::optional<bool> HoldPower(const DeviceReading& reading, int circuit);

}  // namespace joule::codec
