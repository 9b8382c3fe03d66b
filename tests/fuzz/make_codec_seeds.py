#!/usr/bin/env python3
"""Writes the seed corpora for the Modbus and CJ/T 188 codecs (corpus/{modbus_rtu,modbus_tcp,cjt188}).

The frames are those of src/codec/modbus_test.cpp and cjt188_test.cpp: the field captures of
PROTOCOLS.md §2-3 (hftangyu water reply with its misprinted checksum, the JY heat reply, the SC
valve frames, a read-address reply), the spec examples and the builders' outputs. Checksums are
computed here, never typed.

Layouts follow the harnesses: modbus_rtu seeds start with the direction byte (bit 0 = requests)
that modbus_rtu_fuzz.cpp reads, and both Modbus harnesses decode the first 3/4 of the input (the
rest feeds their request checks), so those seeds are padded to keep whole frames in the decoded
part. CJ/T 188 seeds are the raw frames. Run from anywhere; rewrites the seed files only.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def hexb(text):
    return bytes.fromhex(text)


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def rtu(text):
    body = hexb(text)
    crc = crc16(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def tcp(tid, unit, pdu):
    pdu = hexb(pdu)
    return bytes([tid >> 8, tid & 0xFF, 0, 0, 0, len(pdu) + 1, unit]) + pdu


def cjt188(text, preamble=4):
    frame = hexb(text)
    return b"\xFE" * preamble + frame + bytes([sum(frame) & 0xFF, 0x16])


def padded(frames):
    """Pads so the harness's decoded part (remaining // 4 * 3 + 1) covers every frame byte."""
    n = len(frames)
    pad = 0
    while (n + pad) // 4 * 3 + 1 < n:
        pad += 1
    return frames + bytes(range(1, pad + 1))


assert crc16(b"123456789") == 0x4B37
assert rtu("01 03 00 00 00 0A")[-2:] == hexb("C5 CD")
assert rtu("03 83 04") == hexb("03 83 04 E1 33")

REPLY, REQUEST = b"\x00", b"\x01"
RTU_SEEDS = {
    "vec_exception": REPLY + rtu("03 83 04"),
    "reply_read_holding": REPLY + rtu("01 03 14" + " 00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 00 0A"),
    "reply_read_coils": REPLY + rtu("11 01 02 CD 01"),
    "reply_read_coils_spec": REPLY + rtu("11 01 03 CD 6B 05"),
    "reply_write_coil": REPLY + rtu("11 05 00 AC FF 00"),
    "reply_write_registers": REPLY + rtu("11 10 00 01 00 02"),
    "reply_dtsu666_float": REPLY + rtu("01 03 04 45 0F F9 9A"),
    "reply_two_adus": REPLY + rtu("01 03 04 00 0A 00 0B") + rtu("02 06 00 01 00 03"),
    "reply_bad_crc": REPLY + hexb("03 83 04 E1 34"),
    "vec_read_holding_request": REQUEST + hexb("01 03 00 00 00 0A C5 CD"),
    "request_write_coils": REQUEST + rtu("11 0F 00 13 00 0A 02 CD 01"),
    "request_write_registers": REQUEST + rtu("11 10 00 01 00 02 04 00 0A 01 02"),
    "request_broadcast_coil": REQUEST + rtu("00 05 00 00 FF 00"),
    "request_read_input": REQUEST + rtu("01 04 00 48 00 02"),
}

TCP_SEEDS = {
    "read_holding_request": tcp(1, 1, "03 00 00 00 0A"),
    "two_adus": tcp(7, 1, "03 04 00 0A 00 0B") + tcp(8, 1, "83 02"),
    "exception": tcp(8, 1, "83 02"),
    "write_registers_request": tcp(42, 1, "10 00 01 00 02 04 00 0A 01 02"),
    "largest_pdu": tcp(0xFFFF, 0xFF, "03" + " AB" * 252),
}

WATER_BODY = ("68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C "
              "31 01 22 11 05 15 20 21 84")
