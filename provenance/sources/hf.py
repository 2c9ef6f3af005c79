"""Hugging Face datasets: a `save_to_disk` folder, or a hub id through `datasets.load_dataset`.

A hub id is the only source that may use the network, and only with `allow_network`; otherwise
`datasets` runs offline and reads its local cache. Each split is one "file" of the dataset, hashed
by the sha256 of its Arrow files so the gate can tell when it changed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from provenance.errors import InputError
from provenance.model import DataFile, Record
from provenance.sources.base import Dataset, Entry, Row, records_from_rows

_HUB_ID = re.compile(r"^(hf://)?[A-Za-z0-9][\w.-]*/[\w.-]+$")
_BATCH = 1000


def looks_like_hub_id(source: str) -> bool:
    return bool(_HUB_ID.match(source))


def is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def open_saved_dataset(path: Path, source: str, *, text_field: Sequence[str] | None) -> Dataset:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises many types for a damaged folder
        raise InputError(f"cannot load saved dataset {source}: {_first_line(exc)}") from None
    root = path.resolve()
    metadata = sorted(p for p in root.iterdir() if p.name.lower() in ("readme.md", "license"))
    return Dataset(source, root, [], metadata, text_field, hub=_splits(loaded))


def open_hub_dataset(
    source: str, *, text_field: Sequence[str] | None, allow_network: bool
) -> Dataset:
    name = source.removeprefix("hf://")
    if not allow_network:
        go_offline()
    import datasets

    try:
        loaded = datasets.load_dataset(name)
    except Exception as exc:
        hint = "" if allow_network else " (offline: pass --allow-network to download it)"
        raise InputError(f"cannot load dataset {name}: {_first_line(exc)}{hint}") from None
    return Dataset(source, None, [], [], text_field, hub=_splits(loaded))


def go_offline() -> None:
    """Keep `datasets` and `huggingface_hub` off the network, even if already imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    import datasets.config
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_OFFLINE = True
    datasets.config.HF_HUB_OFFLINE = True
    datasets.config.HF_DATASETS_OFFLINE = True


def _splits(loaded: Any) -> dict[str, Any]:
    import datasets

    if isinstance(loaded, datasets.DatasetDict):
        return {str(split): loaded[split] for split in sorted(loaded)}
    return {"data": loaded}


def hub_files(dataset: Dataset) -> list[DataFile]:
    files = []
    for split, data in dataset.hub.items():
        digest = hashlib.sha256()
        size = 0
        for cache_file in sorted(c["filename"] for c in data.cache_files):
            with open(cache_file, "rb") as stream:
                while block := stream.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        if not data.cache_files:  # in memory only: hash its fingerprint
            digest.update(data._fingerprint.encode())
        files.append(DataFile(split, digest.hexdigest(), "arrow", size))
    return files


def hub_records(dataset: Dataset, skip: set[str] | frozenset[str]) -> Iterator[Record]:
    for split, data in dataset.hub.items():
        if split not in skip:
            yield from records_from_rows(split, _rows(data), dataset.text_field)


def _rows(data: Any) -> Iterator[Row]:
    index = 0
    for batch in data.iter(batch_size=_BATCH):
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            yield index, dict(zip(columns, values, strict=True)), None
            index += 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["Entry", "hub_files", "hub_records", "is_saved_dataset", "looks_like_hub_id"]
