"""Races with real threads on the real database: the morning job, the command and a page
making the same worklist at once, and several escalation runners at the hour."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from linli.care import actions
from linli.care.models import CheckIn, Escalation
from linli.registry import actions as registry_actions
from linli.registry.choices import CareTag
from linli.registry.models import Community, Street
from linli.test import make_place, make_resident, make_user
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task
from linli.workforce.tests.test_race import run_at_once

RUNNERS = 6
DAY = dt.date(2026, 11, 20)


class CareRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        with scopes_disabled(), time_machine.travel(dt.datetime(2026, 11, 19, 12, tzinfo=dt.UTC)):
            street = Street.objects.create(name="和平街道", code="heping")
            self.community = Community.objects.create(street=street, name="阳光社区", code="yg")
            unit = make_place(self.community, "阳光小区", "1号楼", "1单元")
            staff = make_user("carol", "community_staff", community=self.community)
            for n in range(5):
                resident = make_resident(unit, f"10{n}", f"居民{n}")
                registry_actions.care_profile_save(
                    actor=staff,
                    resident=resident,
                    care=registry_actions.CareInput(tags=[CareTag.LIVES_ALONE]),
                )
            actions.plans_bulk_create(
                actor=staff,
                community=self.community,
                tags=[CareTag.LIVES_ALONE],
                data=actions.PlanInput(starts_on=DAY),
            )

    def test_parallel_generation_makes_each_check_in_once(self) -> None:
        results = run_at_once([lambda: actions.worklist_generate(DAY)] * RUNNERS)
        assert not [r for r in results if isinstance(r, Exception)], results
        with scopes_disabled():
            assert CheckIn.objects.filter(due=DAY).count() == 5

    def test_parallel_escalation_runs_the_chain_once_per_check_in(self) -> None:
        with scopes_disabled():
            actions.worklist_generate(DAY)
        at_four = dt.datetime(2026, 11, 20, 8, 5, tzinfo=dt.UTC)  # 16:05 in Shanghai
        results = run_at_once([lambda: len(actions.check_ins_escalate(at_four))] * RUNNERS)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(results) == 5
        with scopes_disabled():
            assert Task.objects.filter(kind=TaskKind.DOOR_SERVICE).count() == 5
            assert Escalation.objects.count() == 15
