"""The checkpoint page's duty roster: adding shifts, names filled in, gaps shown red."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import time_machine
from django_scopes import scopes_disabled

from linli.checkpoints.models import Shift
from linli.checkpoints.tests.test_pages import CheckpointPageTestCase
from linli.lib.identity import compose_id_number
from linli.workforce import actions as workforce
from linli.workforce.choices import Skill, TaskKind, TaskStatus
from linli.workforce.models import Task, Volunteer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Tuesday 2026-11-24, 09:00 in Shanghai.
MORNING = dt.datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)


def make_volunteer(test: CheckpointPageTestCase, name: str, n: int) -> Volunteer:
    volunteer = workforce.volunteer_signup(
        community=test.community,
        data=workforce.SignupInput(
            name=name,
            phone=f"1390000{n:04d}",
            id_number=compose_id_number("110101", dt.date(1990, 1, n), 300 + n),
            password="a long enough password",
        ),
    )
    return workforce.volunteer_review(actor=test.carol, volunteer=volunteer, status="verified")


@time_machine.travel(MORNING, tick=False)
class RosterPageTest(CheckpointPageTestCase):
    def _add_shift(self, **values: object) -> Any:
        data = {
            "starts_at": "2026-11-24T14:00",
            "ends_at": "2026-11-24T18:00",
            "needed": "2",
        } | values
        return self.client.post(f"/checkpoints/{self.east.pk}/shifts/new/", data)

    def test_it_adds_a_shift_whose_places_become_duty_tasks(self) -> None:
        self.login(self.carol)
        response = self._add_shift(required_skills=[Skill.MEDICAL])
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], f"/checkpoints/{self.east.pk}/?date=2026-11-24")
        with scopes_disabled():
            shift = Shift.objects.get(checkpoint=self.east)
            self.assertEqual(shift.starts_at, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC))
            self.assertEqual(shift.needed, 2)
            tasks = list(shift.tasks.all())
            self.assertEqual(len(tasks), 2)
            for task in tasks:
                self.assertEqual(task.kind, TaskKind.DUTY_SHIFT)
                self.assertEqual(task.status, TaskStatus.OPEN)
                self.assertEqual(task.required_skills, [Skill.MEDICAL])

    def test_it_shows_gaps_red_with_links_to_their_tasks(self) -> None:
        self.login(self.carol)
        self._add_shift()
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertEqual(response.status_code, 200)
        with scopes_disabled():
            shift = Shift.objects.get(checkpoint=self.east)
            task_ids = sorted(shift.tasks.values_list("pk", flat=True))
        self.assertContains(response, f'<tr class="shift-row row-error" id="shift-{shift.pk}">')
        self.assertContains(response, "14:00–18:00")
        self.assertContains(response, "缺 2 人")
        for pk in task_ids:
            self.assertContains(response, f'href="/tasks/{pk}/"')

    def test_it_shows_who_fills_a_shift_and_what_is_still_missing(self) -> None:
        self.login(self.carol)
        self._add_shift()
        with scopes_disabled():
            shift = Shift.objects.get(checkpoint=self.east)
            first, second = shift.tasks.order_by("pk")
            workforce.task_assign(
                actor=self.carol, task=first, volunteer=make_volunteer(self, "周志愿", 1)
            )
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertContains(response, "周志愿")
        self.assertContains(response, "缺 1 人")
        self.assertContains(response, f'href="/tasks/{second.pk}/"')
        self.assertNotContains(response, f'href="/tasks/{first.pk}/"')

        with scopes_disabled():
            workforce.task_assign(
                actor=self.carol, task=second, volunteer=make_volunteer(self, "吴志愿", 2)
            )
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertContains(response, f'<tr class="shift-row row-ok" id="shift-{shift.pk}">')
        self.assertContains(response, "已排满")
        self.assertContains(response, "吴志愿")

    def test_it_refuses_a_shift_that_ends_before_it_starts(self) -> None:
        self.login(self.carol)
        response = self._add_shift(ends_at="2026-11-24T13:00")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "结束时间必须晚于开始时间", status_code=400)
        with scopes_disabled():
            self.assertFalse(Shift.objects.exists())
            self.assertFalse(Task.objects.exists())

    def test_it_refuses_nonsense_in_the_shift_form(self) -> None:
        self.login(self.carol)
        for values in ({"needed": "0"}, {"needed": "many"}, {"starts_at": "tomorrow"}):
            response = self._add_shift(**values)
            self.assertEqual(response.status_code, 400, values)
        with scopes_disabled():
            self.assertFalse(Shift.objects.exists())

    def test_it_refuses_two_shifts_starting_at_the_same_time(self) -> None:
        self.login(self.carol)
        self._add_shift()
        response = self._add_shift(needed="1")
        self.assertContains(response, "该卡口这个时间已有班次", status_code=400)
        with scopes_disabled():
            self.assertEqual(Shift.objects.count(), 1)
            self.assertEqual(Task.objects.count(), 2)

    def test_it_lets_the_keeper_read_the_roster_but_not_change_it(self) -> None:
        self.login(self.carol)
        self._add_shift()
        self.login(self.kate)
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertContains(response, "缺 2 人")
        self.assertNotContains(response, f'action="/checkpoints/{self.east.pk}/shifts/new/"')
        response = self._add_shift(starts_at="2026-11-25T08:00", ends_at="2026-11-25T12:00")
        self.assertEqual(response.status_code, 403)
        response = self.client.post(
            f"/checkpoints/{self.west.pk}/shifts/new/",
            {"starts_at": "2026-11-25T08:00", "ends_at": "2026-11-25T12:00", "needed": "1"},
        )
        self.assertIn(response.status_code, (403, 404))
        with scopes_disabled():
            self.assertEqual(Shift.objects.count(), 1)

    def test_it_shows_seven_days_from_the_chosen_date(self) -> None:
        self.login(self.carol)
        self._add_shift()
        self._add_shift(starts_at="2026-12-05T08:00", ends_at="2026-12-05T12:00", needed="1")
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertContains(response, "14:00–18:00")
        self.assertNotContains(response, "08:00–12:00")
        self.assertContains(response, "值班表 11月24日–11月30日")
        response = self.client.get(f"/checkpoints/{self.east.pk}/?date=2026-12-01")
        self.assertContains(response, "08:00–12:00")
        self.assertNotContains(response, "14:00–18:00")
        response = self.client.get(f"/checkpoints/{self.east.pk}/?date=not-a-date")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "14:00–18:00")

    def test_it_prints_the_roster_without_the_navigation(self) -> None:
        self.login(self.carol)
        response = self.client.get(f"/checkpoints/{self.east.pk}/")
        self.assertContains(response, "打印值班表")
        self.assertContains(response, 'class="crumbs no-print"')
        css = Path(__file__).parents[2] / "static" / "linli" / "linli.css"
        print_rules = css.read_text(encoding="utf-8").split("@media print")[1]
        self.assertIn(".topbar", print_rules)
