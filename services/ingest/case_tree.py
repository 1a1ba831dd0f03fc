"""The shape of a CASE package (docs/imports.md): where each objective sits in
the `isChildOf` tree (course, unit, sequence), and the order the `precedes`
graph asks for (a prerequisite before what it precedes; a cycle refused).

Pure functions over identifiers (normalised UUID strings); what is wrong
comes back as `Problem`s saying where and why, never raised one at a time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    where: str  # in the package: `CFItems[3] (ALG1.U2.1) fullStatement`
    why: str


class PackageRefused(Exception):
    """A package (or the rules given with it) with problems: nothing is imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


# An objective's fields, named as the package has them where they differ.
_SOURCE = {"statement": "fullStatement", "prerequisites": "(its precedes associations)"}


def problems_of(where: str, e: ValidationError) -> list[Problem]:
    """A pydantic refusal as problems, each field where the package has it."""
    out = []
    for err in e.errors():
        loc = ".".join(_SOURCE.get(str(p), str(p)) for p in err["loc"])
        out.append(Problem(f"{where} {loc}".rstrip(), err["msg"]))
    return out


@dataclass(frozen=True)
class Link:
    """An association between two nodes: `origin` isChildOf / precedes `destination`."""

    where: str
    origin: str
    destination: str
    sequence: int | None = None


@dataclass(frozen=True)
class Place:
    """Where an objective (a leaf of the tree) sits."""

    course: str  # the id (label) of its top-level ancestor; the document's for a leaf just below it
    unit: str  # the id of its parent
    sequence: int  # its place in the course, from 1, depth first in sequenceNumber order


@dataclass
class Tree:
    places: dict[str, Place]  # leaf identifier -> its place
    groupings: set[str]  # items with children: course, unit and the levels between
    problems: list[Problem]


def place_leaves(
    document: str, labels: dict[str, str], wheres: dict[str, str], child_of: list[Link], excused: set[str]
) -> Tree:
    """`labels`: item identifier -> its id (humanCodingScheme, else identifier);
    `wheres`: how to name an item in a problem; `excused`: identifiers of
    broken items or links, already reported, about which nothing more is said."""
    problems: list[Problem] = []
    parent: dict[str, Link] = {}
    for link in child_of:
        if link.origin not in labels:
            if link.origin not in excused:
                problems.append(
                    Problem(link.where, f"originNodeURI {link.origin} is not an item of this package")
                )
            continue
        if link.destination != document and link.destination not in labels:
            if link.destination not in excused:
                nowhere = "is neither the CFDocument nor an item of this package"
                why = f"destinationNodeURI {link.destination} {nowhere}"
                problems.append(Problem(link.where, why))
            excused.add(link.origin)  # its missing parent is this problem, not another
            continue
        if link.origin in parent:
            first = parent[link.origin].where
            why = (
                f"{labels[link.origin]} is already the child of another node ({first}): one place in the tree"
            )
            problems.append(Problem(link.where, why))
            continue
        parent[link.origin] = link
    for item in labels:
        if item not in parent and item not in excused:
            problems.append(
                Problem(wheres[item], "not in the tree: no isChildOf association has it as origin")
            )
    problems += _cycles_up(parent, document, labels, wheres)
    children: dict[str, list[Link]] = {}
    for link in parent.values():
        children.setdefault(link.destination, []).append(link)
    places: dict[str, Place] = {}
    counters: dict[str, int] = {}
    # Depth first from the document, each node's children in sequenceNumber
    # order (those without one after, by id): leaves come off the stack in the
    # order a course is taught. A node in a cycle is never reached.
    stack: list[tuple[str, str]] = [(document, document)]  # (node, its top-level ancestor)
    while stack:
        node, top = stack.pop()
        below = sorted(
            children.get(node, []), key=lambda k: (k.sequence is None, k.sequence or 0, labels[k.origin])
        )
        stack.extend((k.origin, k.origin if node == document else top) for k in reversed(below))
        if node == document or node in children:
            continue
        course = labels.get(top, document) if top != node else document
        counters[course] = counters.get(course, 0) + 1
        places[node] = Place(course, labels.get(parent[node].destination, document), counters[course])
    return Tree(places, {n for n in children if n != document}, problems)


