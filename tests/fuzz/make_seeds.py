#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora: corpus/<harness>/seed_<name>.bin.

Each seed follows its harness's input layout (the comment at the top of <harness>_fuzz.cpp). The
stream scanner's streams are the situations of its unit tests: preambles, noise, registration
strings, heartbeats, fake start bytes, damaged frames, overflow, idle lines, RTU replies and
requests, MBAP ADUs. Modbus CRCs below were computed with codec::modbus::Crc16. The codec authors'
seeds (frames from their tests) sit beside these under other names. Run from anywhere: it rewrites
only the seed_* files named here.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

DLT645, CJT188, RTU, TCP, RTU_REQUEST = 0x01, 0x02, 0x04, 0x08, 0x10
IDLE, ARM_RTU = 0x40, 0x80


def hexb(text):
    return bytes.fromhex(text)


def dlt645(control, plain, address=hexb("129078563412")):
    frame = b"\x68" + address + b"\x68" + bytes([control, len(plain)])
    frame += bytes((b + 0x33) & 0xFF for b in plain)
    return frame + bytes([sum(frame) & 0xFF, 0x16])


def cjt188(meter_type, address, control, data):
    frame = bytes([0x68, meter_type]) + address + bytes([control, len(data)]) + data
    return frame + bytes([sum(frame) & 0xFF, 0x16])


READING = dlt645(0x91, hexb("0000010056341200"))
READ_REQUEST = dlt645(0x11, hexb("00000100"))
ADDRESS_REPLY = dlt645(0x93, hexb("129078563412"))
ERROR_REPLY = hexb("68 12 90 78 56 34 12 68 D1 01 35 8D 16")
WATER_ADDRESS = hexb("78563412000000")
VALVE_REPLY = cjt188(0x10, WATER_ADDRESS, 0x84, hexb("A0170500 00"))
WATER_READING = cjt188(0x10, WATER_ADDRESS, 0x81,
                       hexb("901F01 00123400 2C 00120000 2C 31012211051520 0000"))
REGISTRATION = b"IMEI:861234567890123,ICCID:89860012345678901234\r\n"


def seed(flags, stream, plan=b"", max_frame=255, max_buffered=255, unit=1, function=3):
    return bytes([flags, max_frame, max_buffered, unit, function, len(plan)]) + plan + stream


def damaged(frame, at):
    out = bytearray(frame)
    out[at] ^= 0x01
    return bytes(out)


SCANNER_SEEDS = {
    "dlt645_preamble": seed(DLT645, b"\xfe" * 4 + READING),
    "dlt645_bytewise": seed(DLT645, b"\xfe\xfe" + READ_REQUEST + b"+++" + READING + ERROR_REPLY,
                            plan=b"\x00"),
    "dlt645_registration_heartbeat": seed(
        DLT645, REGISTRATION + b"\xfe" * 4 + READING + b"heartbeat" + ADDRESS_REPLY,
        plan=bytes([6, 20, 2])),
    "dlt645_damaged_then_good": seed(DLT645, damaged(READING, 12) + b"\xfe\xfe" + READING),
    "dlt645_truncated_then_good": seed(DLT645, READING[:12] + READING, plan=bytes([11])),
    "dlt645_fake_start_idle": seed(DLT645 | CJT188,
                                   hexb("68 01 02 03 04 05 06 68 11 C8") + READING + b"\x68\x12",
                                   plan=bytes([IDLE | 30])),
    "dlt645_overflow": seed(DLT645, bytes(100) + hexb("68 01 02 03 04 05 06 68 11 28") +
                            bytes(40) + READING, max_frame=52, max_buffered=3,
                            plan=bytes([63, 9, 63])),
    "cjt188_valve_and_reading": seed(CJT188, b"\xfe\xfe" + VALVE_REPLY + b"\xfe\xfe\xfe" +
                                     WATER_READING, plan=bytes([4, 17])),
    "mixed_a5_is_68": seed(DLT645 | CJT188,
                           cjt188(0x10, hexb("01020304056800"), 0x84, hexb("A0170500 00")) +
                           READING),
    "mixed_heartbeat": seed(DLT645 | CJT188, b"heartbeat" + VALVE_REPLY + READING,
                            plan=bytes([8, IDLE | 26, 31])),
    "rtu_reply": seed(DLT645 | RTU, b"IMEI:861234567890123" + hexb("01 03 04 00 0A 00 0B 9B F6") +
                      hexb("01 83 02 C0 F1"), plan=bytes([ARM_RTU | 21, ARM_RTU | 8, 4])),
    "rtu_damaged_reply": seed(RTU, hexb("FF 00 05 04 06 00 41 00 02 00 03 8E 52") +
                              hexb("05 04 06 00 01 00 02 00 03 8E 52"), unit=5, function=4),
    "rtu_request": seed(RTU | RTU_REQUEST, hexb("00 01 03 00 00 00 0A C5 CD") +
                        hexb("11 10 00 01 00 02 04 00 0A 01 02 C6 F0"), plan=bytes([ARM_RTU | 8]),
                        unit=0x11, function=0x10),
    "tcp_mbap": seed(TCP, REGISTRATION + hexb("00 01 00 00 00 07 01 03 04 00 0A 00 0B") +
                     hexb("00 03 00 01 00 06 01 03") + hexb("00 02 00 00 00 03 01 83 02"),
                     plan=bytes([5, 12])),
    "everything": seed(DLT645 | CJT188 | RTU | TCP,
                       READING + VALVE_REPLY + hexb("01 03 04 00 0A 00 0B 9B F6") +
                       hexb("00 01 00 00 00 06 01 03 00 00 00 0A")),
}


