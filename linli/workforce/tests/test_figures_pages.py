"""The hours page: per volunteer, per team, tasks done by kind per Shanghai day, the date
range, the Excel download, and who may see it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.registry.models import Community
from linli.workforce import actions
from linli.workforce.choices import TaskKind, TeamKind
from linli.workforce.models import Task, Volunteer
from linli.workforce.tests.test_volunteer_pages import NOON, StaffPagesTestCase

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class FiguresPageTest(StaffPagesTestCase):
    def done(
        self,
        volunteer: Volunteer,
        kind: str,
        at: dt.datetime,
        minutes: int,
        community: Community | None = None,
    ) -> Task:
        with time_machine.travel(at, tick=False), scopes_disabled():
            task = actions.task_create(
                actor=self.root, community=community or self.community, kind=kind, title="任务"
            )
            actions.task_assign(actor=self.root, task=task, volunteer=volunteer)
            actions.task_accept(actor=volunteer.user, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            actions.task_finish(actor=volunteer.user, task=task)
            return actions.task_set_minutes(actor=self.root, task=task, minutes=minutes)

    def setUp(self) -> None:
        super().setUp()
        self.wu = self.make_volunteer("吴志强")
        self.qian = self.make_volunteer("钱小丽")
        with scopes_disabled():
            actions.team_save(
                actor=self.carol,
                community=self.community,
                name="北门党支部",
                kind=TeamKind.PARTY_BRANCH,
                members=[self.wu.user],
            )
        self.done(self.wu, TaskKind.DUTY_SHIFT, dt.datetime(2026, 11, 18, 10, tzinfo=SHANGHAI), 120)
        self.done(self.wu, TaskKind.ERRAND, dt.datetime(2026, 11, 19, 15, tzinfo=SHANGHAI), 60)
        # 00:30 on the 20th in Shanghai is still the 19th in UTC: it counts on the 20th.
        self.done(self.qian, TaskKind.ERRAND, dt.datetime(2026, 11, 20, 0, 30, tzinfo=SHANGHAI), 30)
        # Before the default week.
        self.done(self.wu, TaskKind.DUTY_SHIFT, dt.datetime(2026, 11, 10, 9, tzinfo=SHANGHAI), 30)
        far = self.make_volunteer("星河志愿者", community=self.community_b)
        self.done(
            far,
            TaskKind.ERRAND,
            dt.datetime(2026, 11, 19, 9, tzinfo=SHANGHAI),
            600,
            community=self.community_b,
        )

    def get(self, **params: str) -> Any:
        with time_machine.travel(NOON, tick=False):
            return self.client.get(reverse("workforce:figures"), params)

    def test_it_counts_the_last_seven_days_by_default(self) -> None:
        self.login(self.carol)
        response = self.get()
        self.assertEqual(response.status_code, 200)
        figures = response.context["figures"]
        self.assertEqual(
            (figures.since, figures.until), (dt.date(2026, 11, 14), dt.date(2026, 11, 20))
        )
        self.assertEqual(
            [(r.name, r.tasks, r.minutes, r.hours) for r in figures.volunteers],
            [("吴志强", 2, 180, 3.0), ("钱小丽", 1, 30, 0.5)],
        )
        self.assertEqual(
            [(r.name, r.tasks, r.hours) for r in figures.teams], [("北门党支部", 2, 3.0)]
        )
        self.assertEqual(
            [(r.day, r.kind, r.tasks, r.minutes) for r in figures.days],
            [
                (dt.date(2026, 11, 20), TaskKind.ERRAND, 1, 30),
                (dt.date(2026, 11, 19), TaskKind.ERRAND, 1, 60),
                (dt.date(2026, 11, 18), TaskKind.DUTY_SHIFT, 1, 120),
            ],
        )
        self.assertContains(response, "吴志强</a></td><td>2</td><td>3.0</td>")
        self.assertContains(response, "<td>2026-11-20</td><td>代购代办</td><td>1</td><td>0.5</td>")
        self.assertNotContains(response, "星河志愿者")

    def test_it_takes_a_date_range(self) -> None:
        self.login(self.carol)
        figures = self.get(since="2026-11-01", until="2026-11-18").context["figures"]
        self.assertEqual(
            [(r.name, r.tasks, r.minutes) for r in figures.volunteers], [("吴志强", 2, 150)]
        )
        self.assertEqual(len(figures.days), 2)

    def test_it_refuses_a_range_that_ends_before_it_starts(self) -> None:
        self.login(self.carol)
        response = self.get(since="2026-11-18", until="2026-11-01")
        self.assertContains(response, "结束日期不能早于开始日期", status_code=400)

    def test_it_covers_the_street_for_a_street_admin(self) -> None:
        self.login(self.dave)
        names = [r.name for r in self.get().context["figures"].volunteers]
        self.assertEqual(names, ["星河志愿者", "吴志强", "钱小丽"])

    def test_it_downloads_the_same_tables_as_excel(self) -> None:
        self.login(self.carol)
        with time_machine.travel(NOON, tick=False):
            response = self.client.get(reverse("workforce:figures_export"))
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response["Content-Disposition"])
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        self.assertEqual(book.sheetnames, ["志愿者时长", "队伍时长", "每日完成"])
        rows = [list(r) for r in book["志愿者时长"].iter_rows(min_row=3, values_only=True)]
        self.assertEqual(rows, [["吴志强", 2, 3], ["钱小丽", 1, 0.5]])
        days = [list(r) for r in book["每日完成"].iter_rows(min_row=3, values_only=True)]
        self.assertEqual(days[0][1:], ["代购代办", 1, 0.5])

    def test_it_is_for_dispatchers_only(self) -> None:
        for user in (self.kate, self.victor, self.sam, self.rita_user, self.oscar, self.wu.user):
            self.login(user)
            with time_machine.travel(NOON, tick=False):
                page = self.client.get(reverse("workforce:figures"))
                export = self.client.get(reverse("workforce:figures_export"))
            self.assertEqual(page.status_code, 403, user)
            self.assertEqual(export.status_code, 403, user)
