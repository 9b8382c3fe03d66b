#!/usr/bin/env python3
"""Writes the hand-made seeds of the import-file corpora: corpus/csv_reader/seed_<name>.csv and
corpus/xlsx_reader/seed_<name>.xlsx.

The CSV seeds are the situations of codec/csv_reader_test.cpp: a BOM, every newline, quoted cells
with commas, newlines and doubled quotes, gaps, blank rows, a bare quote, GBK bytes, an unclosed
quote. The XLSX seeds are small workbooks written part by part (zip, deflated, fixed timestamps so
the files are byte-for-byte reproducible): shared strings with rich text and phonetic runs, inline
strings, numbers in exponent form, booleans, errors, gaps in rows and cells, prefixed element
names, a hidden first sheet, a workbook without relationship parts. The template_*.xlsx seeds
beside them are the API's own import templates (libxlsxwriter), saved from
GET /api/v1/projects/{project}/imports/{kind}/template?format=xlsx. Run from anywhere: it rewrites
only the seed_* files named here.
"""
import io
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

CSV_SEEDS = {
    "rooms_bom_crlf": "\ufeff楼栋 building,楼层 floor,房间编号 code,房间名称 name,面积 area\r\n"
                      "1号楼,1F,101,商铺 101,35.50\r\n1号楼,1F,102,\"Tea, coffee\",20\r\n",
    "quoted_newlines": 'code,note\n"R1","line one\r\nline two"\n"R2","say ""hi"""\n\n,,\nR3,x\n',
    "lone_cr_and_gaps": "a,,c,,\r,b\rlast",
    "bare_quote": '5" pipe,O\'Brien\n"x\'; DROP TABLE rooms; --",ok\n',
    "meters": "code,model,gateway,bus_address,circuit,room,tariff,parent,public_area\n"
              "000012345678,dds-1,gw1,,0,101,,,否\nM-2,dds-1,gw1,2,1,,flat,000012345678,TRUE\n",
}

CSV_BYTES = {
    "gbk_text": "code,name\nB1,".encode() + "楼".encode("gbk") + b"\n",
    "unclosed_quote": b'a,b\nc,"open\n',
    "after_quote": b'a,b\n"x"y,z\n',
}


def xml(text):
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text


def package(sheet_rows, shared=None, workbook_sheets='<sheet name="data" sheetId="1" r:id="rId1"/>',
            extra_rels="", extra_parts=None, prefix=""):
    p = prefix + ":" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    parts = {
        "[Content_Types].xml": xml('<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                                   'content-types"/>'),
        "_rels/.rels": xml(f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                           f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                           '</Relationships>'),
        "xl/workbook.xml": xml(f'<{p}workbook {ns} xmlns:r="{REL}"><{p}sheets>'
                               + workbook_sheets.replace("<sheet", f"<{p}sheet")
                               + f'</{p}sheets></{p}workbook>'),
        "xl/_rels/workbook.xml.rels": xml(
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId9" Type="{REL}/sharedStrings" '
            f'Target="sharedStrings.xml"/>{extra_rels}</Relationships>'),
        "xl/worksheets/sheet1.xml": xml(f'<{p}worksheet {ns}><{p}sheetData>{sheet_rows}'
                                        f'</{p}sheetData></{p}worksheet>'),
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = xml(
            f'<sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">'
            + "".join(f"<si>{s}</si>" for s in shared) + "</sst>")
    parts.update(extra_parts or {})
    return parts


def zip_bytes(parts):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8") if isinstance(text, str) else text)
    return out.getvalue()


def shared_cell(ref, index):
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


XLSX_SEEDS = {
    "shared_rich_phonetic": package(
        '<row r="1">' + shared_cell("A1", 0) + shared_cell("B1", 1) + '</row>'
        '<row r="2">' + shared_cell("A2", 2) + shared_cell("B2", 3) +
        '<c r="C2"><v>12.300000000000001</v></c><c r="D2" t="b"><v>1</v></c>'
        '<c r="E2" t="e"><v>#N/A</v></c><c r="F2" t="str"><f>A2&amp;"x"</f><v>1号楼x</v></c></row>',
        shared=["<t>code</t>", "<t>tenant</t>", '<t xml:space="preserve"> 1号楼 </t>',
                '<r><t>Tea</t></r><r><rPr><b/></rPr><t> shop</t></r>'
                '<rPh sb="0" eb="1"><t>ティー</t></rPh>']),
    "inline_gaps_numbers": package(
        '<row r="2"><c r="B2" t="inlineStr"><is><t>b</t></is></c><c r="D2"><v>4</v></c></row>'
        '<row r="3" s="1" customFormat="1"><c r="A3" s="1"/></row>'
        '<row r="7"><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row>'
        '<row><c r="C8"><v>-1.25E-3</v></c><c r="D8"><v>1.23456789012346E+17</v></c></row>'),
    "prefixed_hidden_first": package(
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>visible</x:t></x:is></x:c></x:row>',
        workbook_sheets='<sheet name="hidden" sheetId="2" r:id="rId2" state="hidden"/>'
                        '<sheet name="data" sheetId="1" r:id="rId1"/>',
        extra_rels=f'<Relationship Id="rId2" Type="{REL}/worksheet" '
                   'Target="/xl/worksheets/sheet2.xml"/>',
        extra_parts={"xl/worksheets/sheet2.xml": xml(
            f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v>'
            '</x:c></x:row></x:sheetData></x:worksheet>')},
        prefix="x"),
}


def no_relationships():
    parts = package('<row r="1">' + shared_cell("A1", 0) + '</row>', shared=["<t>only</t>"])
    return {k: v for k, v in parts.items() if not k.endswith(".rels")}


XLSX_SEEDS["no_relationships"] = no_relationships()


def main():
    for name, text in CSV_SEEDS.items():
        with open(os.path.join(HERE, "corpus", "csv_reader", f"seed_{name}.csv"), "wb") as f:
            f.write(text.encode("utf-8"))
    for name, data in CSV_BYTES.items():
        with open(os.path.join(HERE, "corpus", "csv_reader", f"seed_{name}.csv"), "wb") as f:
            f.write(data)
    for name, parts in XLSX_SEEDS.items():
        with open(os.path.join(HERE, "corpus", "xlsx_reader", f"seed_{name}.xlsx"), "wb") as f:
            f.write(zip_bytes(parts))


if __name__ == "__main__":
    main()
