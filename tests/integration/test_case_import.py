"""`mastery import case` (issue 13, item 2) on both stores: a CASE 1.1 package
imported, imported again (nothing new stored), with a changed statement (a
change event), broken (every problem listed, nothing stored), with a cycle
(refused); prerequisites written before what they precede. The mapping
itself is held by tests/unit/test_case_package.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.case_support import (
    DEFAULT_RULE,
    PACKAGE,
    RULES,
    catalog_at,
    head_of,
    import_case,
)


def _edited(tmp_path: Path, change: Any) -> Path:
    package = json.loads(PACKAGE.read_text())
    change(package)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(package))
    return path


def _item(package: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in package["CFItems"] if i.get("humanCodingScheme") == code)
    return found


def test_import_then_again_stores_nothing_new(case_store: TestClient) -> None:
    done = import_case(PACKAGE, "--rules", RULES, "--rule", DEFAULT_RULE)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(
        "imported 9 objectives from 'Lincoln Unified Mathematics Competencies': 9 created, 0 changed, "
        "0 unchanged (7 prerequisites; 5 groupings (courses, units) not objectives; associations ignored: "
        "1 exactMatchOf, 1 isRelatedTo); log position "
    )
    head = head_of(case_store)
    catalog = catalog_at(case_store, head, course="ALG1")
    in_order = ["ALG1.U1.1", "ALG1.U1.2", "ALG1.U1.3", "ALG1.U2.1", "ALG1.U2.2", "ALG1.U2.3"]
    assert list(catalog) == [*in_order, _item_id_without_code()]
    u2 = catalog["ALG1.U2.2"]
    assert (u2["unit"], u2["sequence"], u2["prerequisites"], u2["subject"]) == (
        "ALG1.U2",
        5,
        ["ALG1.U2.1"],
        "Mathematics",
    )
    assert u2["statement"] == "Solve two-step linear equations, including those with rational coefficients."
    assert u2["rule"]["calculation"] == {
        "method": "n_times",
        "n": 2,
        "distinct_days": True,
    }  # a Learning Target's
    assert catalog["ALG1.U1.3"]["rule"]["threshold"]["kind"] == "rubric"  # a Performance Task's
    assert list(catalog_at(case_store, head, course="GEO", unit="GEO.U1")) == ["GEO.U1.1", "GEO.U1.2"]

    again = import_case(PACKAGE, "--rules", RULES, "--rule", DEFAULT_RULE)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 changed, 9 unchanged" in again.stdout
    assert head_of(case_store) == head  # not one event more


def test_a_changed_statement_is_a_change_event_of_that_objective(
    case_store: TestClient, tmp_path: Path
) -> None:
    assert import_case(PACKAGE, "--rules", RULES, "--rule", DEFAULT_RULE).exit_code == 0
    head = head_of(case_store)
    new = "Solve one-step linear equations in one variable, and check the solution."

    def reword(package: dict[str, Any]) -> None:
        _item(package, "ALG1.U2.1")["fullStatement"] = new

    done = import_case(_edited(tmp_path, reword), "--rules", RULES, "--rule", DEFAULT_RULE)
    assert done.exit_code == 0, done.output
    assert "0 created, 1 changed, 8 unchanged" in done.stdout
    assert head_of(case_store) == head + 1  # one event: the details changed, the rule did not
    changed = catalog_at(case_store, head + 1, course="ALG1")["ALG1.U2.1"]
    assert changed["statement"] == new
    assert len(changed["rule_versions"]) == 1


def test_a_broken_package_lists_every_problem_and_stores_nothing(
    case_store: TestClient, tmp_path: Path
) -> None:
    head = head_of(case_store)

    def break_it(package: dict[str, Any]) -> None:
        del _item(package, "ALG1.U1.2")["fullStatement"]
        _item(package, "GEO.U1.2")["humanCodingScheme"] = "GEO.U1.1"
        _item(package, "ALG1.U2.3")["CFItemType"] = "Standard"

    done = import_case(_edited(tmp_path, break_it), "--rules", RULES)
    assert done.exit_code == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[-1] == f"mastery: {tmp_path / 'edited.json'}: 3 problems; nothing was imported"
    assert sorted(lines[:-1]) == sorted(
        [
            f"  {_where('ALG1.U1.2')} fullStatement: Field required",
            f"  {_where('GEO.U1.2', 'GEO.U1.1')}: objective id 'GEO.U1.1' again (as {_where('GEO.U1.1')})",
            f"  {_where('ALG1.U2.3')}: no rule for CFItemType 'Standard': add it to --rules, or give --rule",
        ]
    )
    assert head_of(case_store) == head
    assert catalog_at(case_store, head) == {}


def test_a_cycle_of_prerequisites_is_refused(case_store: TestClient, tmp_path: Path) -> None:
    head = head_of(case_store)

    def close_the_loop(package: dict[str, Any]) -> None:
        back = next(a for a in package["CFAssociations"] if a["associationType"] == "precedes")
        ends = {"originNodeURI": back["destinationNodeURI"], "destinationNodeURI": back["originNodeURI"]}
        package["CFAssociations"].append(
            {**back, "identifier": "6f5b1c0e-3d2a-4e8f-9b7c-1a0d2e3f4a5b", **ends}
        )

    done = import_case(_edited(tmp_path, close_the_loop), "--rule", DEFAULT_RULE)
    assert done.exit_code == 2
    assert "prerequisites go round in a cycle: " in done.stderr
    assert done.stderr.endswith("1 problem; nothing was imported\n")
    assert head_of(case_store) == head


def test_check_and_refusals_store_nothing(case_store: TestClient, tmp_path: Path) -> None:
    head = head_of(case_store)
    checked = import_case(PACKAGE, "--rule", DEFAULT_RULE, "--check")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(
        f"{PACKAGE}: 9 objectives from 'Lincoln Unified Mathematics Competencies' ready"
    )
    no_rule = import_case(PACKAGE)
    assert (no_rule.exit_code, no_rule.stderr) == (
        2,
        "mastery: give --rule JSON or --rules FILE: every objective needs a mastery rule\n",
    )
    bad_rule = import_case(PACKAGE, "--rule", '{"threshold": {"kind": "percent", "min": 180}}')
    assert bad_rule.exit_code == 2
    assert bad_rule.stderr.splitlines() == [
        "  --rule threshold.percent.min: Input should be less than or equal to 100",
        "mastery: the rules: 1 problem; nothing was imported",
    ]
    missing = import_case(tmp_path / "nowhere.json", "--rule", DEFAULT_RULE)
    assert missing.exit_code == 2 and missing.stderr.startswith("mastery: cannot read the package ")
    assert head_of(case_store) == head


def _where(code: str, label: str | None = None) -> str:
    """How a problem names the fixture's item `code` (as it is labelled, once edited)."""
    items = json.loads(PACKAGE.read_text())["CFItems"]
    index = next(n for n, i in enumerate(items) if i.get("humanCodingScheme") == code)
    return f"CFItems[{index}] ({label or code})"


def _item_id_without_code() -> str:
    identifier: str = next(
        i for i in json.loads(PACKAGE.read_text())["CFItems"] if "humanCodingScheme" not in i
    )["identifier"]
    return identifier
