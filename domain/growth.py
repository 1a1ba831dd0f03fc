"""Growth: objectives mastered over time, the rate, and whether a goal is on track.

`mastered_total` at the end of a week counts the objectives the student has
mastered *now* whose current run of mastery began by then (`mastered_at`, in
the classroom's own offset). It is learning that held: an objective mastered
and later lost counts in no week, and a late quiz or a void moves the count
into its place, because mastered_at is recomputed in occurred_at order. So the
curve never falls, and its slope is the school leader's measure, objectives
mastered per student per week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.records import Goal


def week_start(d: date) -> date:
    """The Monday of d's week."""
    return d - timedelta(days=d.weekday())


@dataclass(frozen=True, slots=True)
class GoalProgress:
    target_mastered: int
    due: date
    projected_at_due: float
    on_track: bool


@dataclass(frozen=True, slots=True)
class Trajectory:
    points: tuple[tuple[date, int], ...]  # (period_start, mastered_total)
    rate_per_week: float
    goal: GoalProgress | None


def trajectory(
    mastered_at: Sequence[datetime],
    started: datetime | None,
    goal: Goal | None,
    today: date,
    reachable: int | None = None,
) -> Trajectory:
    """`mastered_at`: when each currently mastered objective became mastered;
    `started`: the student's first piece of evidence (None: none yet).

    The rate is the mastered total over the weeks since the first evidence
    (at least one), so weeks without learning lower it. A goal is projected
    linearly from that rate; a goal whose date has passed reports what was
    actually mastered by then. `reachable` is how many objectives the student
    could master at all (None: no bound): a projection never exceeds it, so a
    fast start cannot promise objectives that do not exist.
    """
    days = sorted(m.date() for m in mastered_at)
    first = min([started.date(), *days] if started else days, default=None)
    points: list[tuple[date, int]] = []
    if first is not None:
        week = week_start(first)
        last = week_start(max(today, days[-1] if days else today))
        i = 0
        while week <= last:
            end = week + timedelta(days=7)
            while i < len(days) and days[i] < end:
                i += 1
            points.append((week, i))
            week = end
    total = len(days)
    rate = total / max(1.0, (today - first).days / 7) if first is not None else 0.0
    progress = None
    if goal is not None:
        if goal.due < today:
            projected = float(sum(1 for d in days if d <= goal.due))
        else:
            projected = total + rate * (goal.due - today).days / 7
            if reachable is not None:
                projected = min(projected, float(max(reachable, total)))
        projected = round(projected, 2)
        progress = GoalProgress(goal.target_mastered, goal.due, projected, projected >= goal.target_mastered)
    return Trajectory(tuple(points), round(rate, 3), progress)
