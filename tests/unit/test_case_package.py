"""Reading a CASE 1.1 CFPackage into objectives (docs/imports.md): the mapping
of the isChildOf tree to course, unit and sequence, precedes to prerequisites
in dependency order, the rules by item type, and every problem of a broken
package listed at once. No store: tests/integration/test_case_import.py
writes packages into both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from domain.rules.model import CorrectOf, Rubric
from services.ingest.case_package import read_package
from services.ingest.case_rules import RuleChoice, rule_choice
from services.ingest.case_tree import PackageRefused

FIXTURES = Path(__file__).parents[1] / "fixtures" / "case"
PACKAGE = (FIXTURES / "lincoln-math.json").read_bytes()
RULES = rule_choice(None, (FIXTURES / "rules.json").read_bytes())
DEFAULT = rule_choice('{"threshold": {"kind": "percent", "min": 80}}', None)
NS = uuid.UUID("0f6d3a7e-2c1b-4b8a-9e5d-7a6c4b3e2d1f")


def _id(key: str) -> str:
    return str(uuid.uuid5(NS, key))


def _node(key: str) -> dict[str, str]:
    return {"title": key, "identifier": _id(key), "uri": f"https://case.example/uri/{_id(key)}"}


def _package(
    tree: Sequence[tuple[str, str, int | None]], precedes: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """A package of items (code, parent code or "DOC", sequenceNumber) and precedes (before, after)."""
    items = [
        {"identifier": _id(code), "fullStatement": f"Statement of {code}", "humanCodingScheme": code}
        for code, _, _ in tree
    ]
    links = [
        {
            "identifier": _id(f"{code}<{parent}"),
            "associationType": "isChildOf",
            "originNodeURI": _node(code),
            "destinationNodeURI": _node(parent),
            **({"sequenceNumber": seq} if seq is not None else {}),
        }
        for code, parent, seq in tree
    ]
    links += [
        {
            "identifier": _id(f"{a}>{b}"),
            "associationType": "precedes",
            "originNodeURI": _node(a),
            "destinationNodeURI": _node(b),
        }
        for a, b in precedes
    ]
    document = {"identifier": _id("DOC"), "title": "Test framework", "subject": ["math"]}
    return {"CFDocument": document, "CFItems": items, "CFAssociations": links}


def _read(package: dict[str, Any], rules: RuleChoice = DEFAULT) -> dict[str, Any]:
    plan = read_package(json.dumps(package).encode(), rules)
    return {oid: body for oid, body in plan.objectives}


def _refused(package: dict[str, Any] | bytes, rules: RuleChoice = DEFAULT) -> list[tuple[str, str]]:
    data = package if isinstance(package, bytes) else json.dumps(package).encode()
    with pytest.raises(PackageRefused) as refused:
        read_package(data, rules)
    return [(p.where, p.why) for p in refused.value.problems]


def test_the_fixture_maps_as_docs_imports_md_says() -> None:
    plan = read_package(PACKAGE, RULES)
    assert plan.title == "Lincoln Unified Mathematics Competencies"
    assert (plan.groupings, plan.prerequisites) == (5, 7)  # 2 courses, 3 units; 7 precedes
    assert plan.ignored == {"exactMatchOf": 1, "isRelatedTo": 1}
    got = {oid: (b.course, b.unit, b.sequence, b.prerequisites) for oid, b in plan.objectives}
    explain = next(i["identifier"] for i in json.loads(PACKAGE)["CFItems"] if "humanCodingScheme" not in i)
    assert got == {
        "ALG1.U1.1": ("ALG1", "ALG1.U1", 1, []),
        "ALG1.U1.2": ("ALG1", "ALG1.U1", 2, ["ALG1.U1.1"]),
        "ALG1.U1.3": ("ALG1", "ALG1.U1", 3, ["ALG1.U1.2"]),
        "ALG1.U2.1": ("ALG1", "ALG1.U2", 4, ["ALG1.U1.2"]),
        "ALG1.U2.2": ("ALG1", "ALG1.U2", 5, ["ALG1.U2.1"]),
        "ALG1.U2.3": ("ALG1", "ALG1.U2", 6, ["ALG1.U2.2"]),
        explain: ("ALG1", "ALG1.U2", 7, ["ALG1.U2.1"]),  # no humanCodingScheme: its identifier
        "GEO.U1.1": ("GEO", "GEO.U1", 1, []),
        "GEO.U1.2": ("GEO", "GEO.U1", 2, ["GEO.U1.1"]),
    }
    bodies = dict(plan.objectives)
    assert bodies["ALG1.U1.2"].statement.startswith("Rewrite expressions using the distributive property")
    assert {b.subject for b in bodies.values()} == {"Mathematics"}  # the CFDocument's
    assert isinstance(bodies["ALG1.U1.3"].rule.threshold, Rubric)  # a Performance Task
    assert isinstance(bodies["ALG1.U2.1"].rule.threshold, CorrectOf)  # a Learning Target


def test_prerequisites_are_written_first_whatever_order_the_file_has() -> None:
    plan = read_package(PACKAGE, RULES)
    order = [oid for oid, _ in plan.objectives]
    for oid, body in plan.objectives:
        assert all(order.index(p) < order.index(oid) for p in body.prerequisites), oid
    # The fixture lists dependents before what they depend on, so this is the importer's doing.
    listed = [i.get("humanCodingScheme") for i in json.loads(PACKAGE)["CFItems"]]
    assert listed.index("ALG1.U2.3") < listed.index("ALG1.U2.1")
    # Ties go in course order.
    assert order[:2] == ["ALG1.U1.1", "ALG1.U1.2"]


def test_levels_map_to_course_and_unit_at_any_depth() -> None:
    tree = [
        ("LONE", "DOC", 3),  # a leaf right under the document
        ("G8", "DOC", 1),  # grade -> domain -> cluster -> standards
        ("G8.EE", "G8", 1),
        ("G8.EE.A", "G8.EE", 1),
        ("G8.EE.A.2", "G8.EE.A", 2),
        ("G8.EE.A.1", "G8.EE.A", 1),
        ("G8.EE.A.3", "G8.EE.A", None),  # without a sequenceNumber: after those with one
        ("G8.F", "G8", 2),
        ("G8.F.1", "G8.F", 1),  # a leaf two levels down: its parent is course and unit both
        ("ALG", "DOC", 2),
        ("ALG.1", "ALG", 1),
    ]
    got = {oid: (b.course, b.unit, b.sequence) for oid, b in _read(_package(tree)).items()}
    assert got == {
        "LONE": (_id("DOC"), _id("DOC"), 1),
        "G8.EE.A.1": ("G8", "G8.EE.A", 1),
        "G8.EE.A.2": ("G8", "G8.EE.A", 2),
        "G8.EE.A.3": ("G8", "G8.EE.A", 3),
        "G8.F.1": ("G8", "G8.F", 4),
        "ALG.1": ("ALG", "ALG", 1),
    }


def test_every_problem_of_a_broken_package_is_listed() -> None:
    tree = [("C", "DOC", 1), ("C.1", "C", 1), ("C.2", "C", 2), ("C.3", "C", 3), ("C.4", "C", 4)]
    package = _package(tree, precedes=[("C.1", "C.2"), ("C", "C.3")])
    items = {i["humanCodingScheme"]: i for i in package["CFItems"]}
    del items["C.1"]["fullStatement"]
    items["C.2"]["identifier"] = "C-2"
    items["C.3"]["humanCodingScheme"] = "C.4"
    items["C.4"]["CFItemType"] = "Standard"
    package["CFItems"].append(
        {"identifier": _id("orphan"), "fullStatement": "Nobody's child", "humanCodingScheme": "O"}
    )
    package["CFAssociations"][1]["sequenceNumber"] = "first"
    rules = rule_choice(None, b'{"Learning Target": {"threshold": {"kind": "percent", "min": 70}}}')
    problems = _refused(package, rules)
    assert problems == [
        ("CFItems[1] (C.1) fullStatement", "Field required"),
        ("CFItems[2] (C.2) identifier", "Input should be a valid UUID, invalid group count: expected 5, found 2"),  # noqa: E501
        ("CFAssociations[1] (isChildOf) sequenceNumber", "Input should be a valid integer, unable to parse string as an integer"),  # noqa: E501
        # C.2's identifier is unreadable, so what names it names nothing known.
        ("CFAssociations[2] (isChildOf)", f"originNodeURI {_id('C.2')} is not an item of this package"),
        ("CFItems[5] (O)", "not in the tree: no isChildOf association has it as origin"),
        # (C.1 precedes C.2: C.1 is broken, reported above; nothing more is said of it.)
        ("CFAssociations[6] (precedes)", "originNodeURI C has children in the tree (a course, unit or other grouping): precedes must join objectives"),  # noqa: E501
        ("CFItems[3] (C.4)", "no rule for an item without CFItemType: add it to --rules, or give --rule"),
        ("CFItems[4] (C.4)", "objective id 'C.4' again (as CFItems[3] (C.4))"),
    ]  # fmt: skip


def test_a_cycle_of_prerequisites_is_refused_naming_it() -> None:
    tree = [("U", "DOC", 1), ("a", "U", 1), ("b", "U", 2), ("c", "U", 3), ("d", "U", 4)]
    problems = _refused(_package(tree, precedes=[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d")]))
    assert problems == [
        ("CFAssociations[9] (precedes)", "d cannot precede itself"),
        ("CFAssociations (precedes)", "prerequisites go round in a cycle: a → b → c → a"),
    ]


def test_a_cycle_in_the_tree_and_a_second_parent_are_refused() -> None:
    tree = [("A", "DOC", 1), ("A.1", "A", 1), ("X", "Y", 1), ("Y", "X", 1), ("Y.1", "Y", 1)]
    problems = _refused(_package(tree))
    assert ("CFItems[2] (X)", "isChildOf goes round in a cycle: X → Y → X") in problems
    package = _package([("A", "DOC", 1), ("A.1", "A", 1), ("B", "DOC", 2)])
    package["CFAssociations"].append({**package["CFAssociations"][1], "destinationNodeURI": _node("B")})
    assert _refused(package) == [
        ("CFAssociations[3] (isChildOf)", "A.1 is already the child of another node (CFAssociations[1] (isChildOf)): one place in the tree")  # noqa: E501
    ]  # fmt: skip


def test_the_file_and_its_parts_must_be_what_case_says() -> None:
    assert _refused(b"{") == [
        ("the file", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")
    ]
    assert _refused(b"[]") == [("the file", "a CFPackage is a JSON object")]
    assert _refused(b'{"CFDocument": {}}') == [("CFItems", "a list of the items to import is needed")]
    no_subject = _package([("A", "DOC", 1), ("A.1", "A", 1)])
    del no_subject["CFDocument"]["subject"]
    assert _refused(no_subject) == [
        ("CFItems[1] (A.1)", "no subject: neither the item nor the CFDocument has one")
    ]
    no_subject["CFItems"][1]["subject"] = ["science"]  # an item's own subject comes first
    assert _read(no_subject)["A.1"].subject == "science"
    # A package wrapped as some CASE 1.0 services serve it reads the same.
    wrapped = json.dumps({"CFPackage": _package([("A", "DOC", 1), ("A.1", "A", 1)])}).encode()
    assert [oid for oid, _ in read_package(wrapped, DEFAULT).objectives] == ["A.1"]


def test_rules_are_checked_as_put_checks_them() -> None:
    with pytest.raises(PackageRefused) as refused:
        rule_choice(
            '{"threshold": {"kind": "correct_of", "min_correct": 6, "of": 5}}',
            b'{"Task": {"threshold": {"kind": "rubric", "levels": ["low", "high"], "min_level": "top"}},'
            b' "Other": 3}',
        )
    assert [(p.where, p.why) for p in refused.value.problems] == [
        ("--rule threshold.correct_of", "Value error, min_correct must not exceed of"),
        ("--rules 'Task' threshold.rubric", "Value error, min_level must be one of levels"),
        ("--rules 'Other'", "Input should be a valid dictionary or instance of Rule"),
    ]
    with pytest.raises(PackageRefused):
        rule_choice(None, b"[1]")
    both = rule_choice(
        '{"threshold": {"kind": "percent", "min": 70}}', (FIXTURES / "rules.json").read_bytes()
    )
    assert isinstance(both.of("Performance Task").threshold, Rubric)  # type: ignore[union-attr]
    assert both.of("Anything else") == both.default and both.of(None) == both.default
