"""Exemptions, door service, sweep and door-service tasks, on the base world's 阳光社区."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.campaigns import actions, reconcile
from linli.campaigns.choices import RoundTaskKind
from linli.campaigns.models import CampaignRound, RoundTask
from linli.campaigns.tests.helpers import csv_bytes, make_round, row_of
from linli.registry import actions as registry_actions
from linli.registry.choices import CareTag
from linli.test import BaseTestCase, make_resident
from linli.workforce.choices import TaskKind, TaskStatus
from linli.workforce.models import Task, TaskStop

DAY = dt.date(2022, 4, 10)


class RoundTestCase(BaseTestCase):
    round: CampaignRound

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.round = make_round(cls.carol, cls.community, DAY)

    def missing(self) -> list[str]:
        with scopes_disabled():
            return [r.name for r in reconcile.missing_residents(self.round)]


class ExemptionTests(RoundTestCase):
    def test_it_takes_an_exempted_resident_out_of_the_round_within_the_dates(self) -> None:
        self.assertIn("李秀英", self.missing())
        with scopes_disabled():
            exemption = actions.exemption_save(
                actor=self.bob,
                campaign=self.round.campaign,
                resident=self.li,
                reason="in_hospital",
                starts_on=DAY - dt.timedelta(days=3),
                ends_on=DAY,
            )
        self.assertNotIn("李秀英", self.missing())
        with scopes_disabled():
            later = actions.round_create(
                actor=self.carol, campaign=self.round.campaign, date=DAY + dt.timedelta(days=1)
            )
            self.assertIn("李秀英", [r.name for r in reconcile.missing_residents(later)])
            figures = reconcile.round_figures(self.round, self.round.records.all())
            self.assertEqual(figures.exempted, 1)
            actions.exemption_revoke(actor=self.carol, exemption=exemption)
        self.assertIn("李秀英", self.missing())
        exemption.refresh_from_db()
        self.assertEqual(exemption.revoked_by, self.carol)

    def test_it_wants_a_note_for_other_and_a_resident_of_the_area(self) -> None:
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.exemption_save(
                actor=self.carol,
                campaign=self.round.campaign,
                resident=self.zhao,
                reason="other",
                starts_on=DAY,
                ends_on=DAY - dt.timedelta(days=1),
            )
        self.assertEqual(set(caught.exception.message_dict), {"note", "resident", "ends_on"})

    def test_it_lets_an_exemption_be_changed(self) -> None:
        with scopes_disabled():
            exemption = actions.exemption_save(
                actor=self.alice,
                campaign=self.round.campaign,
                resident=self.zhang,
                reason="away",
                starts_on=DAY + dt.timedelta(days=1),
            )
            self.assertIn("张建国", self.missing())
            actions.exemption_save(
                actor=self.alice,
                campaign=self.round.campaign,
                resident=self.zhang,
                reason="away",
                starts_on=DAY,
                exemption=exemption,
            )
        self.assertNotIn("张建国", self.missing())


class DoorServiceTests(RoundTestCase):
    def test_it_lists_the_disabled_the_very_sick_the_bedridden_and_the_very_old(self) -> None:
        with scopes_disabled():
            registry_actions.care_tags_set(
                actor=self.root, resident=self.li, tags=[CareTag.DISABLED]
            )
            registry_actions.care_profile_save(
                actor=self.root,
                resident=self.wang,
                care=registry_actions.CareInput(tags=[CareTag.EMPTY_NEST], ltc_level=5),
            )
            old = make_resident(self.unit1, "103", "周百岁", born=dt.date(1932, 4, 10))
            make_resident(self.unit1, "104", "吴八九", born=dt.date(1932, 4, 11))
            listed = {r.name: r for r in reconcile.door_service_residents(self.round)}
            reasons = reconcile.door_reasons(listed.values(), DAY)
        self.assertEqual(set(listed), {"李秀英", "王芳", "周百岁"})
        self.assertEqual(reasons[old.pk], "90岁")
        self.assertEqual(reasons[self.li.pk], "残疾")
        self.assertEqual(reasons[self.wang.pk], "长护5级")

    def test_it_makes_one_door_service_task_per_building_with_a_stop_per_household(self) -> None:
        with scopes_disabled():
            registry_actions.care_tags_set(
                actor=self.root, resident=self.zhang, tags=[CareTag.SERIOUS_ILLNESS]
            )
            make_resident(self.unit1, "101", "张奶奶", born=dt.date(1930, 1, 1))
            make_resident(self.unit1, "102", "曾爷爷", born=dt.date(1931, 1, 1))
            residents = list(reconcile.door_service_residents(self.round))
            tasks = actions.door_service_tasks_create(
                actor=self.carol, round=self.round, residents=residents
            )
            again = actions.door_service_tasks_create(
                actor=self.carol, round=self.round, residents=residents
            )
        self.assertEqual(len(tasks), 1)
        self.assertEqual(again, [])
        task = tasks[0]
        self.assertEqual((task.kind, task.size), (TaskKind.DOOR_SERVICE, 3))
        with scopes_disabled():
            stops = list(TaskStop.objects.filter(task=task).order_by("position"))
        self.assertEqual(
            [s.address for s in stops], ["阳光小区1号楼1单元101", "阳光小区1号楼1单元102"]
        )
        self.assertIn("张**", stops[0].items)
        self.assertNotIn("张建国", stops[0].items)  # volunteers read stops: masked names only


class SweepTaskTests(RoundTestCase):
    def test_it_makes_a_sweep_task_per_building_with_someone_missing(self) -> None:
        with scopes_disabled():
            rows = [row_of(self.li, 1)]
            actions.records_import(
                actor=self.carol, round=self.round, data=csv_bytes(rows), filename="a.csv"
            )
            missing = list(reconcile.missing_residents(self.round))
            tasks = actions.sweep_tasks_create(actor=self.carol, round=self.round, missing=missing)
            self.assertEqual(
                actions.sweep_tasks_create(actor=self.carol, round=self.round, missing=missing), []
            )
        self.assertEqual(sorted(t.size for t in tasks), [1, 2])  # 1号楼: 2 missing; 3号楼: 1
        self.assertTrue(all(t.kind == TaskKind.BUILDING_SWEEP for t in tasks))
        one = next(t for t in tasks if t.size == 2)
        self.assertIn("1单元：101、102", one.description)
        self.assertNotIn("张建国", one.description + one.title)
        # A cancelled sweep may be made again.
        with scopes_disabled():
            Task.objects.filter(pk=one.pk).update(status=TaskStatus.CANCELLED)
            remade = actions.sweep_tasks_create(actor=self.carol, round=self.round, missing=missing)
        self.assertEqual(len(remade), 1)
        self.assertEqual(RoundTask.objects.filter(kind=RoundTaskKind.SWEEP).count(), 3)
