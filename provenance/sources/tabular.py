"""Readers for CSV, TSV and Parquet: one record per data row."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import IO

from provenance.sources.base import Row

csv.field_size_limit(sys.maxsize)  # a single record may be tens of megabytes


def read_csv(stream: IO[bytes], delimiter: str = ",") -> Iterator[Row]:
    # utf-8-sig: spreadsheets often start CSV exports with a byte-order mark
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    rows = csv.DictReader(text, delimiter=delimiter)
    index = 0
    try:
        header = rows.fieldnames or []
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            # csv keeps only the last cell of a repeated column: the others would go unscanned
            yield 0, None, f"DUPLICATE_HEADER: column {repeated[0][:40]!r} appears twice; not read"
            return
        for index, row in enumerate(rows):
            if None in row:
                yield index, None, f"INVALID_CSV: row {index} has more cells than the header"
                continue
            yield index, {k: v for k, v in row.items() if v is not None}, None
    except UnicodeDecodeError as exc:
        yield (
            index,
            None,
            f"INVALID_UTF8: near data row {index} (byte {exc.start}); rest of file not read",
        )
    except csv.Error as exc:
        yield index, None, f"INVALID_CSV: near data row {index}: {exc}; rest of file not read"
    finally:
        text.detach()


def read_tsv(stream: IO[bytes]) -> Iterator[Row]:
    return read_csv(stream, delimiter="\t")


def read_parquet(stream: IO[bytes]) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = 0
    try:
        for batch in pq.ParquetFile(stream).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                yield index, row, None
                index += 1
    except (pa.ArrowException, ValueError) as exc:
        yield index, None, f"INVALID_PARQUET: {str(exc).splitlines()[0]}"
