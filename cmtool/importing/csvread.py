"""CSV and TSV: encoding detection, dialect sniffing, quoted line breaks, truncated records."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.importing.table import RawRow, SourceTable, file_sha256

DELIMITERS = (",", "\t", ";", "|")
SNIFF_LINES = 50
# Fields can hold whole complaint letters; the csv module's 128 KiB default is too small.
csv.field_size_limit(1 << 26)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the name of the encoding it was read with.

    A BOM decides; then strict UTF-8; then GB18030 (a superset of GBK, what
    Chinese Excel writes) when the result reads as Chinese; then cp1252.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"the file is not valid {encoding} (byte {exc.start})") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _mostly_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot tell the file's text encoding (byte {exc.start})",
            hint="name it with --encoding, e.g. --encoding gbk",
        ) from None


def _mostly_chinese(text: str) -> bool:
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return True
    chinese = sum(1 for ch in non_ascii if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return chinese >= 0.7 * len(non_ascii)


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the most consistent, widest rows."""
    sample = lines[:SNIFF_LINES]
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        widths = [len(r) for r in csv.reader(sample, delimiter=delimiter) if any(c.strip() for c in r)]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, encoding: str | None = None, tab: bool = False) -> SourceTable:
    data = path.read_bytes()
    text, used = decode(data, encoding)
    if "\0" in text:
        raise UsageError(
            f"{path.name}: this looks like a binary file, not CSV", hint="an Excel workbook must end in .xlsx"
        )
    # Split on \r\n, \n and \r alike but keep the endings: the csv module then sees
    # the real line breaks inside quoted fields.
    lines = list(io.StringIO(text, newline=""))
    delimiter = "\t" if tab else sniff_delimiter(lines)
    rows: list[RawRow] = []
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    start_line = 1
    for number, cells in enumerate(reader, start=1):
        values = tuple(cell.replace("\r\n", "\n").replace("\r", "\n") for cell in cells)
        rows.append(RawRow(number, values))
        last_start, start_line = start_line, reader.line_num + 1
    if rows and _unterminated("".join(lines[last_start - 1 :]), delimiter):
        last = rows[-1]
        rows[-1] = RawRow(
            last.number,
            last.cells,
            f"truncated record: a quote opened on line {last_start} is never "
            "closed before the end of the file",
        )
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[delimiter]
    notes = (f"encoding {used}", f"delimiter {shown}")
    return SourceTable(path.name, file_sha256(path), None, tuple(rows), notes, text.endswith(("\n", "\r")))


def _unterminated(record_text: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(record_text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
