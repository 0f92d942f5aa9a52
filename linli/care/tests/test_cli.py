"""`linli care …`: the same actions and access as the pages, from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.care.choices import CheckInStatus, PlanStatus
from linli.care.models import CareSettings, CheckIn
from linli.care.tests.base import DAY, CareTestCase, at
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task


def run(*args: str) -> str:
    out = StringIO()
    call_command("care", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class CareCommandTest(CareTestCase):
    def setUp(self) -> None:
        self.clock = time_machine.travel(at(9, 0), tick=False)
        self.clock.start()
        self.addCleanup(self.clock.stop)

    def test_it_generates_and_lists_a_worklist_once(self) -> None:
        out = run("worklist", "--date", DAY.isoformat())
        assert "张建国" in out
        assert "李秀英" in out
        assert "新生成 2 条" in out
        assert "13812348000" not in out
        assert "新生成 0 条" in run("worklist", "--date", DAY.isoformat())
        out = run("worklist", "--actor", "alice", "--mine")
        assert "张建国" in out
        assert "李秀英" not in out

    def test_it_records_an_outcome_and_undoes_it(self) -> None:
        run("worklist")
        with scopes_disabled():
            pk = CheckIn.objects.get(resident=self.zhang).pk
        assert "未联系上" in run("outcome", str(pk), "unreached", "--actor", "alice")
        with scopes_disabled():
            assert CheckIn.objects.get(pk=pk).status == CheckInStatus.UNREACHED
        run("undo", str(pk), "--actor", "alice")
        with scopes_disabled():
            assert CheckIn.objects.get(pk=pk).status == CheckInStatus.PENDING
        with pytest.raises(CommandError, match="未找到"):
            run("outcome", str(pk), "fine", "--actor", "bob")
        with pytest.raises(CommandError, match="请写下居民的需求"):
            run("outcome", str(pk), "needs", "--follow-up", "ticket", "--actor", "alice")
        out = run(
            "outcome",
            str(pk),
            "needs",
            "--needs",
            "要代配降压药",
            "--follow-up",
            "ticket",
            "--actor",
            "alice",
        )
        assert "工单 #" in out

    def test_escalate_runs_the_chain_at_the_hour(self) -> None:
        run("worklist")
        assert "共升级 0 条" in run("escalate")
        assert "共升级 2 条" in run("escalate", "--now", f"{DAY.isoformat()}T16:00")
        with scopes_disabled():
            assert Task.objects.filter(kind=TaskKind.DOOR_SERVICE).count() == 2
        with pytest.raises(CommandError):
            run("escalate", "--actor", "alice")

    def test_plans_and_settings(self) -> None:
        out = run("plans", "--actor", "alice")
        assert "张建国" in out
        assert "李秀英" not in out
        run("plan-pause", str(self.zhang_plan.pk), "--reason", "住院", "--actor", "alice")
        self.zhang_plan.refresh_from_db()
        assert self.zhang_plan.status == PlanStatus.PAUSED
        out = run(
            "plan-set",
            str(self.zhang.pk),
            "--kind",
            "visit",
            "--visit-every",
            "3",
            "--actor",
            "alice",
        )
        assert "每3天上门" in out
        assert "已有计划未改动" in run("plan-bulk", "--tag", "lives_alone", "--actor", "carol")
        with pytest.raises(CommandError, match="社区工作人员"):
            run("plan-bulk", "--tag", "lives_alone", "--actor", "alice")
        run("settings", "--retry-minutes", "20", "--escalate-at", "17:00", "--actor", "carol")
        with scopes_disabled():
            assert CareSettings.objects.get(community=self.community).retry_minutes == 20
        with pytest.raises(CommandError):
            run("plans", "--actor", "victor")

    def test_coverage(self) -> None:
        run("worklist")
        out = run("coverage", "--since", DAY.isoformat(), "--until", DAY.isoformat())
        assert "第一网格" in out
        assert "合计" in out

    def test_request_adds_an_extra_call(self) -> None:
        out = run("request", str(self.zeng.pk), "--reason", "未取爱心餐", "--actor", "alice")
        assert "已加入" in out
