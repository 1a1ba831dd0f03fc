"""Roster aggregates: schools and classes. Enrolment changes are events too,
so a student who moves class keeps one history."""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import class_stream, school_stream


class Course(NamedTuple):
    course_id: str
    title: str
    code: str


class School(Aggregate):
    class Opened(Aggregate.Created):
        school_id: str
        name: str

    @staticmethod
    def create_id(school_id: str, **_: Any) -> UUID:
        return school_stream(school_id)

    def __init__(self, school_id: str, name: str) -> None:
        self.school_id = school_id
        self.name = name

    class Renamed(Aggregate.Event):
        name: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, School)
            aggregate.name = self.name

    def rename(self, name: str) -> None:
        if name != self.name:
            self.trigger_event(self.Renamed, name=name)


class SchoolClass(Aggregate):
    class Formed(Aggregate.Created):
        class_id: str
        name: str
        school_id: str
        teacher_ids: list[str]
        student_ids: list[str]

    @staticmethod
    def create_id(class_id: str, **_: Any) -> UUID:
        return class_stream(class_id)

    def __init__(
        self, class_id: str, name: str, school_id: str, teacher_ids: list[str], student_ids: list[str]
    ) -> None:
        self.class_id = class_id
        self.name = name
        self.school_id = school_id
        self.teacher_ids = list(teacher_ids)
        self.student_ids = list(student_ids)
        self.course: Course | None = None

    class DetailsChanged(Aggregate.Event):
        name: str
        school_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, SchoolClass)
            aggregate.name = self.name
            aggregate.school_id = self.school_id

    class TeachersChanged(Aggregate.Event):
        teacher_ids: list[str]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, SchoolClass)
            aggregate.teacher_ids = list(self.teacher_ids)

    class StudentsEnrolled(Aggregate.Event):
        student_ids: list[str]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, SchoolClass)
            aggregate.student_ids.extend(s for s in self.student_ids if s not in aggregate.student_ids)

    class StudentsUnenrolled(Aggregate.Event):
        student_ids: list[str]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, SchoolClass)
            gone = set(self.student_ids)
            aggregate.student_ids = [s for s in aggregate.student_ids if s not in gone]

    class CourseAssigned(Aggregate.Event):
        """The course the class teaches, as the district's roster names it (a
        OneRoster course: its sourcedId, title and code). An event of its own,
        rather than a field of `Formed`, so that classes formed before it need
        no upcasting: theirs is None."""

        course_id: str
        title: str
        code: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, SchoolClass)
            aggregate.course = Course(self.course_id, self.title, self.code)

    def assign_course(self, course: Course) -> None:
        if course != self.course:
            self.trigger_event(
                self.CourseAssigned, course_id=course.course_id, title=course.title, code=course.code
            )

    def revise(self, name: str, school_id: str, teacher_ids: list[str], student_ids: list[str]) -> None:
        if (name, school_id) != (self.name, self.school_id):
            self.trigger_event(self.DetailsChanged, name=name, school_id=school_id)
        if list(teacher_ids) != self.teacher_ids:
            self.trigger_event(self.TeachersChanged, teacher_ids=list(teacher_ids))
        wanted = list(dict.fromkeys(student_ids))
        added = [s for s in wanted if s not in self.student_ids]
        removed = [s for s in self.student_ids if s not in set(wanted)]
        if removed:
            self.trigger_event(self.StudentsUnenrolled, student_ids=removed)
        if added:
            self.trigger_event(self.StudentsEnrolled, student_ids=added)
