#!/usr/bin/env python3
"""Writes the seed corpus of stream_scanner_fuzz (corpus/stream_scanner/*.bin).

Each seed is the harness's input layout: flags, max_frame, max_buffered, RTU unit, RTU function,
plan length, plan bytes, then the byte stream (see stream_scanner_fuzz.cpp). The streams are the
situations of the scanner's unit tests: preambles, noise, registration strings, heartbeats, fake
start bytes, damaged frames, overflow, idle lines, RTU replies and requests, MBAP ADUs. Modbus CRCs
below were computed with codec::modbus::Crc16. Run from anywhere; rewrites the seed files only.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "stream_scanner")

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


SEEDS = {
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


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
