"""A grid worker works the morning worklist on a phone (375×812) in a real browser: sees
her residents, reveals a number to dial (audited), marks one fine, undoes the mistaken tap,
records a need that becomes a hotline ticket, and marks another not reached."""

from __future__ import annotations

import os
import tempfile
from typing import Any, ClassVar

import pytest
from auditlog.models import LogEntry
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.care import actions
from linli.care.choices import CheckInStatus
from linli.care.models import CheckIn
from linli.hotline.models import Ticket
from linli.lib import browser_testing
from linli.registry import actions as registry_actions
from linli.registry.choices import CareTag
from linli.test import PASSWORD, BaseTestCase

pytestmark = pytest.mark.browser


class MorningWorklistTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = {"width": 375, "height": 812}
    alice: Any
    carol: Any
    root: Any
    zhang: Any
    zeng: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
            registry_actions.care_profile_save(
                actor=self.root,
                resident=self.zeng,
                care=registry_actions.CareInput(tags=[CareTag.EMPTY_NEST]),
            )
            for resident in (self.zhang, self.zeng):
                actions.plan_save(actor=self.carol, resident=resident, data=actions.PlanInput())
        super().setUp()

    def row(self, name: str) -> Any:
        return self.page.locator("li.ci", has_text=name)

    def test_a_grid_worker_works_her_morning_list_on_a_phone(self) -> None:
        page = self.page
        self.log_in("alice", PASSWORD)
        page.goto(f"{self.live_server_url}/care/worklist/")
        zhang, zeng = self.row("张建国"), self.row("曾小明")
        expect(zhang).to_contain_text("138****8000")
        expect(zhang).to_contain_text("独居老人")
        expect(zeng).to_contain_text("空巢")
        expect(page.locator(".progress")).to_contain_text("0 / 2")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        zhang.get_by_role("button", name="显示号码拨打").click()
        expect(zhang.locator("a.tel")).to_have_attribute("href", "tel:13812348000")

        zhang.get_by_role("button", name="平安").click()
        expect(zhang).to_contain_text("已联系·平安")
        expect(page.locator(".progress")).to_contain_text("1 / 2")  # counted without a reload
        zhang.get_by_role("button", name="撤销").click()
        expect(zhang).to_contain_text("已撤销上一次记录")
        expect(zhang).to_contain_text("待回访")
        expect(page.locator(".progress")).to_contain_text("0 / 2")

        zhang.locator("summary", has_text="有需求").click()
        zhang.get_by_label("居民的需求").fill("降压药快吃完了，请帮忙代配药")
        zhang.get_by_role("button", name="记录需求").click()
        expect(zhang).to_contain_text("已联系·有需求")
        expect(zhang).to_contain_text("工单 #")

        zeng.get_by_role("button", name="未接通").click()
        expect(zeng).to_contain_text("未联系上")
        expect(zeng).to_contain_text("后再拨")
        page.screenshot(path=os.path.join(tempfile.gettempdir(), "linli-care-worklist.png"))

        with scopes_disabled():
            zhang_check_in = CheckIn.objects.get(resident=self.zhang)
            assert zhang_check_in.status == CheckInStatus.NEEDS
            ticket = Ticket.objects.get(pk=zhang_check_in.ticket_id or 0)
            assert ticket.source == f"care_call:{zhang_check_in.pk}"
            assert CheckIn.objects.get(resident=self.zeng).status == CheckInStatus.UNREACHED
            assert (
                LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=self.alice).count()
                == 1
            )
