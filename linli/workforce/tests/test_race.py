"""Races on the real database with real threads: many volunteers pressing 领取 on one task at
the same moment, and two sign-ups with the same phone number."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TransactionTestCase
from django_scopes import scopes_disabled

from linli.lib.identity import compose_id_number
from linli.registry.models import Community, Household, Street
from linli.test import make_place, make_user
from linli.workforce import actions
from linli.workforce.choices import TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, Volunteer

TAKERS = 50


def run_at_once(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job on its own thread, release them together, and collect what each
    returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            with scopes_disabled():
                outcomes[index] = job()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


class TakeRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            street = Street.objects.create(name="和平街道", code="heping")
            self.community = Community.objects.create(street=street, name="阳光社区", code="yg")
            unit = make_place(self.community, "阳光小区", "1号楼", "1单元")
            staff = make_user("carol", "community_staff", community=self.community)
            self.staff = staff
            household = Household(room="101")
            household.place_in(unit)
            household.save()
            self.volunteers = []
            for n in range(TAKERS):
                volunteer = actions.volunteer_signup(
                    community=self.community,
                    data=actions.SignupInput(
                        name=f"志愿者{n}",
                        phone=f"139{n:08d}",
                        id_number=compose_id_number("110101", dt.date(1990, 1, 1), n + 100),
                        password="volunteer pass 2026",
                    ),
                )
                actions.volunteer_review(
                    actor=staff, volunteer=volunteer, status=VolunteerStatus.VERIFIED
                )
                self.volunteers.append(volunteer)
            self.task = actions.task_create(
                actor=staff,
                community=self.community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title="送蔬菜包",
                stops=[actions.StopInput(household=household, items="蔬菜包×1")],
            )

    def test_it_gives_the_task_to_exactly_one_of_fifty_volunteers(self) -> None:
        def take(volunteer: Volunteer) -> Callable[[], Task]:
            return lambda: actions.task_take(
                volunteer=Volunteer.objects.get(pk=volunteer.pk),
                task=Task.objects.get(pk=self.task.pk),
            )

        outcomes = run_at_once([take(v) for v in self.volunteers])

        winners = [o for o in outcomes if isinstance(o, Task)]
        refused = [o for o in outcomes if isinstance(o, ValidationError)]
        others = [o for o in outcomes if not isinstance(o, Task | ValidationError)]
        self.assertEqual(others, [])
        self.assertEqual(len(winners), 1)
        self.assertEqual(len(refused), TAKERS - 1)
        for error in refused:
            self.assertEqual(error.message_dict["status"], ["这个任务已被其他志愿者领取"])
        with scopes_disabled():
            task = Task.objects.get(pk=self.task.pk)
            takes = TaskEvent.objects.filter(task=task, to_status=TaskStatus.ACCEPTED)
            self.assertEqual(task.status, TaskStatus.ACCEPTED)
            self.assertEqual(task.volunteer_id, winners[0].volunteer_id)
            winner = Volunteer.objects.get(tasks=task)
            self.assertEqual([e.actor_id for e in takes], [winner.user_id])

    def test_it_signs_up_one_of_two_people_sending_the_same_phone_at_once(self) -> None:
        def sign_up(n: int) -> Volunteer:
            return actions.volunteer_signup(
                community=self.community,
                data=actions.SignupInput(
                    name=f"重复{n}",
                    phone="13800009999",
                    id_number=compose_id_number("110101", dt.date(1985, 1, 1), 900 + n),
                    password="volunteer pass 2026",
                ),
            )

        outcomes = run_at_once([functools.partial(sign_up, n) for n in range(4)])

        created = [o for o in outcomes if isinstance(o, Volunteer)]
        refused = [o for o in outcomes if isinstance(o, ValidationError)]
        self.assertEqual((len(created), len(refused)), (1, 3), outcomes)
        for error in refused:
            self.assertEqual(error.message_dict["phone"], ["该手机号已报名过志愿者"])
        with scopes_disabled():
            self.assertEqual(Volunteer.objects.filter(name__startswith="重复").count(), 1)