RTU_SEEDS = {
    "replies": b"\x00" + hexb("01 03 04 00 0A 00 0B 9B F6  01 83 02 C0 F1  F7 90 0B ED F5"),
    "reply_input_registers": b"\x00" + hexb("02 04 04 43 5C 00 00 1D 12"),
    "reply_coils_and_writes": b"\x00" + hexb("01 01 02 CD 01 2C AC  01 05 00 AC FF 00 4C 1B"
                                               "01 0F 00 13 00 0A 24 09"),
    "requests": b"\x01" + hexb("01 03 00 00 00 0A C5 CD  11 10 00 01 00 02 04 00 0A 01 02 C6 F0"
                                 "01 05 00 AC FF 00 4C 1B  01 0F 00 13 00 0A 02 CD 01 72 CB"
                                 "01 06 00 01 00 03 98 0B") + bytes(range(32)),
}


def mbap(tid, unit, pdu):
    return bytes([tid >> 8, tid & 0xFF, 0, 0, 0, 1 + len(pdu), unit]) + pdu


TCP_SEEDS = {
    "request_and_reply": mbap(1, 1, hexb("03 00 00 00 0A")) +
    mbap(1, 1, hexb("03 04 00 0A 00 0B")) + bytes(range(24)),
    "writes_and_exception": mbap(2, 0xFF, hexb("10 00 01 00 02 04 00 0A 01 02")) +
    mbap(3, 1, hexb("05 00 AC FF 00")) + mbap(4, 1, hexb("0F 00 13 00 0A 02 CD 01")) +
    mbap(5, 1, hexb("83 02")) + bytes(range(24)),
}

# function index (0 coils, 1 discrete, 2 holding, 3 input, 4 coil, 5 register, 6 coils, 7
# registers) | address | quantity | reply selector (< 60H normal, < C0H exception) | reply data
RESPONSE_SEEDS = {
    "read_holding": bytes([2]) + hexb("0000 0002") + b"\x00" + hexb("04 000A 000B"),
    "read_coils": bytes([0]) + hexb("0013 000A") + b"\x00" + hexb("02 CD 01"),
    "read_input_exception": bytes([3]) + hexb("3000 0006") + b"\x80" + hexb("02"),
    "write_coil": bytes([4]) + hexb("00AC 0001") + b"\x00" + hexb("00AC FF00"),
    "write_registers": bytes([7]) + hexb("0001 0002") + b"\x00" + hexb("0001 0002"),
    "write_register": bytes([5]) + hexb("0001 0003") + b"\x00" + hexb("0001 0003"),
}

# type (0 u16, 1 i16, 2 u32, 3 i32, 4 u64, 5 i64, 6 f32) | word order (0 ABCD, 1 CDAB, 2 BADC,
# 3 DCBA) | scale_exponent + 20 | decimals + 20 | registers
REGISTER_SEEDS = {
    "u32_energy_centi_kwh": bytes([2, 0, 18, 20]) + hexb("0001 E240"),
    "i16_power_milli_kw": bytes([1, 0, 17, 20]) + hexb("FF85"),
    "f32_voltage_abcd": bytes([6, 0, 20, 22]) + hexb("435C 0000"),
    "f32_voltage_cdab": bytes([6, 1, 19, 23]) + hexb("0000 435C"),
    "f32_subnormal": bytes([6, 0, 20, 38]) + hexb("0000 0001"),
    "u64_dcba": bytes([4, 3, 20, 20]) + hexb("0102 0304 0506 0708"),
    "i64_min": bytes([5, 0, 20, 20]) + hexb("8000 0000 0000 0000"),
}

CORPORA = {
    "stream_scanner": SCANNER_SEEDS,
    "modbus_rtu": RTU_SEEDS,
    "modbus_tcp": TCP_SEEDS,
    "modbus_response": RESPONSE_SEEDS,
    "modbus_registers": REGISTER_SEEDS,
}


def main():
    for harness, seeds in CORPORA.items():
        out = os.path.join(HERE, "corpus", harness)
        os.makedirs(out, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, "seed_" + name + ".bin"), "wb") as f:
                f.write(data)
        print(f"{harness}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
