"""The `reference` detector: which registered protected work a text field copies, and where.

Whole-document similarity misses a 50-word passage quoted inside a long answer, so matching is
about containment, in two steps per field and reference kind (prose, code):

1. Candidates. Every shingle of the field is looked up among the reference anchors (winnowed
   shingle hashes, see `provenance.refs`); any run of at least window + k - 1 tokens shared
   with a reference document hits an anchor. Hits are grouped by document and alignment
   (reference position minus field position, allowing a small drift for inserted or deleted
   words), so each group is one candidate region of one document.
2. Verification. Each candidate is checked exactly: the field's shingles around the hits
   against the document's shingles around the aligned region. Runs of matched shingles make
   the matched span; its containment (the share of the span's shingles found in the
   document) is the finding's score. A candidate below the threshold or with fewer than
   `min_matched` matched shingles is dropped, so no LSH-style false positive is reported.

The finding type follows the set's license (rules/licenses/reference-licenses.yaml):
REFERENCE_MATCH (does not permit training), REFERENCE_MATCH_NONCOMMERCIAL,
REFERENCE_MATCH_PERMITTED (its obligations are listed in the detail).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np

from provenance.detectors.base import Detector, ScanContext
from provenance.detectors.shingles import Tokens, shingle_hashes, tokens
from provenance.model import Finding, Record, TextField
from provenance.refs import ReferenceIndex, empty_index, load_index, verification_hashes

DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_MATCHED = 20
DRIFT = 16  # tokens a passage may shift against the reference (inserted or deleted words)
MAX_POSITIONS = 64  # anchors of one hash kept: a boilerplate shingle says nothing about a source
PREVIEW_CHARS = 60
TYPES = {
    "not-permitted": "REFERENCE_MATCH",
    "non-commercial": "REFERENCE_MATCH_NONCOMMERCIAL",
    "permitted": "REFERENCE_MATCH_PERMITTED",
}


@dataclass(frozen=True)
class Match:
    """A verified match of a span of a field against one reference document."""

    doc: int
    kind: str
    start: int  # character offsets in the field
    end: int
    reference_start: int  # character offsets in the reference document
    reference_end: int
    matched: int  # shingles of the span found in the document
    span: int  # shingles in the span
    similarity: float  # Jaccard of the span's and the reference region's shingle sets

    @property
    def containment(self) -> float:
        return self.matched / self.span


class ReferenceDetector(Detector):
    """Finds text copied from registered reference sets (containment, verified exactly)."""

    name: ClassVar[str] = "reference"
    version: ClassVar[str] = "1"
    finding_types: ClassVar[frozenset[str]] = frozenset(
        {"REFERENCE_MATCH", "REFERENCE_MATCH_NONCOMMERCIAL", "REFERENCE_MATCH_PERMITTED"}
    )

    def __init__(
        self,
        *,
        sets: Sequence[str] | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        min_matched: int = DEFAULT_MIN_MATCHED,
        index: ReferenceIndex | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"reference threshold must be in (0, 1], got {threshold}")
        if min_matched < 1:
            raise ValueError(f"reference min_matched must be at least 1, got {min_matched}")
        self.sets = list(sets) if sets is not None else None
        self.threshold = threshold
        self.min_matched = min_matched
        self.index = index if index is not None else empty_index()

    @classmethod
    def prepare(cls, context: ScanContext, options: dict[str, Any]) -> dict[str, Any]:
        """Load the chosen sets (option `sets`; None: every registered set) from the store."""
        if options.get("index") is not None:
            return options
        return {**options, "index": load_index(context.store, options.get("sets"))}

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "threshold": self.threshold,
            "min_matched": self.min_matched,
            "sets": [
                {"name": s.name, "license": s.license, "documents": s.documents,
                 "threshold": s.threshold, "fingerprint": s.fingerprint}
                for s in self.index.sets
            ],
        }  # fmt: skip

    def detect_batch(self, records: Sequence[Record]) -> Iterator[Finding]:
        if not self.index.kinds:
            return
        for record in records:
            for field in record.fields:
                for match in self.match_text(field.text):
                    yield self._finding(record, field, match)

    def match_text(self, text: str) -> list[Match]:
        """Verified matches of `text` against the index, in field order."""
        found: list[Match] = []
        for kind in self.index.kinds:
            toks = tokens(text, kind)
            if len(toks) == 0:
                continue
            found.extend(self._match_kind(kind, toks))
        return sorted(found, key=lambda m: (m.start, m.end, m.doc, m.kind))

    # -- matching --------------------------------------------------------------------------

    def _match_kind(self, kind: str, toks: Tokens) -> list[Match]:
        index = self.index
        k = index.shingle_k[kind]
        query64 = shingle_hashes(toks.hashes, k)
        anchors = index.anchors[kind]
        lo = np.searchsorted(anchors.hashes, query64, side="left")
        hi = np.searchsorted(anchors.hashes, query64, side="right")
        counts = np.minimum(hi - lo, MAX_POSITIONS)
        total = int(counts.sum())
        if total == 0:
            return []
        qpos = np.repeat(np.arange(len(query64), dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        hit = lo[qpos] + within
        docs = anchors.docs[hit].astype(np.int64)
        rpos = anchors.positions[hit].astype(np.int64)
        offset = rpos - qpos
        order = np.lexsort((qpos, offset, docs))
        docs, offset, qpos, rpos = docs[order], offset[order], qpos[order], rpos[order]
        # A new candidate starts where the document changes or the alignment jumps.
        breaks = np.flatnonzero((np.diff(docs) != 0) | (np.diff(offset) > DRIFT)) + 1
        bounds = np.concatenate(([0], breaks, [len(docs)]))
        query32 = verification_hashes(query64)
        results: list[Match] = []
        for a, b in pairwise(bounds):
            results.extend(self._verify(kind, toks, query32, int(docs[a]), qpos[a:b], rpos[a:b], k))
        return _best_per_span(results)

    def _verify(
        self,
        kind: str,
        toks: Tokens,
        query: np.ndarray,
        doc: int,
        qpos: np.ndarray,
        rpos: np.ndarray,
        k: int,
    ) -> list[Match]:
        index = self.index
        reference = index.doc_shingles(doc)
        reach = index.window + k  # shared shingles can extend this far past the outer anchors
        q0, q1 = max(0, int(qpos.min()) - reach), min(len(query), int(qpos.max()) + reach + 1)
        r0 = max(0, int(rpos.min()) - reach - DRIFT)
        r1 = min(len(reference), int(rpos.max()) + reach + DRIFT + 1)
        region = reference[r0:r1]
        matched = np.isin(query[q0:q1], region)
        positions = np.flatnonzero(matched)
        if len(positions) < self.min_matched:
            return []
        threshold = index.sets[int(index.doc_set[doc])].threshold or self.threshold
        # Runs of matched shingles separated by more than a few edits are separate spans.
        gaps = np.flatnonzero(np.diff(positions) > 3 * k) + 1
        results = []
        for run in np.split(positions, gaps):
            if len(run) < self.min_matched:
                continue
            first, last = int(run[0]) + q0, int(run[-1]) + q0
            span = last - first + 1
            if len(run) / span < threshold:
                continue
            span_hashes = query[first : last + 1]
            in_span = np.flatnonzero(np.isin(region, span_hashes))
            ref_first, ref_last = int(in_span[0]) + r0, int(in_span[-1]) + r0
            ref_hashes = reference[ref_first : ref_last + 1]
            similarity = _jaccard(span_hashes, ref_hashes)
            starts, ends = index.doc_offsets(doc)
            last_token = min(last + k - 1, len(toks) - 1)
            ref_last_token = min(ref_last + k - 1, len(starts) - 1)
            results.append(
                Match(
                    doc=doc, kind=kind, start=int(toks.starts[first]),
                    end=int(toks.ends[last_token]), reference_start=int(starts[ref_first]),
                    reference_end=int(ends[ref_last_token]), matched=len(run), span=span,
                    similarity=similarity,
                )
            )  # fmt: skip
        return results

    # -- findings --------------------------------------------------------------------------

    def _finding(self, record: Record, field: TextField, match: Match) -> Finding:
        index = self.index
        info = index.sets[int(index.doc_set[match.doc])]
        detail: dict[str, Any] = {
            "reference_set": info.name,
            "reference_doc": index.doc_names[match.doc],
            "reference_license": info.license,
            "license_permits_training": info.training,
            "containment": round(match.containment, 4),
            "similarity": round(match.similarity, 4),
            "reference_start": match.reference_start,
            "reference_end": match.reference_end,
            "matched_shingles": match.matched,
            "span_shingles": match.span,
            "kind": match.kind,
            "threshold": info.threshold or self.threshold,
        }
        if info.obligations:
            detail["obligations"] = list(info.obligations)
        return Finding(
            record_id=record.id,
            file=record.file,
            row=record.row,
            detector=self.name,
            type=TYPES[info.training],
            field=field.name,
            start=match.start,
            end=match.end,
            score=round(match.containment, 4),
            preview=preview(field.text[match.start : match.end]),
            detail=detail,
        )


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The first words of a matched passage on one line, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit - 1)
    return flat[: cut if cut > 0 else limit - 1] + "…"


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    ua, ub = np.unique(a), np.unique(b)
    shared = len(np.intersect1d(ua, ub, assume_unique=True))
    union = len(ua) + len(ub) - shared
    return shared / union if union else 0.0


def _best_per_span(matches: list[Match]) -> list[Match]:
    """One match per document and overlapping span: the most contained, then the longest.

    A passage that occurs twice in a document (or a chain of candidates over one passage)
    would otherwise be reported more than once.
    """
    kept: list[Match] = []
    for match in sorted(matches, key=lambda m: (m.doc, -m.containment, -m.span, m.start)):
        if any(k.doc == match.doc and k.start < match.end and match.start < k.end for k in kept):
            continue
        kept.append(match)
    return kept
