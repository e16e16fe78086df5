"""Reading a CSV exported from a company system: its encoding, its delimiter, its header, its rows.

What arrives in practice: Excel on a Chinese Windows saves "CSV" as GBK (GB18030 is its superset),
"CSV UTF-8" with a BOM, and "Unicode text" as UTF-16 with tabs; other systems write plain UTF-8, or
semicolons where a comma is the decimal mark. All of those are read here, without asking the operator.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # documented in docs/architecture.md (CRM data)
DELIMITERS = ",\t;"
SNIFF_SAMPLE = 64 * 1024


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message is meant for the operator."""


@dataclass(frozen=True)
class CsvText:
    text: str
    encoding: str
    delimiter: str
    header: list[str]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) for every row that is not blank. Lines count records as a spreadsheet shows
        them: the header is line 1, and a cell with a line break inside does not shift the numbers."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        line = 1
        try:
            next(reader, None)
            for cells in reader:
                line += 1
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except csv.Error as exc:
            raise FileProblem(f"line {line + 1}: the CSV is malformed ({exc})") from None


def read(data: bytes) -> CsvText:
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileProblem(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it")
    text, encoding = decode(data)
    if "\x00" in text:
        raise FileProblem("this is not a text file; save the sheet as CSV")
    delimiter = sniff_delimiter(text)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    except csv.Error as exc:
        raise FileProblem(f"line 1: the CSV is malformed ({exc})") from None
    header = [cell.strip() for cell in header or []]
    if not any(header):
        raise FileProblem("the file is empty: the first line must name the columns")
    return CsvText(text=text, encoding=encoding, delimiter=delimiter, header=header)


def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("this is an Excel workbook; in Excel choose Save As > CSV and upload that")
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # GBK files from Excel decode as GB18030, which also covers the characters GBK lacks.
    return _decode(data, "gb18030"), "gb18030"


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"the file is neither UTF-8 nor GBK/GB18030 text (undecodable byte at offset {exc.start})"
        ) from None


def sniff_delimiter(text: str) -> str:
    sample = text[:SNIFF_SAMPLE]
    first_line = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    # The sniffer guesses from the whole sample and can be fooled by punctuation inside cells; a header
    # names its columns with the real delimiter, so a guess absent from it is overruled.
    if found and found in first_line:
        return found
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
