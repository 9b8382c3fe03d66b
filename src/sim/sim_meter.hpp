// The simulated meter: a pure model of one real meter (or multi-circuit box) on a bus, answering
// request frames with reply frames built by our own codecs. It keeps exact integer registers
// (energy and heat in Wh, volume in litres, money in fen), the relay/valve state, a meter clock
// set by the caller, the last daily freezes, and the in-meter prepaid account of 本地费控 meters.
// The meter decides like a real one: a cut-off circuit does not meter, a local-prepaid meter trips
// itself at zero balance (and refuses to close until topped up), a held (保电) meter refuses to
// trip, a command past its deadline is refused. Faults (silence, corrupted replies, reverse flow,
// voltage loss, clock drift, rollover, reset) are switched on demand so simulations and tests can
// exercise the driver's error paths.
//
// Pure: no I/O, no clock, no threads, no floating point. Not thread-safe; one owner drives it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "codec/bytes.hpp"
#include "codec/device_model.hpp"
#include "codec/values.hpp"

namespace joule::sim {

using codec::Bytes;
using codec::ByteView;
using codec::Decimal;
using codec::MeterDateTime;

inline constexpr int kRates = 4;                        // T1..T4 (尖峰平谷)
inline constexpr std::size_t kDailyFreezesKept = 7;     // newest first; older ones fall off
inline constexpr std::int64_t kDefaultPriceE4 = 10000;  // 1.0000 yuan/kWh (04050101)

struct SimOptions {
    // Energy and heat registers wrap at this many Wh, volume at this many litres. 0: the capacity
    // of the wire format (DL/T 645 and CJ/T 188: 999999.99 + 0.01, so 10^9; Modbus: the energy
    // point's register type at its scale; f32: 10^8 kWh).
    std::int64_t register_modulus = 0;
    // CJ/T 188 units sent in 901F (PROTOCOLS.md §3.3): m3 and kWh by default; litres and Wh/MWh
    // exist in the field.
    std::uint8_t volume_unit = 0x2C;  // m3
    std::uint8_t heat_unit = 0x05;    // kWh
};

// One circuit's state. Registers are exact integers; instantaneous values are what the caller
// set (SetInstantaneous), before faults apply.
struct CircuitState {
    std::int64_t forward_wh = 0;  // forward (import) active total register
    std::array<std::int64_t, kRates> rate_wh{};
    std::int64_t reverse_wh = 0;
    std::array<std::int64_t, kRates> reverse_rate_wh{};
    Decimal voltage{2200, 1};  // V
    Decimal current{0, 3};     // A
    Decimal power{0, 4};       // kW
    Decimal power_factor{1000, 3};
    Decimal frequency{5000, 2};  // Hz
    // Relay: closed unless one of these holds.
    bool remote_tripped = false;   // last remote command was a trip (1AH, Modbus coil off)
    bool awaiting_button = false;  // 1BH close-allowed: the user must press the button
    bool local_tripped = false;    // 本地费控: the balance ran out
    bool hold = false;             // 保电: trips refused, local trips suspended
    bool alarm = false;            // 2AH alarm on
    // Faults.
    bool reverse_flow = false;  // wired backwards: energy counts reverse, I and P read negative
    bool voltage_loss = false;  // no supply: V, I, P read 0 and nothing is metered