HEAT_BODY = ("68 20 32 41 31 40 00 00 00 81 2E 90 1F 01 08 02 00 00 00 08 02 00 00 00 "
             "17 00 00 00 00 35 00 00 00 00 2C 34 10 00 00 35 25 00 66 25 00 00 00 00 "
             "53 00 12 10 07 15 20 00 00")
CJT188_SEEDS = {
    "vec_water_read_1f90": cjt188("68 10 44 33 22 11 00 33 78 01 03 1F 90 00"),
    "vec_water_reply_printed_cs": b"\xFE" * 4 + hexb(WATER_BODY) + hexb("08 16"),
    "vec_water_reply_corrected": cjt188(WATER_BODY),
    "vec_heat_read_901f": cjt188("68 20 32 41 31 40 00 00 00 01 03 90 1F 01"),
    "vec_heat_reply_l2e_unit_first": cjt188(HEAT_BODY),
    "vec_valve_open": cjt188("68 10 69 05 90 05 15 33 78 04 04 A0 17 01 55"),
    "vec_valve_close": cjt188("68 10 69 05 90 05 15 33 78 04 04 A0 17 01 99"),
    "vec_valve_open_reply": cjt188("68 10 69 05 90 05 15 33 78 84 05 A0 17 01 00 00"),
    "vec_read_address_reply_header_only": cjt188("68 10 12 00 00 00 00 00 00 83 03 81 0A 00", 3),
    "read_address_request_0a81": cjt188("68 10 AA AA AA AA AA AA AA 03 03 0A 81 07", 0),
    "read_address_reply_with_data": cjt188(
        "68 10 44 33 22 11 00 33 78 83 0A 81 0A 02 44 33 22 11 00 33 78", 2),
    "clock_2026_901f_be": cjt188(
        "68 10 01 00 00 00 00 00 00 81 16 90 1F 05 12 34 00 00 2C 00 30 00 00 2C "
        "00 30 14 08 01 26 20 00 00", 2),
    "clock_2026_901f_le": cjt188(
        "68 10 01 00 00 00 00 00 00 81 16 1F 90 05 12 34 00 00 2C 00 30 00 00 2C "
        "00 30 14 08 01 26 20 00 00", 2),
    "abnormal_st_only": cjt188("68 10 44 33 22 11 00 33 78 C4 02 03 00", 0),
    "history_d123_reply": cjt188("68 10 44 33 22 11 00 33 78 81 08 D1 23 03 21 43 00 00 2C", 2),
    "heat_reply_ng43": cjt188(
        "68 20 44 33 22 11 00 33 78 81 2B 90 1F 01 78 56 34 12 05 99 99 34 12 05 "
        "34 12 00 17 56 34 12 35 32 54 76 87 2C 43 65 21 43 34 12 00 00 "
        "00 30 14 08 01 26 20 04 00", 2),
    "two_frames_valve_and_reply": cjt188("68 10 69 05 90 05 15 33 78 04 04 A0 17 01 55")
    + cjt188("68 10 69 05 90 05 15 33 78 84 05 A0 17 01 00 00"),
}

assert CJT188_SEEDS["vec_water_reply_corrected"][-2] == 0x13
assert CJT188_SEEDS["vec_heat_reply_l2e_unit_first"][-2] == 0x31
assert CJT188_SEEDS["vec_valve_open"][-2] == 0x50
assert CJT188_SEEDS["vec_valve_close"][-2] == 0x94
assert CJT188_SEEDS["vec_valve_open_reply"][-2] == 0x7C
assert CJT188_SEEDS["vec_read_address_reply_header_only"][-2] == 0x9B


def write(directory, seeds, pad):
    out = os.path.join(HERE, "corpus", directory)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(padded(data) if pad else data)


write("modbus_rtu", RTU_SEEDS, True)
write("modbus_tcp", TCP_SEEDS, True)
write("cjt188", CJT188_SEEDS, False)
