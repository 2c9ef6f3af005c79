"""Policy: rules as data that turn findings into per-record verdicts."""

from provenance.policy.evaluate import Policy
from provenance.policy.load import load_policy, parse_policy

__all__ = ["Policy", "load_policy", "parse_policy"]
