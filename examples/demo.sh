#!/usr/bin/env bash
# The README's main job, end to end on the example data, offline (`make demo` runs it):
#
#   1. register the example reference set (an all-rights-reserved handbook)
#   2. scan examples/dataset: personal data, copied text, duplicates, licenses
#      (exit 1 expected: the example data has records the policy blocks)
#   3. check the base model's license against examples/provenance.yaml (Llama 2: exit 0)
#   4. build a tiny Llama-architecture model locally (stands in for meta-llama/Llama-2-7b-hf)
#   5. show the gate refusing to train while blocked records exist (exit 1 expected)
#   6. train a LoRA adapter on the cleared records only, writing the release bundle
#   7. verify the bundle
#
# Everything goes to $DEMO_DIR (default build/demo), the audit store included. The script ends
# with exit 0 when every step did what it should, and stops with a message when one did not.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="${DEMO_DIR:-build/demo}"
export PROVENANCE_STORE="$WORK/store"
USAGE=examples/provenance.yaml
rm -rf "$WORK"
mkdir -p "$WORK"

step() { printf '\n==> %s\n' "$*" >&2; }
expect() {  # expect CODE COMMAND...: run COMMAND, fail the demo unless it exits with CODE
    local want=$1 got=0
    shift
    "$@" || got=$?
    if [ "$got" -ne "$want" ]; then
        printf 'demo: expected exit %s, got %s from: %s\n' "$want" "$got" "$*" >&2
        exit 1
    fi
}

step "1/7 register the example reference set"
expect 0 provenance refs add handbook examples/references/handbook \
    --license LicenseRef-all-rights-reserved

step "2/7 scan examples/dataset (exit 1 expected: some records are blocked)"
expect 1 provenance scan examples/dataset --usage "$USAGE" \
    --detectors pii,reference,duplicate,license -f markdown -o "$WORK/audit.md"
echo "   audit report: $WORK/audit.md" >&2

step "3/7 check the Llama 2 license against the declared use"
expect 0 provenance check --usage "$USAGE" -o "$WORK/check.txt"
echo "   clause by clause: $WORK/check.txt" >&2

step "4/7 build a tiny local Llama model (random weights, card says license: llama2)"
expect 0 python examples/make_tiny_llama.py "$WORK/tiny-llama"

TRAIN=(provenance train examples/dataset --base-model "$WORK/tiny-llama" --usage "$USAGE"
       --epochs 1 --learning-rate 5e-3 --lora-r 16 --batch-size 8 --max-length 256
       --target-modules q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head)

step "5/7 train without --cleared-only (exit 1 expected: the gate refuses)"
expect 1 "${TRAIN[@]}" -o "$WORK/refused"

step "6/7 train on the cleared records only"
expect 0 "${TRAIN[@]}" --cleared-only -o "$WORK/adapter"

step "7/7 verify the release bundle"
expect 0 provenance verify "$WORK/adapter"

step "done: the adapter and its evidence are in $WORK/adapter"
ls -l "$WORK/adapter" >&2
