"""The Objective aggregate: a learning objective and its versioned mastery rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import objective_stream
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion


class Objective(Aggregate):
    """A rule change is a new version effective from a date; history is never rewritten."""

    class Defined(Aggregate.Created):
        objective_id: str
        statement: str
        subject: str
        course: str
        unit: str
        sequence: int
        prerequisites: list[str]
        rule: dict[str, Any]
        effective_from: datetime

    @staticmethod
    def create_id(objective_id: str, **_: Any) -> UUID:
        return objective_stream(objective_id)

    def __init__(
        self,
        objective_id: str,
        statement: str,
        subject: str,
        course: str,
        unit: str,
        sequence: int,
        prerequisites: list[str],
        rule: dict[str, Any],
        effective_from: datetime,
    ) -> None:
        self.objective_id = objective_id
        self.statement = statement
        self.subject = subject
        self.course = course
        self.unit = unit
        self.sequence = sequence
        self.prerequisites = list(prerequisites)
        self.rule_versions: list[RuleVersion] = [
            RuleVersion(1, Rule.model_validate(rule), effective_from, self.created_on)
        ]

    class DetailsChanged(Aggregate.Event):
        objective_id: str
        statement: str
        subject: str
        course: str
        unit: str
        sequence: int
        prerequisites: list[str]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Objective)
            aggregate.statement = self.statement
            aggregate.subject = self.subject
            aggregate.course = self.course
            aggregate.unit = self.unit
            aggregate.sequence = self.sequence
            aggregate.prerequisites = list(self.prerequisites)

    class RuleVersionIssued(Aggregate.Event):
        objective_id: str
        version_no: int
        rule: dict[str, Any]
        effective_from: datetime

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Objective)
            aggregate.rule_versions.append(
                RuleVersion(
                    self.version_no,
                    Rule.model_validate(self.rule),
                    self.effective_from,
                    self.timestamp,
                )
            )

    def details(self) -> tuple[str, str, str, str, int, list[str]]:
        return (self.statement, self.subject, self.course, self.unit, self.sequence, self.prerequisites)

    def revise(
        self,
        statement: str,
        subject: str,
        course: str,
        unit: str,
        sequence: int,
        prerequisites: list[str],
        rule: Rule,
        effective_from: datetime,
    ) -> None:
        """Record what changed: details, and a new rule version if the rule differs."""
        if (statement, subject, course, unit, sequence, list(prerequisites)) != self.details():
            self.trigger_event(
                self.DetailsChanged,
                objective_id=self.objective_id,
                statement=statement,
                subject=subject,
                course=course,
                unit=unit,
                sequence=sequence,
                prerequisites=list(prerequisites),
            )
        if rule != self.rule_versions[-1].rule:
            self.trigger_event(
                self.RuleVersionIssued,
                objective_id=self.objective_id,
                version_no=len(self.rule_versions) + 1,
                rule=rule.model_dump(mode="json"),
                effective_from=effective_from,
            )