    [[nodiscard]] bool relay_closed() const {
        return !remote_tripped && !awaiting_button && !local_tripped;
    }
};

// Water and heat meters (CJ/T 188).
struct FluidState {
    std::int64_t volume_l = 0;
    std::int64_t heat_wh = 0;
    Decimal heat_power{0, 2};          // kW
    Decimal flow_rate{0, 4};           // m3/h
    Decimal supply_temperature{0, 2};  // °C
    Decimal return_temperature{0, 2};
    std::int64_t working_hours = 0;
    bool valve_open = true;
    bool valve_stuck = false;  // fault: reports "abnormal" and refuses valve commands
    bool battery_low = false;
};

// The in-meter account of an in_meter_prepaid model (本地费控). Money in fen, price in 10^-4
// yuan/kWh. Charges are exact: within one price segment the charged amount is the segment's
// energy × price rounded half up once, so many small steps cost what one big step costs.
struct PrepaidState {
    std::int64_t balance_fen = 0;  // may go negative by the step that crossed zero (overdraft)
    std::int64_t purchase_count = 0;
    std::int64_t cumulative_purchase_fen = 0;
    std::int64_t last_purchase_fen = 0;
    std::int64_t price_e4 = kDefaultPriceE4;
    std::int64_t alarm_1_fen = 0;  // 04001001: alarm bit below this balance
    std::int64_t alarm_2_fen = 0;  // 04001002: stored and read back only
    std::int64_t segment_wh = 0;   // energy charged at the current price so far
    std::int64_t segment_fen = 0;  // what that energy cost, rounded half up
};

// One daily freeze (日冻结): the registers at `at`.
struct FreezeRecord {
    MeterDateTime at;
    std::vector<CircuitState> circuits;  // registers only are meaningful
    std::int64_t volume_l = 0;
    std::int64_t heat_wh = 0;
};

struct SimStats {
    std::int64_t frames = 0;    // frames handed to HandleFrame
    std::int64_t replies = 0;   // replies returned (normal and error)
    std::int64_t errors = 0;    // error / exception / abnormal replies among them
    std::int64_t commands = 0;  // relay, valve, setting and time commands applied
    std::int64_t ignored = 0;   // undecodable, not addressed here, broadcast or silent
    // Purchases sent over the bus [ACCT-1]: applied (count + 1), replays of the count already
    // applied (not credited again) and other counts (refused).
    std::int64_t purchases_applied = 0;
    std::int64_t purchases_replayed = 0;
    std::int64_t purchases_refused = 0;
    std::int64_t replies_dropped = 0;  // write replies swallowed by SetDropWriteReplies
};

// What a purchase over the bus did. Replays and wrong counts get the protocol's error reply.
enum class PurchaseOutcome : std::uint8_t { kApplied, kReplayed, kRefused };

class SimMeter {
public:
    // A meter of `model` at `bus_address` (12 digits DL/T 645, 14 digits CJ/T 188, unit id
    // 1..247 Modbus). kInvalidArgument for a model ValidateDeviceModel rejects ("model...") or an
    // address that does not fit the protocol ("bus_address"). The model is copied.
    [[nodiscard]] static Result<SimMeter> Make(codec::DeviceModel model,
                                               std::string_view bus_address,
                                               SimOptions options = {});

    // --- The bus ---------------------------------------------------------------------------
    // The reply to one request frame as the meter puts it on the wire (with the model's
    // preamble), or nullopt when a real meter would stay silent: undecodable or corrupted
    // request, another address or unit, a broadcast (DL/T 645 08H sets the clock, 16H freezes),
    // a request of the other DL/T 645 edition, or SetSilent. Requests the meter understands but
    // refuses get the protocol's error reply (DL/T 645 error word, Modbus exception, CJ/T 188
    // abnormal reply). Modbus requests may be RTU (CRC) or Modbus-TCP (MBAP); the reply uses the
    // request's framing.
    [[nodiscard]] std::optional<Bytes> HandleFrame(ByteView request_frame);

    // --- The load (the caller's profile asks, the meter decides) ----------------------------
    // Meters `energy_wh` on `circuit` into rate register `rate_index` (0..3 = T1..T4) and the
    // total (the reverse register when reverse_flow). Returns the Wh actually metered: 0 when the
    // relay is open or the voltage is lost. In-meter prepaid models charge it and trip at a
    // balance <= 0 unless held. kInvalidArgument for a bad circuit, rate or negative energy.
    [[nodiscard]] Result<std::int64_t> Advance(int circuit, std::int64_t energy_wh,
                                               int rate_index = 0);
    // Water and heat: nothing is metered while the valve is closed. Returns what was metered.
    [[nodiscard]] Result<std::int64_t> AdvanceVolume(std::int64_t litres);
    [[nodiscard]] Result<std::int64_t> AdvanceHeat(std::int64_t heat_wh);

    // The true time now (the caller's clock). The meter reports it plus its drift.
    void SetClock(const MeterDateTime& now) { now_ = now; }
    // The meter clock runs `offset_s` ahead (negative: behind) of SetClock. A time sync (08H)
    // resets the offset so the meter reports the synced time.
    void SetClockDrift(std::int64_t offset_s) { drift_s_ = offset_s; }
    [[nodiscard]] MeterDateTime MeterClock() const;

