"""A CASE 1.1 CFPackage (JSON: CFDocument, CFItems, CFAssociations) read into
the objectives to write, in the order to write them (docs/imports.md).

Every problem of the package is found before anything is written, and all
of them are reported together (`PackageRefused`): each element is checked on
its own, so one broken item does not hide the next, and what follows from a
broken element (an association naming it) is not reported twice. Only the
fields the mapping reads are checked; a package's other fields are ignored.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from services.ingest.case_rules import RuleChoice
from services.ingest.case_tree import (
    Link,
    PackageRefused,
    Place,
    Problem,
    place_leaves,
    prerequisite_order,
    problems_of,
)
from services.ingest.schemas import ObjectiveIn
from services.inputs import Id, Statement

CHILD_OF, PRECEDES = "isChildOf", "precedes"


class _Case(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Node(_Case):
    identifier: UUID


class _Document(_Case):
    identifier: UUID
    title: str = Field(min_length=1)
    subject: list[str] | None = None


class _Item(_Case):
    identifier: UUID
    full_statement: Statement = Field(alias="fullStatement")
    human_coding_scheme: Id | None = Field(None, alias="humanCodingScheme")
    item_type: str | None = Field(None, alias="CFItemType")
    subject: list[str] | None = None


class _Association(_Case):
    association_type: str = Field(alias="associationType")
    origin: _Node = Field(alias="originNodeURI")
    destination: _Node = Field(alias="destinationNodeURI")
    sequence_number: int | None = Field(None, alias="sequenceNumber")


_ID = TypeAdapter(Id)


@dataclass(frozen=True)
class Plan:
    title: str
    objectives: list[tuple[str, ObjectiveIn]]  # every prerequisite before what it precedes
    groupings: int  # items with children: courses, units and the levels between
    prerequisites: int
    ignored: dict[str, int]  # associations of other types, by type


def _identifier(raw: Any) -> str | None:
    """The identifier of an element that failed its checks, if it has a readable one."""
    try:
        return str(UUID(str(raw.get("identifier")))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def _parts(data: bytes) -> tuple[Any, list[Any], list[Any]]:
    try:
        package = json.loads(data)
    except ValueError as e:
        raise PackageRefused([Problem("the file", f"not JSON: {e}")]) from None
    if isinstance(package, dict) and set(package) == {"CFPackage"}:
        package = package["CFPackage"]  # as some CASE 1.0 services wrap it
    if not isinstance(package, dict):
        raise PackageRefused([Problem("the file", "a CFPackage is a JSON object")])
    problems = []
    items, associations = package.get("CFItems"), package.get("CFAssociations", [])
    if not isinstance(items, list) or not items:
        problems.append(Problem("CFItems", "a list of the items to import is needed"))
    if not isinstance(associations, list):
        problems.append(Problem("CFAssociations", "must be a list"))
    if problems:
        raise PackageRefused(problems)
    assert isinstance(items, list) and isinstance(associations, list)  # checked above
    return package.get("CFDocument"), items, associations


def read_package(data: bytes, rules: RuleChoice, effective_from: datetime | None = None) -> Plan:
    """The objectives a package holds, ready for RosterWriter.put_objective;
    `PackageRefused` with every problem if it has any."""
    raw_document, raw_items, raw_associations = _parts(data)
    problems: list[Problem] = []
    excused: set[str] = set()  # identifiers of broken elements: reported once, not again
    try:
        document = _Document.model_validate(raw_document)
    except ValidationError as e:
        raise PackageRefused(problems_of("CFDocument", e) + _items_only(raw_items)) from None
    doc_subject = document.subject[0] if document.subject else None
    if doc_subject is not None:
        try:
            _ID.validate_python(doc_subject)
        except ValidationError as e:
            problems += problems_of("CFDocument subject[0]", e)
    items, wheres = _items(raw_items, problems, excused)
    child_of, precedes, ignored = _associations(raw_associations, problems, excused)
    labels = {k: item.human_coding_scheme or k for k, item in items.items()}
    tree = place_leaves(str(document.identifier), labels, wheres, child_of, excused)
    problems += tree.problems
    places = tree.places

    def order_key(leaf: str) -> tuple[object, ...]:
        p = places[leaf]
        return (p.course, p.sequence, labels[leaf])

    before, order, graph_problems = prerequisite_order(
        places, labels, precedes, tree.groupings, excused, order_key
    )
    problems += graph_problems
    objectives: list[tuple[str, ObjectiveIn]] = []
    owner: dict[str, str] = {}
    for leaf in order or sorted(places, key=order_key):
        oid, where = labels[leaf], wheres[leaf]
        if oid in owner:
            problems.append(Problem(where, f"objective id {oid!r} again (as {owner[oid]})"))
            continue
        owner[oid] = where
        prerequisites = sorted(labels[p] for p in before.get(leaf, ()))
        body = _objective(items[leaf], where, places[leaf], prerequisites, rules, doc_subject, problems)
        if body is not None:
            body["effective_from"] = effective_from
            try:
                objectives.append((oid, ObjectiveIn.model_validate(body)))
            except ValidationError as e:
                # A document's subject was checked once, above.
                fresh = items[leaf].subject or doc_subject is None
                problems += [p for p in problems_of(where, e) if fresh or p.where != f"{where} subject"]
    if problems:
        raise PackageRefused(problems)
    prerequisite_count = sum(len(p) for p in before.values())
    return Plan(
        document.title, objectives, len(tree.groupings), prerequisite_count, dict(sorted(ignored.items()))
    )


def _items(
    raw_items: list[Any], problems: list[Problem], excused: set[str]
) -> tuple[dict[str, _Item], dict[str, str]]:
    """The items by identifier, and how to name each in a problem."""
    items: dict[str, _Item] = {}
    wheres: dict[str, str] = {}
    for i, raw in enumerate(raw_items):
        try:
            item = _Item.model_validate(raw)
        except ValidationError as e:
            label = raw.get("humanCodingScheme") if isinstance(raw, dict) else None
            problems += problems_of(f"CFItems[{i}]" + (f" ({label})" if isinstance(label, str) else ""), e)
            if (found := _identifier(raw)) is not None:
                excused.add(found)
            continue
        key = str(item.identifier)
        where = f"CFItems[{i}] ({item.human_coding_scheme or key})"
        if key in items:
            problems.append(Problem(where, f"identifier {key} again (as {wheres[key]})"))
            continue
        items[key], wheres[key] = item, where
    return items, wheres


def _associations(
    raw_associations: list[Any], problems: list[Problem], excused: set[str]
) -> tuple[list[Link], list[Link], Counter[str]]:
    """The isChildOf and precedes links, and how many of each other type."""
    child_of: list[Link] = []
    precedes: list[Link] = []
    ignored: Counter[str] = Counter()
    for i, raw in enumerate(raw_associations):
        try:
            a = _Association.model_validate(raw)
        except ValidationError as e:
            kind = raw.get("associationType") if isinstance(raw, dict) else None
            problems += problems_of(
                f"CFAssociations[{i}]" + (f" ({kind})" if isinstance(kind, str) else ""), e
            )
            if kind in (CHILD_OF, None):  # its origin's place in the tree is this problem
                origin = raw.get("originNodeURI") if isinstance(raw, dict) else None
                if (found := _identifier(origin)) is not None:
                    excused.add(found)
            continue
        link = Link(
            f"CFAssociations[{i}] ({a.association_type})",
            str(a.origin.identifier),
            str(a.destination.identifier),
            a.sequence_number,
        )
        if a.association_type == CHILD_OF:
            child_of.append(link)
        elif a.association_type == PRECEDES:
            precedes.append(link)
        else:
            ignored[a.association_type] += 1
    return child_of, precedes, ignored


def _objective(
    item: _Item,
    where: str,
    place: Place,
    prerequisites: list[str],
    rules: RuleChoice,
    doc_subject: str | None,
    problems: list[Problem],
) -> dict[str, Any] | None:
    """An objective's body (an ObjectiveIn to be), or None with its problem."""
    rule = rules.of(item.item_type)
    if rule is None:
        kind = f"CFItemType {item.item_type!r}" if item.item_type else "an item without CFItemType"
        problems.append(Problem(where, f"no rule for {kind}: add it to --rules, or give --rule"))
        return None
    subject = item.subject[0] if item.subject else doc_subject
    if subject is None:
        problems.append(Problem(where, "no subject: neither the item nor the CFDocument has one"))
        return None
    return {
        "statement": item.full_statement,
        "subject": subject,
        "course": place.course,
        "unit": place.unit,
        "sequence": place.sequence,
        "prerequisites": prerequisites,
        "rule": rule,
    }


def _items_only(raw_items: list[Any]) -> list[Problem]:
    """With the CFDocument broken, the items are still checked one by one, so
    that a first attempt lists what it can."""
    out: list[Problem] = []
    for i, raw in enumerate(raw_items):
        try:
            _Item.model_validate(raw)
        except ValidationError as e:
            out += problems_of(f"CFItems[{i}]", e)
    return out
