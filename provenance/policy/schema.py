"""The policy file format (`rules/policy/*.yaml`), validated with pydantic at the YAML boundary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

POLICY_SCHEMA = "provenance.policy/v1"
ActionName = Literal["allow", "flag", "redact", "block"]


class TypeRule(BaseModel):
    """What findings of one type do: their action, and the score below which they are dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ActionName
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)


class DetectorPolicy(BaseModel):
    """The rules for one detector's findings, and the options its constructor receives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    options: dict[str, Any] = Field(default_factory=dict)
    default: TypeRule = TypeRule(action="flag")
    types: dict[str, TypeRule] = Field(default_factory=dict)

    @field_validator("types", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `US_SSN: block` is short for `US_SSN: {action: block}`
        if isinstance(value, dict):
            return {k: {"action": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("types")
    @classmethod
    def _upper_snake(cls, value: dict[str, TypeRule]) -> dict[str, TypeRule]:
        for name in value:
            if not name.replace("_", "").isalnum() or name.upper() != name:
                raise ValueError(f"finding type {name!r} must be UPPER_SNAKE_CASE")
        return value


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["provenance.policy/v1"] = Field(alias="schema")
    name: str
    description: str = ""
    detectors: dict[str, DetectorPolicy]
