"""The care actions: plans, the day's worklist, outcomes, retry, undo, extra check-ins,
and the escalation chain with frozen time."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.care import actions
from linli.care.choices import (
    CheckInKind,
    CheckInSource,
    CheckInStatus,
    EscalationStep,
    FollowUp,
    Outcome,
    PlanKind,
    PlanStatus,
)
from linli.care.models import Attempt, CarePlan, CheckIn, Escalation
from linli.care.tests.base import DAY, CareTestCase, at
from linli.hotline.models import Ticket
from linli.notify.models import Message
from linli.registry.choices import CareTag
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task, TaskStop


class PlanTest(CareTestCase):
    def test_it_gives_the_plan_the_households_grid_worker(self) -> None:
        assert self.zhang_plan.owner == self.alice
        assert self.li_plan.owner == self.bob

    def test_it_refuses_a_resident_not_on_the_register(self) -> None:
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.plan_save(actor=self.carol, resident=self.zeng, data=actions.PlanInput())
        assert "resident" in caught.exception.message_dict
        with scopes_disabled():
            assert not CarePlan.objects.filter(resident=self.zeng).exists()

    def test_it_refuses_an_owner_from_another_community(self) -> None:
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.plan_save(
                actor=self.carol,
                resident=self.zhang,
                plan=self.zhang_plan,
                data=actions.PlanInput(owner=self.victor),
            )
        assert "owner" in caught.exception.message_dict

    def test_it_plans_every_tagged_resident_in_one_step(self) -> None:
        with scopes_disabled():
            registry_actions_save(self, self.wang, CareTag.LIVES_ALONE)
            result = actions.plans_bulk_create(
                actor=self.carol,
                community=self.community,
                tags=[CareTag.LIVES_ALONE],
                data=actions.PlanInput(kind=PlanKind.CALL_AND_VISIT, visit_every_days=3),
            )
            assert (result.created, result.skipped) == (1, 1)  # 张建国 already had one
            plan = CarePlan.objects.get(resident=self.wang)
            assert plan.kind == PlanKind.CALL_AND_VISIT
            assert plan.owner is None  # 3号楼 is in no grid
            again = actions.plans_bulk_create(
                actor=self.carol,
                community=self.community,
                tags=[CareTag.LIVES_ALONE],
                data=actions.PlanInput(),
            )
            assert again.created == 0

    def test_it_pauses_with_a_reason_and_resumes(self) -> None:
        with scopes_disabled():
            with self.assertRaises(ValidationError):
                actions.plan_pause(actor=self.alice, plan=self.zhang_plan, reason="")
            actions.plan_pause(actor=self.alice, plan=self.zhang_plan, reason="住院")
            self.zhang_plan.refresh_from_db()
            assert self.zhang_plan.status == PlanStatus.PAUSED
            assert self.zhang_plan.paused_by == self.alice
            assert actions.worklist_generate(DAY) == 1  # 李秀英 only
            actions.plan_resume(actor=self.alice, plan=self.zhang_plan)
            assert actions.worklist_generate(DAY) == 1


def registry_actions_save(case: CareTestCase, resident: object, tag: str) -> None:
    from linli.registry import actions as registry_actions

    registry_actions.care_profile_save(
        actor=case.root,
        resident=resident,  # type: ignore[arg-type]
        care=registry_actions.CareInput(tags=[tag]),
    )


class WorklistTest(CareTestCase):
    def test_it_makes_the_days_check_ins_once(self) -> None:
        with scopes_disabled():
            assert actions.worklist_generate(DAY) == 2
            assert actions.worklist_generate(DAY) == 0
            assert CheckIn.objects.filter(due=DAY).count() == 2
            check_in = self.check_in_of(self.zhang_plan)
            assert check_in.owner == self.alice
            assert check_in.grid == self.grid1
            assert check_in.kind == CheckInKind.CALL

    def test_it_follows_every_n_days(self) -> None:
        with scopes_disabled(), time_machine.travel(at(20, 0, DAY - dt.timedelta(days=1))):
            actions.plan_save(
                actor=self.carol,
                resident=self.zhang,
                plan=self.zhang_plan,
                data=actions.PlanInput(
                    kind=PlanKind.CALL_AND_VISIT, call_every_days=2, visit_every_days=4
                ),
            )
            kinds = []
            for offset in range(8):
                day = DAY + dt.timedelta(days=offset)
                actions.worklist_generate(day)
                found = CheckIn.objects.filter(plan=self.zhang_plan, due=day).first()
                kinds.append(found.kind if found else None)
        visit, call = CheckInKind.VISIT, CheckInKind.CALL
        # A visit day stands for that day's call too.
        assert kinds == [visit, None, call, None, visit, None, call, None]

    def test_it_skips_nothing_before_the_plan_starts(self) -> None:
        with scopes_disabled():
            assert actions.worklist_generate(DAY - dt.timedelta(days=1)) == 0


class OutcomeTest(CareTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            actions.worklist_generate(DAY)
        self.check_in = self.check_in_of(self.zhang_plan)

    def record(self, outcome: str, **kwargs: str) -> Attempt:
        with scopes_disabled():
            return actions.check_in_record(
                actor=self.alice, check_in=self.check_in, outcome=outcome, **kwargs
            )

    def test_it_records_reached_and_fine(self) -> None:
        with time_machine.travel(at(9, 5), tick=False):
            attempt = self.record(Outcome.FINE, note="精神很好")
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.FINE
        assert self.check_in.reached_at == at(9, 5)
        assert (attempt.by, attempt.at, attempt.note) == (self.alice, at(9, 5), "精神很好")

    def test_it_shows_an_unreached_call_again_after_the_retry_minutes(self) -> None:
        with time_machine.travel(at(9, 0), tick=False):
            self.record(Outcome.UNREACHED)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.UNREACHED
        assert self.check_in.retry_at == at(9, 30)
        assert self.check_in.waiting_for_retry(at(9, 29))
        assert not self.check_in.waiting_for_retry(at(9, 30))
        with time_machine.travel(at(9, 40), tick=False):
            self.record(Outcome.FINE)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.FINE
        assert self.check_in.retry_at is None
        with scopes_disabled():
            assert Attempt.objects.filter(check_in=self.check_in).count() == 2

    def test_it_refuses_a_second_outcome_once_reached(self) -> None:
        self.record(Outcome.FINE)
        with self.assertRaises(ValidationError) as caught:
            self.record(Outcome.UNREACHED)
        assert "outcome" in caught.exception.message_dict

    def test_it_makes_a_hotline_ticket_from_needs_in_one_step(self) -> None:
        self.record(Outcome.NEEDS, needs="降压药快吃完了，需要代配药", follow_up=FollowUp.TICKET)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.NEEDS
        with scopes_disabled():
            ticket = Ticket.objects.get(pk=self.check_in.ticket_id or 0)
        assert ticket.source == f"care_call:{self.check_in.pk}"
        assert ticket.channel == "care_call"
        assert ticket.resident_id == self.zhang.pk
        assert ticket.household_id == self.zhang.household_id

    def test_it_notes_a_proxy_order(self) -> None:
        self.record(Outcome.NEEDS, needs="要一袋米", follow_up=FollowUp.PROXY_ORDER)
        self.check_in.refresh_from_db()
        assert self.check_in.follow_up == FollowUp.PROXY_ORDER
        assert self.check_in.ticket_id is None

    def test_it_asks_for_the_need_and_the_follow_up(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.record(Outcome.NEEDS)
        assert {"needs", "follow_up"} <= set(caught.exception.message_dict)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.PENDING

    def test_it_undoes_ones_own_last_outcome_within_minutes(self) -> None:
        with time_machine.travel(at(9, 0), tick=False):
            self.record(Outcome.FINE)
        with time_machine.travel(at(9, 3), tick=False), scopes_disabled():
            with self.assertRaises(ValidationError):
                actions.check_in_undo(actor=self.bob, check_in=self.check_in)
            actions.check_in_undo(actor=self.alice, check_in=self.check_in)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.PENDING
        assert self.check_in.reached_at is None
        with scopes_disabled():
            attempt = Attempt.objects.get(check_in=self.check_in)
        assert attempt.undone_by == self.alice  # kept, marked

    def test_it_refuses_undo_after_the_minutes(self) -> None:
        with time_machine.travel(at(9, 0), tick=False):
            self.record(Outcome.FINE)
        with (
            time_machine.travel(at(9, 6), tick=False),
            scopes_disabled(),
            self.assertRaises(ValidationError) as caught,
        ):
            actions.check_in_undo(actor=self.alice, check_in=self.check_in)
        assert "undo" in caught.exception.message_dict

    def test_it_refuses_undo_of_a_ticket_already_made(self) -> None:
        self.record(Outcome.NEEDS, needs="家里水管漏水", follow_up=FollowUp.TICKET)
        with scopes_disabled(), self.assertRaises(ValidationError):
            actions.check_in_undo(actor=self.alice, check_in=self.check_in)


class RequestTest(CareTestCase):
    def test_it_adds_a_call_for_the_residents_grid_worker(self) -> None:
        with scopes_disabled():
            check_in = actions.check_in_request(None, resident=self.zeng, reason="未取爱心餐")
            again = actions.check_in_request(None, resident=self.zeng, reason="未取爱心餐")
        assert again.pk == check_in.pk
        assert check_in.owner == self.alice
        assert check_in.source == CheckInSource.REQUEST
        assert check_in.status == CheckInStatus.PENDING

    def test_it_refuses_a_past_day_and_an_empty_reason(self) -> None:
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            actions.check_in_request(
                self.carol, resident=self.zeng, reason="", due=dt.date(2000, 1, 1)
            )
        assert {"reason", "due"} <= set(caught.exception.message_dict)


class EscalationTest(CareTestCase):
    def setUp(self) -> None:
        with scopes_disabled():
            actions.worklist_generate(DAY)
        self.check_in = self.check_in_of(self.zhang_plan)

    def test_a_missed_call_escalates_along_the_chain_to_a_door_visit(self) -> None:
        with time_machine.travel(at(9, 0), tick=False), scopes_disabled():
            actions.check_in_record(
                actor=self.alice, check_in=self.check_in, outcome=Outcome.UNREACHED
            )
        with time_machine.travel(at(10, 0), tick=False), scopes_disabled():
            actions.check_in_record(
                actor=self.alice, check_in=self.check_in, outcome=Outcome.UNREACHED
            )
            # 李秀英 is reached; only 张建国 stays unreached.
            actions.check_in_record(
                actor=self.bob, check_in=self.check_in_of(self.li_plan), outcome=Outcome.FINE
            )
        # Before the hour nothing happens.
        with time_machine.travel(at(15, 59), tick=False):
            assert actions.check_ins_escalate() == []
        with time_machine.travel(at(16, 0), tick=False), scopes_disabled():
            escalated = actions.check_ins_escalate()
            assert [c.pk for c in escalated] == [self.check_in.pk]
            self.check_in.refresh_from_db()
            assert self.check_in.status == CheckInStatus.ESCALATED
            assert self.check_in.escalated_at == at(16, 0)
            steps = {e.step: e for e in Escalation.objects.filter(check_in=self.check_in)}
            assert set(steps) == set(EscalationStep.values)
            assert all(e.at == at(16, 0) and e.by is None for e in steps.values())
            # 1. a door-visit task on the board, with a stop at the household
            task = Task.objects.get(pk=steps[EscalationStep.DOOR_VISIT].task_id or 0)
            assert task.kind == TaskKind.DOOR_SERVICE
            stop = TaskStop.objects.get(task=task)
            assert stop.household_id == self.zhang.household_id
            assert "张建国" not in task.title + task.description + stop.items
            # 2. the emergency contact told, in Chinese
            to_contact = Message.objects.get(kind="care.unreached_contact")
            assert to_contact.to_phone == "13911112222"
            assert "未能联系上" in to_contact.body
            assert steps[EscalationStep.CONTACT].messages_sent == 1
            # 3. community staff and the owner alerted
            alerted = set(
                Message.objects.filter(kind="care.unreached_staff").values_list(
                    "to_user", flat=True
                )
            )
            assert alerted == {self.carol.pk, self.alice.pk}
            # Run again: nothing more.
            assert actions.check_ins_escalate() == []
            assert Task.objects.filter(kind=TaskKind.DOOR_SERVICE).count() == 1

    def test_it_escalates_through_the_background_task(self) -> None:
        from linli.care import tasks

        with time_machine.travel(at(17, 0), tick=False), scopes_disabled():
            result = tasks.check_ins_escalate.enqueue()
            assert result.return_value == 2
            assert Task.objects.filter(kind=TaskKind.DOOR_SERVICE).count() == 2

    def test_it_still_records_a_reach_after_escalation(self) -> None:
        with time_machine.travel(at(16, 30), tick=False), scopes_disabled():
            actions.check_ins_escalate()
            actions.check_in_record(actor=self.alice, check_in=self.check_in, outcome=Outcome.FINE)
        self.check_in.refresh_from_db()
        assert self.check_in.status == CheckInStatus.FINE
        assert self.check_in.escalated_at is not None

    def test_it_follows_the_communitys_hour(self) -> None:
        with scopes_disabled():
            actions.care_settings_set(
                actor=self.carol,
                community=self.community,
                retry_minutes=20,
                escalate_at=dt.time(18, 0),
            )
        with time_machine.travel(at(17, 0), tick=False):
            assert actions.check_ins_escalate() == []
        with time_machine.travel(at(18, 0), tick=False):
            assert len(actions.check_ins_escalate()) == 2
