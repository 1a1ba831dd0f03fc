"""The mastery rule of an objective: a threshold and a calculation method.

These are value objects (pydantic, frozen). CONTRACT.md §2 defines the shapes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.limits import MAX_LEVELS, Count, LevelName, PositiveCount, Probability


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CorrectOf(_Value):
    """Met when correct/total >= min_correct/of (e.g. 9 of 10, 4 of 5)."""

    kind: Literal["correct_of"] = "correct_of"
    min_correct: Count
    of: PositiveCount

    @model_validator(mode="after")
    def _min_within_of(self) -> CorrectOf:
        if self.min_correct > self.of:
            raise ValueError("min_correct must not exceed of")
        return self


class Percent(_Value):
    """Met when the score is at least `min` percent (e.g. the 80 % weekly check)."""

    kind: Literal["percent"] = "percent"
    min: float = Field(ge=0, le=100, allow_inf_nan=False)


class Rubric(_Value):
    """Ordered levels, lowest first; met at `min_level` or above."""

    kind: Literal["rubric"] = "rubric"
    levels: list[LevelName] = Field(min_length=2, max_length=MAX_LEVELS)
    min_level: LevelName

    @model_validator(mode="after")
    def _levels_valid(self) -> Rubric:
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("rubric levels must be distinct")
        if self.min_level not in self.levels:
            raise ValueError("min_level must be one of levels")
        return self


Threshold = Annotated[CorrectOf | Percent | Rubric, Field(discriminator="kind")]


class Latest(_Value):
    method: Literal["latest"] = "latest"


class Highest(_Value):
    method: Literal["highest"] = "highest"


class NTimes(_Value):
    method: Literal["n_times"] = "n_times"
    n: PositiveCount = 2
    distinct_days: bool = False


class Average(_Value):
    method: Literal["average"] = "average"


class DecayingAverage(_Value):
    method: Literal["decaying_average"] = "decaying_average"
    weight: float = Field(default=0.65, gt=0, le=1, allow_inf_nan=False)


class Bkt(_Value):
    """Bayesian knowledge tracing (Corbett & Anderson, 1995).

    The contract fixes only `mastery_probability` (0.95); the other defaults
    are the commonly published starting values, documented in docs/rules.md.
    """

    method: Literal["bkt"] = "bkt"
    prior: Probability = 0.25
    learn: Probability = 0.15
    guess: float = Field(default=0.2, ge=0, lt=1, allow_inf_nan=False)
    slip: float = Field(default=0.1, ge=0, lt=1, allow_inf_nan=False)
    mastery_probability: float = Field(default=0.95, gt=0, le=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _identifiable(self) -> Bkt:
        # With guess + slip >= 1 a right answer is no evidence of knowing.
        if self.guess + self.slip >= 1:
            raise ValueError("guess + slip must be below 1")
        return self


Calculation = Annotated[
    Latest | Highest | NTimes | Average | DecayingAverage | Bkt,
    Field(discriminator="method"),
]


class Rule(_Value):
    threshold: Threshold
    time_limit_seconds: PositiveCount | None = None
    calculation: Calculation = Field(default_factory=Latest)

    def describe_threshold(self) -> str:
        t = self.threshold
        if isinstance(t, CorrectOf):
            return f"{t.min_correct} of {t.of} correct"
        if isinstance(t, Percent):
            return f"at least {t.min:g} %"
        return f"rubric level '{t.min_level}' or above"
