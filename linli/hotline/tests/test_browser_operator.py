"""An operator's call, in a real browser and by keyboard: the caller (an elderly resident)
found by phone tail, "我母亲92岁了，心绞痛发作" triaged critical with its trigger word, the
ticket dispatched to the grid worker, resolved and closed with the resident's feedback."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.hotline.choices import EventKind, TicketStatus
from linli.hotline.models import Ticket
from linli.lib import browser_testing
from linli.test import PASSWORD, BaseTestCase

pytestmark = pytest.mark.browser


class OperatorCallTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = {"width": 1280, "height": 900}
    zhang: Any
    alice: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
        super().setUp()

    def test_it_takes_a_call_from_lookup_to_closed_with_feedback(self) -> None:
        page = self.page
        self.log_in("olivia", PASSWORD)
        page.goto(f"{self.live_server_url}/hotline/console/")

        # The search box has the focus: type the phone tail, the match appears as typed.
        expect(page.locator("#id_q")).to_be_focused()
        page.keyboard.type("8000")
        match = page.locator("#matches a", has_text="张建国")
        expect(match).to_be_visible()
        page.keyboard.press("Tab")  # the search button
        page.keyboard.press("Tab")  # the first match
        expect(match).to_be_focused()
        page.keyboard.press("Enter")

        # The caller's household and open tickets; the description has the focus.
        expect(page.locator("#caller")).to_contain_text("阳光小区1号楼1单元101")
        expect(page.locator("#id_description")).to_be_focused()
        page.keyboard.type("我母亲92岁了，心绞痛发作")
        preview = page.locator("#triage-preview")
        expect(preview).to_contain_text("危急")
        expect(preview.locator(".trigger")).to_have_text("心绞痛")

        # Dispatch to the grid worker, then Enter in the description submits.
        page.select_option("#id_owner", label="alice（网格员）")
        page.focus("#id_description")
        page.keyboard.press("End")
        page.keyboard.press("Enter")

        expect(page.locator("#ticket-urgency")).to_have_text("危急")
        expect(page.locator("#ticket-owner")).to_have_text("alice")
        with scopes_disabled():
            ticket = Ticket.objects.get()
        self.assertEqual(
            (ticket.resident, ticket.owner, ticket.urgency), (self.zhang, self.alice, "critical")
        )
        self.assertEqual(ticket.triage_reasons, ["心绞痛"])
        self.assertEqual(ticket.description, "我母亲92岁了，心绞痛发作")

        page.click("#step-accept")
        expect(page.locator("#ticket-status")).to_have_text("已受理")
        page.fill("#id_resolve-resolution", "已联系120送医，网格员陪同，家属到场")
        page.click("#step-resolve")
        expect(page.locator("#ticket-status")).to_have_text("已办结")
        page.check("input[name=close-feedback][value=satisfied]")
        page.fill("#id_close-feedback_text", "感谢社区及时帮忙")
        page.click("#step-close")
        expect(page.locator("#ticket-status")).to_have_text("已关闭")
        expect(page.locator("#ticket-feedback")).to_contain_text("满意")

        with scopes_disabled():
            ticket = Ticket.objects.get()
            statuses = list(
                ticket.events.filter(kind=EventKind.STATUS).values_list("to_status", flat=True)
            )
        self.assertEqual(ticket.status, TicketStatus.CLOSED)
        self.assertEqual(ticket.feedback, "satisfied")
        self.assertEqual(statuses, ["accepted", "resolved", "closed"])
