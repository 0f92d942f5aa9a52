"""The REST API and the `linli campaign` command: the same capabilities as the pages."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.campaigns.models import (
    Campaign,
    CampaignRound,
    Exemption,
    SampleRecord,
    SamplingPoint,
)
from linli.campaigns.tests.helpers import csv_bytes, make_round, row_of, xlsx_bytes
from linli.test import BaseTestCase, pdf_text
from linli.workforce.models import Task

DAY = dt.date(2022, 4, 10)


class ApiTests(BaseTestCase):
    round: CampaignRound

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.round = make_round(cls.carol, cls.community, DAY)

    def setUp(self) -> None:
        self.tokens: dict[int, str] = {}

    def headers(self, user: User) -> dict[str, str]:
        if user.pk not in self.tokens:
            self.tokens[user.pk] = ApiToken.issue(user)
        return {"Authorization": f"Bearer {self.tokens[user.pk]}"}

    def call(self, user: User, method: str, path: str, body: Any = None) -> Any:
        send = getattr(self.client, method.lower())
        if body is None:
            return send("/api/v1" + path, headers=self.headers(user))
        return send(
            "/api/v1" + path,
            data=json.dumps(body),
            content_type="application/json",
            headers=self.headers(user),
        )

    def upload(self, user: User, data: bytes, name: str, mapping: str = "") -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        body: dict[str, Any] = {"file": SimpleUploadedFile(name, data)}
        if mapping:
            body["mapping"] = mapping
        return self.client.post(
            f"/api/v1/campaign-rounds/{self.round.pk}/imports", body, headers=self.headers(user)
        )

    def test_it_creates_a_campaign_a_round_and_a_point(self) -> None:
        response = self.call(
            self.carol,
            "POST",
            "/campaigns",
            {"name": "人口普查", "kind": "census", "community": "yangguang"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        campaign_id = response.json()["id"]
        response = self.call(
            self.carol, "POST", f"/campaigns/{campaign_id}/rounds", {"date": "2022-05-01"}
        )
        self.assertEqual((response.status_code, response.json()["number"]), (201, 1))
        response = self.call(
            self.carol,
            "POST",
            f"/campaigns/{campaign_id}/points",
            {"name": "东门", "buildings": [self.unit1.building_id, self.unit_far.building_id]},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"][0]["field"], "buildings")
        response = self.call(self.carol, "POST", "/campaigns", {"name": "全街道", "kind": "census"})
        self.assertEqual(response.status_code, 403)
        response = self.call(self.dave, "POST", "/campaigns", {"name": "全街道", "kind": "census"})
        self.assertEqual(response.status_code, 201)
        self.assertIsNone(Campaign.objects.get(name="全街道").community)

    def test_it_imports_an_excel_export_and_reports_completion_and_the_sweep(self) -> None:
        rows = [row_of(self.zhang, 1), ["2", "访客", "440103199005010011", "", "", "", ""]]
        response = self.upload(self.carol, xlsx_bytes(rows), "导出.xlsx")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual((response.json()["matched_id"], response.json()["unmatched"]), (1, 1))
        again = self.upload(self.carol, xlsx_bytes(rows), "导出.xlsx").json()
        self.assertEqual((again["added"], again["already"]), (0, 2))
        done = self.call(self.alice, "GET", f"/campaign-rounds/{self.round.pk}/completion?by=grid")
        self.assertEqual(done.status_code, 200)
        self.assertEqual((done.json()["expected"], done.json()["reached"]), (2, 1))
        self.assertEqual(done.json()["unmatched"], 0)  # visitors are for staff only
        sweep = self.call(self.alice, "GET", f"/campaign-rounds/{self.round.pk}/sweep")
        self.assertEqual([i["name"] for i in sweep.json()["items"]], ["曾小明"])
        self.assertEqual(sweep.json()["items"][0]["phone_masked"], "139****1234")
        unmatched = self.call(
            self.carol, "GET", f"/campaign-rounds/{self.round.pk}/records?status=unmatched"
        )
        self.assertEqual([r["name"] for r in unmatched.json()["items"]], ["访客"])

    def test_it_changes_a_sampling_point_through_the_api_and_the_command_line(self) -> None:
        campaign = self.round.campaign_id
        building = self.zhang.household.unit.building
        created = self.call(
            self.carol, "POST", f"/campaigns/{campaign}/points", {"name": "1号采样点"}
        ).json()
        body = {"name": "东门采样点", "opens_at": "07:00", "closes_at": "12:00"}
        changed = self.call(
            self.carol,
            "PUT",
            f"/campaign-points/{created['id']}",
            {**body, "buildings": [building.pk]},
        )
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual(
            (changed.json()["name"], changed.json()["buildings"]), ("东门采样点", [building.pk])
        )
        bad = self.call(
            self.carol, "PUT", f"/campaign-points/{created['id']}", {**body, "closes_at": "06:00"}
        )
        self.assertEqual(bad.json()["errors"][0]["field"], "closes_at")
        self.assertEqual(
            self.call(self.alice, "PUT", f"/campaign-points/{created['id']}", body).status_code, 403
        )
        out = run(
            "campaign",
            "point",
            str(campaign),
            "--point",
            str(created["id"]),
            "--name",
            "西门采样点",
            "--opens",
            "08:00",
            "--actor",
            "carol",
        )
        self.assertIn("西门采样点", out)
        with scopes_disabled():
            point = SamplingPoint.objects.get(pk=created["id"])
            self.assertEqual((point.name, point.opens_at), ("西门采样点", dt.time(8, 0)))
        with self.assertRaises(CommandError):
            run(
                "campaign",
                "point",
                str(campaign),
                "--name",
                "x",
                "--opens",
                "八点",
                "--actor",
                "carol",
            )

    def test_it_refuses_imports_from_grid_workers_and_bad_mappings(self) -> None:
        data = csv_bytes([row_of(self.zhang, 1)])
        self.assertEqual(self.upload(self.alice, data, "a.csv").status_code, 403)
        response = self.upload(self.carol, data, "a.csv", mapping="[1]")
        self.assertEqual(response.status_code, 400)
        response = self.upload(self.carol, data, "a.csv", mapping='{"phone": "不存在"}')
        self.assertEqual(response.json()["errors"][0]["field"], "phone")
        with scopes_disabled():
            self.assertFalse(SampleRecord.objects.exists())

    def test_it_records_exemptions_reveals_phones_and_makes_tasks(self) -> None:
        campaign = self.round.campaign_id
        response = self.call(
            self.alice,
            "POST",
            f"/campaigns/{campaign}/exemptions",
            {"resident": self.zhang.pk, "reason": "away", "starts_on": "2022-04-01"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        exemption_id = response.json()["id"]
        response = self.call(
            self.alice,
            "POST",
            f"/campaigns/{campaign}/exemptions",
            {"resident": self.li.pk, "reason": "away", "starts_on": "2022-04-01"},
        )
        self.assertEqual(response.status_code, 400)
        response = self.call(
            self.alice,
            "PUT",
            f"/campaign-exemptions/{exemption_id}",
            {"reason": "in_hospital", "starts_on": "2022-04-01", "ends_on": "2022-04-20"},
        )
        self.assertEqual(response.json()["reason"], "in_hospital")
        response = self.call(
            self.alice,
            "POST",
            f"/campaign-rounds/{self.round.pk}/sweep/{self.zeng.pk}/reveal",
            {"reason": "扫楼联系"},
        )
        self.assertEqual(response.json()["phone"], "13912341234")
        response = self.call(self.alice, "POST", f"/campaign-rounds/{self.round.pk}/sweep/tasks")
        self.assertEqual(len(response.json()["created"]), 1)
        response = self.call(self.alice, "POST", f"/campaign-exemptions/{exemption_id}/revoke")
        self.assertFalse(response.json()["active"])
        self.assertEqual(self.call(self.victor, "GET", "/campaigns").status_code, 403)
        far = self.call(self.dave, "GET", f"/campaign-rounds/{self.round.pk}/door-service")
        self.assertEqual(far.status_code, 200)


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


class CommandLineTests(BaseTestCase):
    def test_it_runs_a_round_from_the_command_line(self) -> None:
        run(
            "campaign", "create", "--name", "全员核酸", "--kind", "mass_testing", "--actor", "carol"
        )
        campaign = Campaign.objects.get(name="全员核酸")
        run(
            "campaign", "round-create", str(campaign.pk), "--date", "2022-04-10", "--actor", "carol"
        )
        the_round = campaign.rounds.get()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "导出.csv"
            path.write_bytes(csv_bytes([row_of(self.zhang, 1)], "gbk"))
            out = run("campaign", "import", str(the_round.pk), str(path), "--actor", "carol")
            self.assertIn("按身份证号匹配 1", out)
            out = run("campaign", "import", str(the_round.pk), str(path), "--actor", "carol")
            self.assertIn("新增 0，此前已导入 1", out)
            with self.assertRaises(CommandError):
                run("campaign", "import", str(the_round.pk), str(path), "--actor", "alice")
        out = run("campaign", "sweep", str(the_round.pk), "--actor", "alice")
        self.assertIn("曾小明", out)
        self.assertIn("139****1234", out)
        self.assertNotIn("李秀英", out)
        self.assertNotIn("张建国", out)
        with tempfile.TemporaryDirectory() as folder:
            printed = Path(folder) / "扫楼.pdf"
            run("campaign", "sweep", str(the_round.pk), "--pdf", str(printed), "--actor", "alice")
            text = pdf_text(printed.read_bytes())
        self.assertIn("曾小明", text)
        self.assertNotIn("李秀英", text)  # bob's grid: not on alice's paper either
        run("campaign", "sweep", str(the_round.pk), "--tasks", "--actor", "carol")
        with scopes_disabled():
            self.assertEqual(Task.objects.filter(kind="building_sweep").count(), 3)
        run(
            "campaign",
            "exempt",
            str(campaign.pk),
            str(self.li.pk),
            "--reason",
            "away",
            "--from",
            "2022-04-01",
            "--actor",
            "bob",
        )
        with scopes_disabled():
            exemption = Exemption.objects.get()
        self.assertEqual(exemption.created_by.username, "bob")
        out = run("campaign", "completion", str(the_round.pk), "--by", "grid")
        self.assertIn("应检 3，已采 1，未采 2", out)
        run("campaign", "unexempt", str(exemption.pk), "--actor", "carol")
        self.assertIn("应检 4", run("campaign", "completion", str(the_round.pk)))
        self.assertIn("全员核酸", run("campaign", "list", "--actor", "alice"))
        self.assertIn("（没有记录）", run("campaign", "door-service", str(the_round.pk)))
        with self.assertRaises(CommandError):
            run("campaign", "sweep", "999", "--actor", "alice")
