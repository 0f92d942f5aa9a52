"""A grid worker's journey in a real browser: Playwright driving Debian's headless Chromium."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest
from auditlog.models import LogEntry
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.lib import browser_testing
from linli.test import PASSWORD, BaseTestCase

pytestmark = pytest.mark.browser


class BrowserTestCase(browser_testing.BrowserTestCase):
    """The personas of BaseTestCase on a live server, and a browser."""

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
        super().setUp()

    def log_in(self, username: str, password: str = PASSWORD, **kwargs: Any) -> None:
        super().log_in(username, password, **kwargs)


class GridWorkerJourneyTests(BrowserTestCase):
    zeng: Any
    li: Any
    alice: Any

    def test_it_finds_opens_reveals_and_is_refused_another_grid(self) -> None:
        page = self.page
        self.log_in("alice")

        page.goto(f"{self.live_server_url}/residents/")
        page.fill("#id_q", "zxm")
        # The list updates as one types (HTMX): no full page load.
        rows = page.locator("#resident-table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("曾小明")

        page.click("text=曾小明")
        expect(page.locator("#resident-name")).to_have_text("曾小明")
        masked = page.locator("#reveal-id_number .masked")
        expect(masked).to_have_text(self.zeng.masked_id_number)
        expect(page.locator("body")).not_to_contain_text(self.zeng.id_number)

        page.locator("#reveal-id_number summary").click()
        page.fill("#reason-id_number", "核对代配药信息")
        page.locator("#reveal-id_number button[type=submit]").click()
        expect(page.locator("#reveal-id_number .revealed")).to_have_text(self.zeng.id_number)
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
        assert entry.actor_id == self.alice.pk
        assert entry.additional_data["reason"] == "核对代配药信息"

        page.screenshot(path=os.path.join(tempfile.gettempdir(), "linli-resident-detail.png"))

        response = page.goto(f"{self.live_server_url}/residents/{self.li.pk}/")
        assert response is not None
        assert response.status == 404
        expect(page.locator("body")).to_contain_text("不在您的管辖范围内")
        expect(page.locator("body")).not_to_contain_text("李秀英")


class CommunityStaffImportJourneyTests(BrowserTestCase):
    carol: Any
    zhang: Any

    def test_it_uploads_previews_every_row_and_imports_only_the_valid(self) -> None:
        import datetime as dt

        from linli.lib.identity import compose_id_number
        from linli.registry.models import Resident

        good = compose_id_number("110101", dt.date(1948, 2, 3), 501)
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        csv_text = (
            "小区,楼栋,单元,房号,姓名,性别,出生日期,身份证号,手机号,与户主关系,居住状态,重点人群,备注\n"
            f"阳光小区,1号楼,1单元,601,仇桂芳,女,,{good},13800002222,户主,在住,独居老人,\n"
            f"阳光小区,1号楼,1单元,602,单国庆,男,,{bad},13800003333,户主,在住,,\n"
            f"阳光小区,7号楼,1单元,101,区永明,男,,,,户主,在住,,\n"
        )
        path = os.path.join(tempfile.mkdtemp(), "居民.csv")
        with open(path, "w", encoding="gbk") as f:
            f.write(csv_text)

        page = self.page
        self.log_in("carol")
        page.goto(f"{self.live_server_url}/import/")
        page.set_input_files("input[type=file]", path)
        page.click("button[type=submit]")

        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("仇桂芳")
        expect(rows.nth(1)).to_contain_text("身份证校验位错误")
        expect(rows.nth(2)).to_contain_text("7号楼")
        expect(page.locator("body")).not_to_contain_text(good)
        with scopes_disabled():
            self.assertFalse(Resident.objects.filter(name="仇桂芳").exists())

        page.click("button[value=commit]")
        expect(page.locator("h1")).to_contain_text("导入完成")
        expect(page.locator("body")).to_contain_text("身份证校验位错误")
        with scopes_disabled():
            added = Resident.objects.get(name="仇桂芳")
            self.assertEqual(added.id_number, good)
            self.assertEqual(added.household.address, "阳光小区1号楼1单元601")
            self.assertEqual(list(added.care_tags.values_list("tag", flat=True)), ["lives_alone"])
            self.assertFalse(Resident.objects.filter(name__in=["单国庆", "区永明"]).exists())
