"""The scenario schema's building blocks: the strict base model every table of a scenario uses
(unknown keys are errors, a number is never true/false) and the trait distributions (uniform
ranges, normal, gamma, beta) that agents draw from (world/scenario_schema.py uses them)."""
from __future__ import annotations

from typing import Annotated, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    # defer_build: each model's validator is built when first used, not as its class is defined.
    # A run validates one Scenario, which builds the nested models' schemas once inside its own:
    # ~30 ms less than building every class's validator at import
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data):
        """pydantic would read `true` as 1 for a number: a scenario's number is never a
        true/false."""
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(key) if isinstance(value, bool) else None
                if field is not None:
                    kinds = set(get_args(field.annotation)) or {field.annotation}
                    if bool not in kinds and kinds & {int, float}:
                        raise ValueError(f"{key}: expected a number, found {str(value).lower()}")
        return data


# --- distributions of traits -------------------------------------------------------------------

class Uniform(Strict):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class Normal(Strict):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    min: float = float("-inf")
    max: float = float("inf")


class Gamma(Strict):
    dist: Literal["gamma"]
    shape: float = Field(gt=0)
    scale: float = Field(gt=0)
    min: float = 0.0
    max: float = float("inf")


class Beta(Strict):
    """Beta(a, b) mapped onto [min, max]."""
    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    min: float = 0.0
    max: float = 1.0


Dist = Annotated[Union[Uniform, Normal, Gamma, Beta], Field(discriminator="dist")]


def _range_to_uniform(value):
    """`[lo, hi]` in a file is shorthand for a uniform distribution."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return {"dist": "uniform", "low": value[0], "high": value[1]}
    return value


class WithRanges(Strict):
    """A section whose distributions may be written `[lo, hi]`, shorthand for a uniform one."""

    @model_validator(mode="before")
    @classmethod
    def _ranges(cls, data):
        if isinstance(data, dict):
            return {k: _range_to_uniform(v) for k, v in data.items()}
        return data