def _cycles_up(
    parent: dict[str, Link], document: str, labels: dict[str, str], wheres: dict[str, str]
) -> list[Problem]:
    """A problem for each cycle of isChildOf: items that are their own ancestors."""
    state: dict[str, int] = {}  # 1: on the current walk, 2: reaches the document (or a reported cycle)
    problems = []
    for start in parent:
        walk: list[str] = []
        node = start
        while node != document and node in parent and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = parent[node].destination
        if state.get(node) == 1:  # back on this walk: a cycle from `node`
            cycle = walk[walk.index(node) :]
            path = " → ".join(labels[n] for n in [*cycle, node])
            problems.append(Problem(wheres[node], f"isChildOf goes round in a cycle: {path}"))
        for n in walk:
            state[n] = 2
    return problems


def prerequisite_order(
    objectives: Iterable[str],
    labels: dict[str, str],
    precedes: list[Link],
    groupings: set[str],
    excused: set[str],
    key: Callable[[str], tuple[object, ...]],
) -> tuple[dict[str, set[str]], list[str], list[Problem]]:
    """Each objective's prerequisites (origin precedes destination: the origin
    is a prerequisite of the destination), every objective in an order where
    its prerequisites come first (ties by `key`), and the problems: a
    precedes that does not join two objectives of the package, or a cycle."""
    nodes = set(objectives)
    problems: list[Problem] = []
    before: dict[str, set[str]] = {n: set() for n in nodes}
    for link in precedes:
        ends = [("originNodeURI", link.origin), ("destinationNodeURI", link.destination)]
        bad = [
            _not_an_objective(side, end, nodes, labels, groupings) for side, end in ends if end not in nodes
        ]
        if any(end in excused for _, end in ends):
            continue
        if any(bad):
            problems += [Problem(link.where, why) for why in bad if why]
        elif link.origin == link.destination:
            problems.append(Problem(link.where, f"{labels[link.origin]} cannot precede itself"))
        else:
            before[link.destination].add(link.origin)
    for cycle in _cycles(before):
        path = " → ".join(labels[n] for n in [*cycle, cycle[0]])
        problems.append(Problem("CFAssociations (precedes)", f"prerequisites go round in a cycle: {path}"))
    if problems:
        return before, [], problems
    return before, _topological(before, key), []


def _not_an_objective(
    side: str, end: str, nodes: set[str], labels: dict[str, str], groupings: set[str]
) -> str:
    if end in groupings:
        grouping = "has children in the tree (a course, unit or other grouping)"
        return f"{side} {labels[end]} {grouping}: precedes must join objectives"
    if end in labels:
        return f"{side} {labels[end]} is not placed in the tree"
    return f"{side} {end} is not an item of this package"


def _cycles(before: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (in precedes order) of each strongly connected group of
    objectives (Tarjan's algorithm, iterative: a package has thousands)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    after: dict[str, list[str]] = {n: [] for n in before}
    for n, prereqs in before.items():
        for p in prereqs:
            after[p].append(n)
    for root in sorted(before):
        if root in index:
            continue
        work = [(root, iter(sorted(after[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(after[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    out.append(_a_cycle(set(group), after))
    return out


def _a_cycle(group: set[str], after: dict[str, list[str]]) -> list[str]:
    """A cycle inside a strongly connected group: every member has a successor
    in the group, so following them must come back to a node already seen."""
    path: list[str] = []
    seen: dict[str, int] = {}
    node = min(group)
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(n for n in after[node] if n in group)
    return path[seen[node] :]


def _topological(before: dict[str, set[str]], key: Callable[[str], tuple[object, ...]]) -> list[str]:
    """Kahn's algorithm; among the ready, the least by `key` first."""
    waiting = {n: len(p) for n, p in before.items()}
    after: dict[str, list[str]] = {n: [] for n in before}
    for n, prereqs in before.items():
        for p in prereqs:
            after[p].append(n)
    ready = [(key(n), n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, node = heapq.heappop(ready)
        out.append(node)
        for n in after[node]:
            waiting[n] -= 1
            if waiting[n] == 0:
                heapq.heappush(ready, (key(n), n))
    return out
