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
FIELD_LIMIT = 1 << 26
csv.field_size_limit(FIELD_LIMIT)
MAX_BYTES = 1 << 30  # a CSV larger than this is not read into memory
MAX_COLUMNS = 16_384  # Excel's limit


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
        try:
            widths = [len(r) for r in csv.reader(sample, delimiter=delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            continue  # e.g. a field over the limit: reported where the rows are read
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(path: Path, encoding: str | None = None, tab: bool = False) -> SourceTable:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UsageError(
            f"{path.name}: {size >> 20} MB, more than the {MAX_BYTES >> 20} MB an import reads",
            hint="split the file",
        )
    data = path.read_bytes()
    text, used, bad_lines = decode_lines(data, encoding)
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
    try:
        for number, cells in enumerate(reader, start=1):
            if len(cells) > MAX_COLUMNS:
                raise UsageError(
                    f"{path.name}: line {start_line} has {len(cells):,} columns, "
                    f"more than Excel's {MAX_COLUMNS:,}",
                    hint="is the delimiter right? a sheet this wide is not a complaint log",
                )
            values = tuple(cell.replace("\r\n", "\n").replace("\r", "\n") for cell in cells)
            bad = next((n for n in range(start_line, reader.line_num + 1) if n in bad_lines), None)
            broken = None
            if bad is not None:
                broken = f"line {bad} is not in the file's encoding ({used}): the file mixes text encodings"
            rows.append(RawRow(number, values, broken, "BAD_ENCODING"))
            last_start, start_line = start_line, reader.line_num + 1
    except csv.Error as exc:
        raise UsageError(
            f"{path.name}: line {reader.line_num}: {exc}",
            hint=f"a field may be at most {FIELD_LIMIT >> 20} MB; is a quote left open?",
        ) from None
    if rows and not rows[-1].broken and _unterminated("".join(lines[last_start - 1 :]), delimiter):
        last = rows[-1]
        rows[-1] = RawRow(
            last.number,
            last.cells,
            f"truncated record: a quote opened on line {last_start} is never "
            "closed before the end of the file",
        )
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[delimiter]
    notes = [f"encoding {used}", f"delimiter {shown}"]
    if bad_lines:
        first = min(bad_lines)
        notes.append(
            f"the file mixes text encodings: {len(bad_lines)} lines are not {used} (first: line "
            f"{first}); their rows are rejected (BAD_ENCODING). Convert the file to one encoding, "
            "or name the right one with --encoding"
        )
    return SourceTable(
        path.name, file_sha256(path), None, tuple(rows), tuple(notes), text.endswith(("\n", "\r"))
    )


def decode_lines(data: bytes, encoding: str | None = None) -> tuple[str, str, set[int]]:
    """The text, the encoding it was read with, and the lines (1-based) not valid
    in it. A file that mixes encodings (rows pasted from a UTF-8 export into a GBK
    one) is read in the encoding most of its lines use; the others are named, so
    their rows are refused instead of imported as mojibake."""
    if encoding and encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")):
        return *decode(data, encoding), set()  # two- and four-byte units: not split by bytes
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if encoding is None and (utf16 or _valid(body, "utf-8")):
        return *decode(data), set()
    lines = body.splitlines(keepends=True)
    if encoding is None:
        utf8 = {i for i, line in enumerate(lines) if not line.isascii() and _valid(line, "utf-8")}
        other = [i for i, line in enumerate(lines) if not line.isascii() and i not in utf8]
        if len(utf8) >= len(other):
            encoding, bad = "utf-8", set(other)
        else:
            encoding = decode(b"".join(lines[i] for i in other))[1]
            bad = utf8 | {i for i in other if not _valid(lines[i], encoding)}
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
        bad = {i for i, line in enumerate(lines) if not _valid(line, encoding)}
    text = "".join(line.decode(encoding, errors="replace") for line in lines)
    # bytes.splitlines breaks where the csv module counts lines (\r\n, \n, \r).
    return text, encoding, {i + 1 for i in bad}


def _valid(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _unterminated(record_text: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(record_text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
