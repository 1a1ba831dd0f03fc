"""The mastery rules given with a CASE import (docs/imports.md): `--rule`
for every objective, `--rules` by CFItemType, each checked as PUT
/v1/objectives checks one."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from domain.rules.model import Rule
from services.ingest.case_tree import PackageRefused, Problem, problems_of


@dataclass(frozen=True)
class RuleChoice:
    """The mastery rule of each objective: by its CFItemType, else the default."""

    default: Rule | None
    by_type: dict[str, Rule]

    def of(self, item_type: str | None) -> Rule | None:
        return self.by_type.get(item_type or "", self.default)


def rule_choice(rule: str | None, rules: bytes | None, rules_name: str = "--rules") -> RuleChoice:
    """The rules given with an import: `--rule` (JSON), `--rules` (a JSON
    object, CFItemType -> rule), each checked as PUT /v1/objectives checks one."""
    problems: list[Problem] = []
    default = None
    if rule is not None:
        try:
            default = Rule.model_validate_json(rule)
        except ValidationError as e:
            problems += problems_of("--rule", e)
    by_type: dict[str, Rule] = {}
    if rules is not None:
        try:
            table = json.loads(rules)
        except ValueError as e:
            raise PackageRefused([Problem(rules_name, f"not JSON: {e}")]) from None
        if not isinstance(table, dict):
            problems.append(Problem(rules_name, "must be a JSON object: CFItemType -> rule"))
            table = {}
        for item_type, value in table.items():
            try:
                by_type[item_type] = Rule.model_validate(value)
            except ValidationError as e:
                problems += problems_of(f"{rules_name} {item_type!r}", e)
    if problems:
        raise PackageRefused(problems)
    return RuleChoice(default, by_type)
