"""Readers for JSON Lines, JSON documents and plain text or Markdown files."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import IO, Any

from provenance.sources.base import Row

_WHITESPACE = " \t\n\r"


class DuplicateKey(ValueError):
    """An object names one key twice: parsers disagree on which value wins, so we read neither."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"key {key[:40]!r} appears twice in one object")
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _problem(exc: Exception) -> str:
    """The error type and message for a value that could not be decoded."""
    if isinstance(exc, DuplicateKey):
        return f"DUPLICATE_KEY: {exc}"
    if isinstance(exc, RecursionError):
        return "INVALID_JSON: nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"INVALID_JSON: column {exc.colno}: {exc.msg}"
    return f"INVALID_JSON: {str(exc).splitlines()[0]}"  # e.g. an integer too long to convert


def read_jsonl(stream: IO[bytes]) -> Iterator[Row]:
    """One row per physical line; blank lines are skipped but counted."""
    for row, raw in enumerate(stream):
        line = raw.strip()
        if row == 0:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield row, None, f"INVALID_UTF8: byte {exc.start} of line {row + 1}"
            continue
        try:
            value = _DECODER.decode(text)
        except json.JSONDecodeError as exc:
            yield row, None, f"INVALID_JSON: line {row + 1}, column {exc.colno}: {exc.msg}"
        except (ValueError, RecursionError) as exc:
            yield row, None, _problem(exc).replace(": ", f": line {row + 1}, ", 1)
        else:
            yield row, value, None


def read_text(stream: IO[bytes]) -> Iterator[Row]:
    """The whole file is one record with a `text` field."""
    data = stream.read()
    try:
        yield 0, {"text": data.decode("utf-8")}, None
    except UnicodeDecodeError as exc:
        yield 0, None, f"INVALID_UTF8: byte {exc.start}"


def read_json(stream: IO[bytes]) -> Iterator[Row]:
    """A JSON array (or an object holding one array), streamed element by element."""
    try:
        yield from _read_json(stream)
    except UnicodeDecodeError as exc:
        yield 0, None, f"INVALID_UTF8: byte {exc.start}"
    except (ValueError, RecursionError) as exc:
        yield 0, None, _problem(exc)


def _read_json(stream: IO[bytes]) -> Iterator[Row]:
    reader = _JsonStream(stream)
    start = reader.next_char()
    if start == "[":
        yield from reader.array()
        return
    if start != "{":
        yield 0, None, "JSON_SHAPE: expected an array of records or an object holding one"
        return
    found = False
    reader.advance()
    while True:
        char = reader.next_char()
        if char == "}" or char == "":
            break
        if char == ",":
            reader.advance()
            continue
        reader.value()  # the key
        if reader.next_char() != ":":
            yield 0, None, "INVALID_JSON: expected ':' after an object key"
            return
        reader.advance()
        if reader.next_char() == "[":
            if found:
                yield 0, None, "JSON_SHAPE: object holds more than one array; use one per file"
                return
            found = True
            yield from reader.array()
        else:
            reader.value()
    if not found:
        yield 0, None, "JSON_SHAPE: object holds no array of records"


class _JsonStream:
    """Incremental JSON over a byte stream: one value at a time, buffer grown as needed."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._chunk = 1 << 16

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._stream.read(self._chunk)
        self._eof = not data
        self._buf = self._buf[self._pos :] + self._decoder.decode(data, final=self._eof)
        self._pos = 0
        return not self._eof or bool(self._buf)

    def next_char(self) -> str:
        """The next non-whitespace character, not consumed ('' at the end)."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill() or (self._pos >= len(self._buf) and self._eof):
                return ""

    def advance(self) -> None:
        self._pos += 1

    def value(self) -> Any:
        """Decode one value, reading more (in growing chunks) until it is complete."""
        self.next_char()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError:
                if self._eof:
                    raise
                self._chunk = min(self._chunk * 2, 1 << 26)
                self._fill()
                continue
            if end == len(self._buf) and not self._eof:
                # a number may continue in the next chunk
                self._fill()
                continue
            self._pos = end
            return value

    def array(self) -> Iterator[Row]:
        self.advance()  # '['
        index = 0
        while True:
            try:
                char = self.next_char()
                if char == "]":
                    self.advance()
                    return
                if char == "":
                    yield index, None, "INVALID_JSON: unterminated array"
                    return
                if char == "," and index > 0:
                    self.advance()
                    continue
                value = self.value()
            except UnicodeDecodeError as exc:
                yield index, None, f"INVALID_UTF8: near element {index} (byte {exc.start})"
                return
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                code, _, message = _problem(exc).partition(": ")
                yield index, None, f"{code}: element {index}: {message}; rest of file not read"
                return
            yield index, value, None
            index += 1
