"""License compliance: the usage declaration, model-license clauses, dataset license resolution.

`usage` loads provenance.yaml; `schema` validates the rule files under rules/licenses/; `clauses`
evaluates their conditions; `models` finds a base model's license; `check` runs the clause-by-
clause check (`provenance check`, the training gate); `datasets` and `spdx` resolve dataset
licenses with their evidence (`provenance license`, the `license` detector); `render` prints them.
"""

from provenance.licensing.check import CheckResult, Obligation, run_check
from provenance.licensing.datasets import Resolution, resolve_path
from provenance.licensing.usage import Usage, load_usage

__all__ = [
    "CheckResult",
    "Obligation",
    "Resolution",
    "Usage",
    "load_usage",
    "resolve_path",
    "run_check",
]
