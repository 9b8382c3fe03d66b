// Codecs alone, one core: decoding what meters send.
// Target (issue 3): >= 5,000,000 DL/T 645 frames/s decoded on one core.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "codec/cjt188.hpp"
#include "codec/dlt645.hpp"
#include "codec/modbus.hpp"
#include "codec/stream_scanner.hpp"

namespace joule::codec {
namespace {

// Fixture data is built once from the encoders; a failure here is a broken benchmark, not input.
template <typename T>
T Must(Result<T> r, const char* what) {
    if (!r.has_value()) {
        std::fprintf(stderr, "bench setup failed: %s: %s\n", what, r.error().message.c_str());
        std::abort();
    }
    return std::move(*r);
}

dlt645::Address MeterAddress() { return Must(dlt645::ParseAddress("000019360012"), "address"); }

// A read reply of forward active total energy (00010000), 4 BCD bytes, with 4 FEH.
Bytes TypicalReadReply() {
    using namespace dlt645;
    const DataItem item = Must(FindDataItem(0x00010000), "item");
    const Decimal value{12345678, 2};
    ReadReply reply;
    reply.di = item.di;
    reply.payload = Must(EncodeValues(item, std::span<const Decimal>(&value, 1)), "values");
    const Frame frame = Must(BuildReply(MeterAddress(), reply), "reply");
    return Must(EncodeFrame(frame, {4}), "frame");
}

// The forward-active block (0001FF00): total and tariffs 1..4, 20 payload bytes.
Bytes ForwardActiveBlockReply() {
    using namespace dlt645;
    const DataItem item = Must(FindDataItem(0x0001FF00), "block item");
    const Decimal values[] = {
        {12345678, 2}, {1111111, 2}, {2222222, 2}, {3333333, 2}, {4444444, 2}};
    ReadReply reply;
    reply.di = item.di;
    reply.payload = Must(EncodeValues(item, values), "block values");
    const Frame frame = Must(BuildReply(MeterAddress(), reply), "block reply");
    return Must(EncodeFrame(frame, {4}), "block frame");
}

void Dlt645DecodeFrame(benchmark::State& state) {
    const Bytes wire = TypicalReadReply();
    for (auto _ : state) {
        auto decoded = dlt645::DecodeFrame(wire);
        benchmark::DoNotOptimize(decoded);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(Dlt645DecodeFrame);

void Dlt645DecodeParseValuesBlock(benchmark::State& state) {
    const Bytes wire = ForwardActiveBlockReply();
    for (auto _ : state) {
        auto decoded = dlt645::DecodeFrame(wire);
        auto reply = dlt645::ParseReply(decoded->frame);
        const auto& read = std::get<dlt645::ReadReply>(*reply);
        auto values = dlt645::DecodeValues(read.di, read.payload);
        benchmark::DoNotOptimize(values);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Dlt645DecodeParseValuesBlock);

// What a DTU delivers: per meter poll a reply with 4 FEH; every 8th frame a heartbeat line and
// every 64th a registration string, as 4G DTUs send between frames (PROTOCOLS.md §5).
Bytes DtuStream(int frames, int* frame_count) {
    const Bytes single = TypicalReadReply();
    const Bytes block = ForwardActiveBlockReply();
    const std::string heartbeat = "HB\r\n";
    const std::string registration = "IMEI:861234567890123\r\n";
    Bytes stream;
    for (int i = 0; i < frames; ++i) {
        const Bytes& f = i % 2 == 0 ? single : block;
        stream.insert(stream.end(), f.begin(), f.end());
        if (i % 8 == 7)
            stream.insert(stream.end(), heartbeat.begin(), heartbeat.end());
        if (i % 64 == 63)
            stream.insert(stream.end(), registration.begin(), registration.end());
    }
    *frame_count = frames;
    return stream;
}

void StreamScannerDtu(benchmark::State& state) {
    int frames = 0;
    const Bytes stream = DtuStream(1024, &frames);
    const std::size_t chunk = static_cast<std::size_t>(state.range(0));
    std::int64_t found = 0;
    for (auto _ : state) {
        StreamScanner scanner(StreamScannerOptions{.dlt645 = true});
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            scanner.Feed(ByteView(stream).subspan(at, std::min(chunk, stream.size() - at)));
            while (auto f = scanner.Next()) {
                benchmark::DoNotOptimize(f);
                ++found;
            }
        }
    }
    if (found != frames * state.iterations())
        state.SkipWithError("scanner lost frames");
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
    state.counters["frames/s"] =
        benchmark::Counter(static_cast<double>(found), benchmark::Counter::kIsRate);
}
// 256-byte reads, like a socket read of a busy DTU; 1460 = one TCP segment.
BENCHMARK(StreamScannerDtu)->Arg(256)->Arg(1460);

// Modbus RTU: a read-holding reply of 4 registers (an energy value as two 32-bit words).
void ModbusRtuDecode(benchmark::State& state) {
    modbus::RtuAdu adu;
    adu.unit = 1;
    adu.pdu.function = 0x03;
    adu.pdu.data = {0x08, 0x00, 0x12, 0xD6, 0x87, 0x00, 0x00, 0x01, 0xF4};
    const Bytes wire = Must(modbus::EncodeRtu(adu), "rtu");
    for (auto _ : state) {
        auto decoded = modbus::DecodeRtu(wire, modbus::Direction::kResponse);
        benchmark::DoNotOptimize(decoded);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ModbusRtuDecode);

// CJ/T 188 water meter 901F reply: frame decode and the 19 data bytes.
void Cjt188Decode901F(benchmark::State& state) {
    using namespace cjt188;
    WaterGasData data;
    data.current = {{12345, 2}, 0x2C};
    data.settlement = {{12000, 2}, 0x2C};
    data.clock = MeterDateTime{2026, 11, 21, 20, 45, 0};
    Frame reply;
    reply.meter_type = MeterType::kColdWater;
    reply.address = {0x44, 0x33, 0x22, 0x11, 0x00, 0x33, 0x78};
    reply.control = 0x81;
    reply.di = kDiCurrentData;
    reply.data = Must(EncodeWaterGasData(data, UnitPosition::kAfterValue), "901F data");
    const Bytes wire = Must(EncodeFrame(reply, 4), "901F frame");
    for (auto _ : state) {
        auto decoded = DecodeFrame(wire);
        auto values = DecodeWaterGasData(decoded->frame.data, UnitPosition::kAfterValue);
        benchmark::DoNotOptimize(values);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Cjt188Decode901F);

}  // namespace
}  // namespace joule::codec

BENCHMARK_MAIN();