    // kInvalidArgument ("circuit") for a bad circuit.
    [[nodiscard]] Status SetInstantaneous(int circuit, Decimal voltage, Decimal current,
                                          Decimal power);
    [[nodiscard]] Status SetPowerFactor(int circuit, Decimal power_factor);
    [[nodiscard]] Status SetFrequency(int circuit, Decimal frequency);
    void SetHeatInstantaneous(Decimal power_kw, Decimal flow_m3h, Decimal supply_c,
                              Decimal return_c);

    // Snapshots the registers as a daily freeze stamped `at` (seconds are dropped: the freeze
    // time is YYMMDDhhmm). The newest kDailyFreezesKept are kept.
    void Freeze(const MeterDateTime& at);

    // --- Registers and the account (set-up, rollover, reset) -------------------------------
    // Each value is taken modulo the register modulus. kInvalidArgument for a bad circuit or a
    // negative value.
    [[nodiscard]] Status SetEnergyRegisters(int circuit, std::int64_t forward_wh,
                                            std::array<std::int64_t, kRates> rate_wh = {},
                                            std::int64_t reverse_wh = 0);
    [[nodiscard]] Status SetVolumeRegister(std::int64_t litres);
    [[nodiscard]] Status SetHeatRegister(std::int64_t heat_wh);
    // Meter reset (电表清零, also 1AH): every register of every circuit back to 0; freezes cleared.
    void ResetRegisters();
    [[nodiscard]] std::int64_t register_modulus() const { return modulus_; }

    // In-meter prepaid only (kFailedPrecondition otherwise). TopUp adds a purchase: balance,
    // count and cumulative amount; a meter tripped for lack of money closes again when the
    // balance turns positive. SetBalance sets the balance without a purchase.
    [[nodiscard]] Status TopUp(std::int64_t amount_fen);
    [[nodiscard]] Status SetBalance(std::int64_t balance_fen);
    // A purchase as it arrives over the bus [ACCT-1], `wire_count` being the purchase count the
    // sender says the meter will have after it (mod codec::PurchaseCountModulus, the wire width).
    // Applied only when it is exactly the meter's count + 1; the count the meter already has is a
    // replay and is not credited again; any other count is refused. Both answer with the error
    // reply.
    [[nodiscard]] PurchaseOutcome ApplyPurchase(std::int64_t amount_fen, std::int64_t wire_count);

    // The user presses the meter's button: closes a relay left open by 1BH close-allowed.
    [[nodiscard]] Status PressButton(int circuit);

    // --- Faults ----------------------------------------------------------------------------
    void SetSilent(bool silent) { silent_ = silent; }
    // The next `n` writes (DL/T 645 14H, CJ/T 188 04H) are applied but their replies are lost:
    // what a master sees when an acknowledgement vanishes on the line.
    void SetDropWriteReplies(int n) { drop_write_replies_ = n; }
    // Replies leave with their checksum broken (DL/T 645 and CJ/T 188 CS, RTU CRC); MBAP has no
    // checksum, so its protocol id is broken instead.
    void SetReplyCorruption(bool corrupt) { corrupt_ = corrupt; }
    [[nodiscard]] Status SetReverseFlow(int circuit, bool reverse);
    [[nodiscard]] Status SetVoltageLoss(int circuit, bool lost);
    void SetValveStuck(bool stuck) { fluid_.valve_stuck = stuck; }
    void SetBatteryLow(bool low) { fluid_.battery_low = low; }

