"""A testing round in a real browser: community staff upload the testing system's export
(GBK, as such exports often are), read the report, open the sweep list of who is still
missing and send sweep tasks out; the grid worker then sees her own grid's list."""

from __future__ import annotations

import os
import tempfile
from typing import Any, ClassVar

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from linli.campaigns.models import SampleImport
from linli.campaigns.tests.helpers import csv_bytes, make_round, row_of
from linli.lib import browser_testing
from linli.test import PASSWORD, BaseTestCase
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task

pytestmark = pytest.mark.browser


class SweepJourneyTests(browser_testing.BrowserTestCase):
    viewport: ClassVar[dict[str, int]] = {"width": 1200, "height": 900}
    carol: Any
    community: Any
    zhang: Any
    zeng: Any
    li: Any

    def setUp(self) -> None:
        with scopes_disabled():
            BaseTestCase.build_world.__func__(self)  # type: ignore[attr-defined]
            self.round = make_round(self.carol, self.community, timezone.localdate())
        super().setUp()

    def test_it_imports_an_export_and_sweeps_the_missing(self) -> None:
        visitor = ["2", "访客甲", "440103199005010011", "18600000000", "", "", ""]
        export = csv_bytes([row_of(self.zhang, 1), visitor], "gbk")
        path = os.path.join(tempfile.mkdtemp(prefix="linli-campaign-"), "采样记录.csv")
        with open(path, "wb") as f:
            f.write(export)

        self.log_in("carol", PASSWORD)
        page = self.page
        page.goto(f"{self.live_server_url}/campaigns/rounds/{self.round.pk}/")
        page.set_input_files("input[name=file]", path)
        page.get_by_role("button", name="导入并核对").click()
        # The report: one matched on the ID number, the visitor not in the registry.
        expect(page.locator("body")).to_contain_text("访客甲")
        expect(page.locator("body")).to_contain_text("辖区内无此人")
        with scopes_disabled():
            batch = SampleImport.objects.get()
        self.assertEqual((batch.encoding, batch.matched_id, batch.unmatched), ("GBK", 1, 1))

        page.goto(f"{self.live_server_url}/campaigns/rounds/{self.round.pk}/")
        page.get_by_role("link", name="扫楼名单（未采）").click()
        table = page.locator("table")
        expect(table).to_contain_text(self.zeng.name)
        expect(table).to_contain_text(self.li.name)
        expect(table).not_to_contain_text(self.zhang.name)  # tested
        expect(page.locator(f"#missing-{self.zeng.pk}")).not_to_contain_text(self.zeng.phone)

        page.goto(f"{self.live_server_url}/campaigns/rounds/{self.round.pk}/")
        page.get_by_role("button", name="按楼栋发布扫楼任务").click()
        expect(page.locator("body")).to_contain_text("本轮任务")
        with scopes_disabled():
            sweeps = Task.objects.filter(kind=TaskKind.BUILDING_SWEEP)
            self.assertGreaterEqual(sweeps.count(), 1)

        # alice works grid 1 only: her sweep list has no one from another grid.
        self.context.clear_cookies()
        self.log_in("alice", PASSWORD)
        page.goto(f"{self.live_server_url}/campaigns/rounds/{self.round.pk}/sweep/")
        table = page.locator("table")
        expect(table).to_contain_text(self.zeng.name)
        expect(table).not_to_contain_text(self.li.name)
