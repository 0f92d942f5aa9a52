"""The care pages: the worklist (lazy generation, quick outcomes over HTMX, undo, audited
phone reveal, printing), a check-in, plans, bulk plans, settings and coverage."""

from __future__ import annotations

import io

import openpyxl
import time_machine
from auditlog.models import LogEntry
from django_scopes import scopes_disabled

from linli.care.choices import CheckInStatus, FollowUp, PlanKind, PlanStatus
from linli.care.models import Attempt, CarePlan, CareSettings, CheckIn
from linli.care.tests.base import DAY, CareTestCase, at
from linli.hotline.models import Ticket

HTMX = {"HX-Request": "true"}


class WorklistPageTest(CareTestCase):
    def setUp(self) -> None:
        self.clock = time_machine.travel(at(9, 0), tick=False)
        self.clock.start()
        self.addCleanup(self.clock.stop)

    def test_it_makes_todays_worklist_when_opened_and_shows_only_ones_grid(self) -> None:
        self.login(self.alice)
        response = self.client.get("/care/worklist/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "张建国" in body
        assert "李秀英" not in body
        assert "138****8000" in body
        assert "13812348000" not in body
        assert "独居老人" in body
        with scopes_disabled():
            assert CheckIn.objects.filter(due=DAY).count() == 2
        self.client.get("/care/worklist/")
        with scopes_disabled():
            assert CheckIn.objects.filter(due=DAY).count() == 2

    def test_staff_see_the_whole_community(self) -> None:
        self.login(self.carol)
        body = self.client.get("/care/worklist/").content.decode()
        assert "张建国" in body
        assert "李秀英" in body

    def test_it_records_a_quick_outcome_and_undoes_it(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        response = self.client.post(
            f"/care/check-ins/{check_in.pk}/outcome/", {"outcome": "fine"}, headers=HTMX
        )
        assert response.status_code == 200
        assert "撤销" in response.content.decode()
        check_in.refresh_from_db()
        assert check_in.status == CheckInStatus.FINE
        response = self.client.post(f"/care/check-ins/{check_in.pk}/undo/", headers=HTMX)
        assert response.status_code == 200
        check_in.refresh_from_db()
        assert check_in.status == CheckInStatus.PENDING
        with scopes_disabled():
            assert Attempt.objects.get(check_in=check_in).undone_by == self.alice

    def test_an_unreached_call_waits_then_comes_back(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        self.client.post(
            f"/care/check-ins/{check_in.pk}/outcome/", {"outcome": "unreached"}, headers=HTMX
        )
        body = self.client.get("/care/worklist/").content.decode()
        assert 'id="section-later"' in body
        assert 'id="section-now"' not in body
        with time_machine.travel(at(9, 31), tick=False):
            self.client.logout()  # past the idle sign-out
            self.login(self.alice)
            body = self.client.get("/care/worklist/").content.decode()
        assert 'id="section-now"' in body

    def test_reached_with_needs_makes_a_ticket(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        response = self.client.post(
            f"/care/check-ins/{check_in.pk}/outcome/",
            {"outcome": "needs", "needs": "降压药吃完了", "follow_up": "ticket"},
            headers=HTMX,
        )
        assert response.status_code == 200
        check_in.refresh_from_db()
        with scopes_disabled():
            assert (
                Ticket.objects.get(pk=check_in.ticket_id or 0).source == f"care_call:{check_in.pk}"
            )

    def test_needs_without_words_is_refused_and_nothing_written(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        response = self.client.post(
            f"/care/check-ins/{check_in.pk}/outcome/",
            {"outcome": "needs", "needs": "", "follow_up": "ticket"},
            headers=HTMX,
        )
        assert response.status_code == 400
        assert "请写下居民的需求" in response.content.decode()
        check_in.refresh_from_db()
        assert check_in.status == CheckInStatus.PENDING
        with scopes_disabled():
            assert not Attempt.objects.exists()

    def test_a_proxy_order_links_to_supply(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        response = self.client.post(
            f"/care/check-ins/{check_in.pk}/outcome/",
            {"outcome": "needs", "needs": "要一袋米", "follow_up": "proxy_order"},
            headers=HTMX,
        )
        assert "去代下单" in response.content.decode()
        check_in.refresh_from_db()
        assert check_in.follow_up == FollowUp.PROXY_ORDER

    def test_the_phone_reveal_is_audited(self) -> None:
        self.login(self.alice)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        response = self.client.post(f"/care/check-ins/{check_in.pk}/phone/", headers=HTMX)
        assert 'href="tel:13812348000"' in response.content.decode()
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
        assert entry.actor == self.alice
        assert entry.additional_data["field"] == "phone"
        assert str(check_in.pk) in entry.additional_data["reason"]

    def test_bob_cannot_touch_alices_resident(self) -> None:
        self.login(self.carol)
        self.client.get("/care/worklist/")
        check_in = self.check_in_of(self.zhang_plan)
        self.login(self.bob)
        for path in ("outcome/", "undo/", "phone/", "escalate/"):
            response = self.client.post(
                f"/care/check-ins/{check_in.pk}/{path}", {"outcome": "fine"}
            )
            assert response.status_code == 404, path
        check_in.refresh_from_db()
        assert check_in.status == CheckInStatus.PENDING

    def test_volunteers_and_suppliers_get_nothing(self) -> None:
        for user in (self.victor, self.sam, self.kate, self.rita_user):
            self.login(user)
            assert self.client.get("/care/worklist/").status_code == 403
            assert self.client.get("/care/plans/").status_code == 403

    def test_it_prints_the_worklist(self) -> None:
        self.login(self.alice)
        response = self.client.get("/care/worklist/?print=1")
        body = response.content.decode()
        assert "关爱回访名单" in body
        assert "张建国" in body
        assert "13812348000" not in body

    def test_the_check_in_page_shows_the_escalation(self) -> None:
        from linli.care import actions

        self.login(self.alice)
        self.client.get("/care/worklist/")
        with time_machine.travel(at(16, 5), tick=False):
            actions.check_ins_escalate()
            check_in = self.check_in_of(self.zhang_plan)
            self.client.logout()
            self.login(self.alice)
            body = self.client.get(f"/care/check-ins/{check_in.pk}/").content.decode()
        assert "派上门探视任务" in body
        assert "通知紧急联系人" in body
        assert "系统自动" in body


class PlanPageTest(CareTestCase):
    def test_it_lists_and_searches_plans(self) -> None:
        self.login(self.carol)
        body = self.client.get("/care/plans/?q=zjg").content.decode()
        assert "张建国" in body
        assert "李秀英" not in body

    def test_a_grid_worker_changes_and_pauses_a_plan(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            f"/care/residents/{self.zhang.pk}/",
            {
                "kind": PlanKind.CALL_AND_VISIT,
                "call_every_days": "1",
                "visit_every_days": "3",
                "channel": "wechat_video",
                "owner": "",
                "preferred_time": "10:00",
            },
        )
        assert response.status_code == 302
        self.zhang_plan.refresh_from_db()
        assert self.zhang_plan.visit_every_days == 3
        assert self.zhang_plan.owner == self.alice
        response = self.client.post(f"/care/plans/{self.zhang_plan.pk}/pause/", {"reason": "住院"})
        assert response.status_code == 302
        self.zhang_plan.refresh_from_db()
        assert self.zhang_plan.status == PlanStatus.PAUSED

    def test_a_bad_plan_is_refused_naming_the_field(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            f"/care/residents/{self.zhang.pk}/",
            {"kind": "call", "call_every_days": "0", "visit_every_days": "7", "channel": "phone"},
        )
        assert response.status_code == 400
        self.zhang_plan.refresh_from_db()
        assert self.zhang_plan.call_every_days == 1

    def test_staff_plan_in_bulk_by_tag(self) -> None:
        from linli.registry import actions as registry_actions

        with scopes_disabled():
            registry_actions.care_profile_save(
                actor=self.root,
                resident=self.wang,
                care=registry_actions.CareInput(tags=["lives_alone"]),
            )
        self.login(self.carol)
        response = self.client.post(
            "/care/plans/bulk/",
            {
                "community": self.community.pk,
                "tags": ["lives_alone"],
                "kind": "call",
                "call_every_days": "1",
                "visit_every_days": "7",
                "channel": "phone",
            },
        )
        assert response.status_code == 302
        with scopes_disabled():
            assert CarePlan.objects.filter(resident=self.wang).exists()
        self.login(self.alice)
        assert self.client.get("/care/plans/bulk/").status_code == 403

    def test_an_extra_call_joins_todays_list(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            f"/care/residents/{self.zeng.pk}/request/", {"reason": "邻居反映没见到人"}
        )
        assert response.status_code == 302
        with scopes_disabled():
            assert CheckIn.objects.filter(resident=self.zeng, reason="邻居反映没见到人").exists()

    def test_staff_set_the_hour(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            "/care/settings/yangguang/", {"retry_minutes": "20", "escalate_at": "17:30"}
        )
        assert response.status_code == 302
        with scopes_disabled():
            assert CareSettings.objects.get(community=self.community).retry_minutes == 20
        self.login(self.alice)
        assert self.client.get("/care/settings/yangguang/").status_code == 403


class CoveragePageTest(CareTestCase):
    def test_it_counts_per_grid_and_exports(self) -> None:
        from linli.care import actions

        with time_machine.travel(at(9, 0), tick=False), scopes_disabled():
            actions.worklist_generate(DAY)
            actions.check_in_record(
                actor=self.alice, check_in=self.check_in_of(self.zhang_plan), outcome="fine"
            )
        with time_machine.travel(at(17, 0), tick=False):
            actions.check_ins_escalate()
            self.login(self.carol)
            query = f"since={DAY.isoformat()}&until={DAY.isoformat()}"
            body = self.client.get(f"/care/coverage/?{query}").content.decode()
            assert "100.0%" in body
            assert "0.0%" in body
            response = self.client.get(f"/care/coverage/export.xlsx?{query}")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
        assert [DAY.isoformat(), "第一网格", 1, 1, 0, 0, 100.0] in rows
        assert [DAY.isoformat(), "第二网格", 1, 0, 1, 1, 0.0] in rows

    def test_a_bad_range_is_400(self) -> None:
        self.login(self.carol)
        response = self.client.get("/care/coverage/?since=2026-11-20&until=2026-11-01")
        assert response.status_code == 400
