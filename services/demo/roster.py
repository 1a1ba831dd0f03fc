"""The demo district's schools, teachers and classes, laid out for a number of students.

Middle schools of about 250 students, grades 6 to 8, each grade in sections
of at most 28: Math 6, Math 7, and in grade 8 Math 8 or (a fifth of the
grade, where it has a dozen students) Algebra 1. A math teacher teaches up
to five sections of one course. One small school (8 students a grade at
most, one teacher for all three) keeps every summary cell of its own under
the suppression threshold. Student ids run in roster order: school by
school, section by section, the small school last.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

SECTION_MAX = 28
SCHOOL_SIZE = 250
ALGEBRA_SHARE = 0.2  # a fifth: at 300 students a class of 9, under the suppression threshold
SCHOOLS = (
    "Lincoln", "Roosevelt", "Jefferson", "Franklin", "Washington", "Madison", "Hamilton",
    "Kennedy", "Whitman", "Carver", "Douglass", "Parks", "Chavez", "Earhart", "Edison",
    "Curie", "Hughes", "Sandburg", "Tubman", "Lovelace",
)  # fmt: skip
SMALL_SCHOOL = "Prairie View Academy"
FIRST = (
    "Ava", "Ben", "Chloe", "Diego", "Emma", "Farah", "Gabe", "Hana", "Isaac", "Jade", "Kofi",
    "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik",
    "Wren", "Yusuf", "Zoe",
)  # fmt: skip
LAST = (
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Johnson",
    "Kim", "Lopez", "Mensah", "Nguyen", "Okafor", "Patel", "Quist", "Rossi", "Singh", "Tanaka",
    "Usman", "Volkov",
)  # fmt: skip
COURSE_NAMES = {"m6": "Math 6", "m7": "Math 7", "m8": "Math 8", "alg1": "Algebra 1"}
# A teacher's sections meet in these periods (a planning period falls between).
TEACHING_PERIODS = ((1, 2, 3, 5, 6), (2, 3, 4, 6, 7))


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    name: str

    @property
    def recorded_by(self) -> str:
        """What the store records as the recorder of an event this teacher entered
        (a teacher token named after its holder records `teacher:<name>`)."""
        return f"teacher:{self.name}"


@dataclass(frozen=True)
class Section:
    class_id: str
    name: str
    school_id: str
    course: str
    grade: str
    teacher: Teacher
    period: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class School:
    school_id: str
    name: str


@dataclass(frozen=True)
class Roster:
    schools: tuple[School, ...]
    sections: tuple[Section, ...]

    def section_of(self) -> dict[str, Section]:
        return {s: sec for sec in self.sections for s in sec.members}


def _split(n: int, parts: int) -> list[int]:
    """n into `parts` near-equal sizes, larger first."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)] if parts else []


def _person(rng: random.Random, initial: bool = False) -> str:
    middle = f" {rng.choice('ABCDEFGHIJKLMNOPRSTVW')}." if initial else ""
    return f"{rng.choice(FIRST)}{middle} {rng.choice(LAST)}"


def layout(students: int, seed: int) -> Roster:
    if students < 3:
        raise ValueError("a district needs at least 3 students")
    rng = random.Random(seed * 31 + 5)
    small = 3 * min(8, max(1, students // 12))
    rest = students - small
    regular = _split(rest, max(1, math.ceil(rest / SCHOOL_SIZE))) if rest else []
    schools: list[School] = []
    sections: list[Section] = []
    next_student = 0
    hired: set[str] = set()

    def add(school_id: str, course: str, grade: str, n: int, teacher: Teacher, period: int) -> None:
        nonlocal next_student
        members = tuple(f"stu-{i:06d}" for i in range(next_student, next_student + n))
        next_student += n
        name = f"{COURSE_NAMES[course]}, period {period}"
        sections.append(
            Section(f"cls-{len(sections):05d}", name, school_id, course, grade, teacher, period, members)
        )

    def hire() -> Teacher:
        # Distinct names: "recorded by" names the teacher, and must name one.
        name, tries = _person(rng), 0
        while name in hired:
            tries += 1
            name = _person(rng, tries > 20)
        hired.add(name)
        return Teacher(f"tch-{len(hired) - 1:04d}", name)

    for k, size in enumerate(regular):
        school_id = f"sch-{k:03d}"
        base = SCHOOLS[k % len(SCHOOLS)]
        suffix = f" {k // len(SCHOOLS) + 1}" if k >= len(SCHOOLS) else ""
        schools.append(School(school_id, f"{base} Middle School{suffix}"))
        g6, g7, g8 = _split(size, 3)
        algebra = round(g8 * ALGEBRA_SHARE) if g8 >= 12 else 0
        for course, grade, n in (
            ("m6", "6", g6),
            ("m7", "7", g7),
            ("m8", "8", g8 - algebra),
            ("alg1", "8", algebra),
        ):
            sizes = _split(n, math.ceil(n / SECTION_MAX))
            staff = [hire() for _ in range(math.ceil(len(sizes) / 5))]
            for j, m in enumerate(sizes):
                teacher = staff[j // 5]
                add(school_id, course, grade, m, teacher, TEACHING_PERIODS[(j // 5) % 2][j % 5])
    school_id = f"sch-{len(regular):03d}"
    schools.append(School(school_id, SMALL_SCHOOL))
    teacher = hire()
    for j, (course, grade, n) in enumerate(zip(("m6", "m7", "m8"), "678", _split(small, 3), strict=True)):
        add(school_id, course, grade, n, teacher, j + 1)
    return Roster(tuple(schools), tuple(s for s in sections if s.members))