    // --- What the meter holds --------------------------------------------------------------
    [[nodiscard]] const codec::DeviceModel& model() const { return model_; }
    [[nodiscard]] const std::string& bus_address() const { return bus_address_; }
    [[nodiscard]] int circuits() const { return model_.circuits; }
    [[nodiscard]] const CircuitState& circuit(int c) const;
    [[nodiscard]] const FluidState& fluid() const { return fluid_; }
    [[nodiscard]] const PrepaidState& prepaid() const { return prepaid_; }
    [[nodiscard]] const std::vector<FreezeRecord>& freezes() const { return freezes_; }
    [[nodiscard]] const SimStats& stats() const { return stats_; }
    // The exact value of `point` on `circuit` as the meter holds it, in the point's unit (energy
    // and heat kWh, volume m3, money yuan, V, A, kW, ...) at full precision; wire formats then
    // truncate registers and round instantaneous values. Faults apply (voltage loss reads 0,
    // reverse flow reads negative). nullopt when the meter has no such value (no freeze yet,
    // balance on a meter without an account).
    [[nodiscard]] std::optional<Decimal> Value(int circuit, codec::Point point) const;
    // DL/T 645 run status word 3 (04000503) as the meter would send it.
    [[nodiscard]] std::uint16_t RunStatus3Word(int circuit) const;

private:
    SimMeter() = default;

    // Protocol front ends (sim_dlt645.cpp, sim_modbus.cpp, sim_cjt188.cpp).
    std::optional<Bytes> HandleDlt645(ByteView bytes);
    std::optional<Bytes> HandleModbus(ByteView bytes);
    std::optional<Bytes> HandleCjt188(ByteView bytes);
    // A write's reply, or nothing while SetDropWriteReplies has replies to swallow.
    std::optional<Bytes> WriteReply(std::optional<Bytes> reply);
    // DL/T 645: a read's payload (kNotFound: "no requested data"); a write's or a remote
    // control's outcome as an error word (0 = done).
    Result<Bytes> Dlt645ReadPayload(std::uint32_t di, codec::dlt645::Edition edition) const;
    Result<std::vector<Decimal>> Dlt645Values(std::uint32_t di_2007, bool* registers) const;
    std::uint8_t Dlt645Write(const codec::dlt645::WriteDataRequest& write);
    std::uint8_t Dlt645RemoteControl(const codec::dlt645::RemoteControlRequest& control);
    // Modbus: the reply PDU to a request PDU.
    codec::modbus::Pdu ModbusReply(const codec::modbus::Pdu& request);
    bool ModbusBit(codec::modbus::FunctionCode function, std::uint32_t address) const;
    Result<std::vector<std::uint16_t>> ModbusRegisters(codec::modbus::FunctionCode function,
                                                       std::uint32_t address,
                                                       std::uint32_t quantity) const;
    // CJ/T 188: the ST word and the 901F data.
    std::uint16_t Cjt188Status() const;
    Result<Bytes> Cjt188CurrentData() const;

    bool ValidCircuit(int c) const { return c >= 0 && c < model_.circuits; }
    CircuitState& mutable_circuit(int c) { return circuits_[static_cast<std::size_t>(c)]; }
    std::int64_t Wrap(std::int64_t value) const;
    void Charge(std::int64_t energy_wh);
    void UpdateLocalTrip();
    void SetPrice(std::int64_t price_e4);
    // Relay commands shared by the protocols; false when the meter refuses.
    bool Trip(int circuit);
    bool Close(int circuit, bool direct);

    codec::DeviceModel model_;
    std::string bus_address_;
    SimOptions options_;
    std::int64_t modulus_ = 0;
    std::vector<CircuitState> circuits_;
    FluidState fluid_;
    PrepaidState prepaid_;
    std::vector<FreezeRecord> freezes_;  // newest first
    MeterDateTime now_{2026, 1, 1, 0, 0, 0};
    std::int64_t drift_s_ = 0;
    bool silent_ = false;
    bool corrupt_ = false;
    int drop_write_replies_ = 0;
    bool reply_is_mbap_ = false;  // the last Modbus request came as Modbus-TCP
    SimStats stats_;
    // Parsed bus address: DL/T 645 (6 bytes), CJ/T 188 (7 bytes) or the Modbus unit.
    std::array<std::uint8_t, 7> address_bytes_{};
    std::uint8_t unit_ = 1;
};

// --- Civil time helpers (exact, proleptic Gregorian) --------------------------------------------

// Seconds since 2000-01-01 00:00:00 (negative before).
[[nodiscard]] std::int64_t ToSeconds(const MeterDateTime& t);
[[nodiscard]] MeterDateTime FromSeconds(std::int64_t seconds);
[[nodiscard]] MeterDateTime AddSeconds(const MeterDateTime& t, std::int64_t seconds);

}  // namespace joule::sim
