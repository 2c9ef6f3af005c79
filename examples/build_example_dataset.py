"""Build `examples/dataset/` from the Apache-2.0 instruction tasks in `shared/data/instruct/`.

Run from the repository root (the output is committed; rerunning gives the same bytes):

    python examples/build_example_dataset.py ../shared/data/instruct examples/dataset

Sources (both Apache-2.0, human-written):
- tatsu-lab/stanford_alpaca `seed_tasks.jsonl` @761dc5b (175 tasks)
- yizhongw/self-instruct `human_eval/user_oriented_instructions.jsonl` @0b26cca (252 tasks)

What this script adds, so the demo has something to find: realistic personal data (invented
names, contact details and identifiers — none belongs to a real person; the card numbers are
standard test numbers and the key is AWS's documentation example), two exact duplicates, and a
passage copied from the repository's own example reference set (`examples/references/handbook`).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

# (record index, field, text appended to that field) — applied to the alpaca file.
INJECTIONS = [
    (3, "output", " For questions, email Maria Gonzalez at maria.gonzalez@northwind-mail.com."),
    (11, "input", " Call me back on (415) 555-0132 after six."),
    (19, "output", " Ship it to 742 Evergreen Terrace, Springfield, OR 97477."),
    (27, "input", " My SSN is 536-22-8146 if you need it for the form."),
    (35, "output", " Charge the card 4111 1111 1111 1111, expiry 09/27."),
    (43, "input", " Transfer to IBAN DE89 3704 0044 0532 0130 00 by Friday."),
    (51, "output", " Use the key AKIAIOSFODNN7EXAMPLE with the secret in the vault."),
    (59, "input", " The server is at 203.0.113.42; log in as admin."),
    (67, "output", " Thanks, Jonathan Whitaker"),
    (75, "input", " Contact: priya.raman@example.org, +44 20 7946 0958."),
    (83, "output", " connect with postgres://etl_user:s3cretPassw0rd@db.internal:5432/sales"),
    (91, "input", " Dr. Alan Mercer will see you on March 3rd at 10am."),
    (99, "output", " My passport number is 912803456 and my date of birth is 4 May 1988."),
    (107, "input", " Send the refund to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT."),
]
DUPLICATES = [(5, 120), (8, 121)]  # (source index, index of the copy)
HANDBOOK_PASSAGE = 140  # this record's output gets a passage from the example handbook


def tasks(path: Path) -> list[dict[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        task = json.loads(line)
        instance = task["instances"][0]
        out.append(
            {
                "instruction": task["instruction"],
                "input": instance.get("input", ""),
                "output": instance["output"],
            }
        )
    return out


def main(instruct_dir: str, out_dir: str) -> None:
    source = Path(instruct_dir)
    out = Path(out_dir)
    alpaca = tasks(source / "stanford_alpaca_seed_tasks.jsonl")
    chats = tasks(source / "self_instruct_user_oriented_instructions.jsonl")
    for index, field, text in INJECTIONS:
        alpaca[index][field] = (alpaca[index][field] + text).strip()
    for original, copy in DUPLICATES:
        alpaca.insert(copy, dict(alpaca[original]))
    handbook = Path(__file__).parent / "references" / "handbook" / "onboarding.md"
    text = handbook.read_text(encoding="utf-8")
    passage = " ".join(text[text.index("Every new engineer") :].split()[:90])
    alpaca[HANDBOOK_PASSAGE]["output"] += "\n\n" + passage

    (out / "data").mkdir(parents=True, exist_ok=True)
    with open(out / "data" / "alpaca.jsonl", "w", encoding="utf-8") as f:
        for record in alpaca:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    rng = random.Random(0)
    with open(out / "data" / "chat.jsonl", "w", encoding="utf-8") as f:
        for task in chats:
            user = task["instruction"] + ("\n\n" + task["input"] if task["input"] else "")
            messages = [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": user},
                {"role": "assistant", "content": task["output"]},
            ]
            if rng.random() < 0.04:
                messages[1]["content"] += "\nI'm Kenji Watanabe, reach me at kenji.w@fastmail.jp."
            f.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
