"""The campaign pages as each persona sees them: scope, imports, live completion, the sweep
list with its audited reveal and PDF, exemptions, tasks."""

from __future__ import annotations

import datetime as dt

from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.campaigns import actions
from linli.campaigns.models import Campaign, CampaignRound, Exemption, SampleImport, SampleRecord
from linli.campaigns.tests.helpers import csv_bytes, make_round, row_of
from linli.test import BaseTestCase, pdf_text
from linli.workforce.models import Task

DAY = dt.date(2022, 4, 10)


class PagesTestCase(BaseTestCase):
    round: CampaignRound
    far_round: CampaignRound

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.round = make_round(cls.carol, cls.community, DAY)
            actions.records_import(
                actor=cls.carol,
                round=cls.round,
                data=csv_bytes([row_of(cls.zeng, 1)]),
                filename="first.csv",
            )
            far = actions.campaign_create(
                actor=cls.root,
                street=cls.community_far.street,
                community=cls.community_far,
                name="远方普查",
                kind="census",
            )
            cls.far_round = actions.round_create(actor=cls.root, campaign=far, date=DAY)

    def url(self, name: str, *args: object) -> str:
        return reverse(f"campaigns:{name}", args=args)


class ScopeTests(PagesTestCase):
    def test_it_shows_each_grid_worker_only_their_grids_missing(self) -> None:
        self.login(self.alice)
        page = self.client.get(self.url("sweep", self.round.pk))
        self.assertContains(page, "张建国")
        self.assertNotContains(page, "曾小明")  # reached
        self.assertNotContains(page, "李秀英")  # bob's grid
        self.assertNotContains(page, "138****8000" + "x")
        self.assertContains(page, "138****8000")
        self.assertNotContains(page, "13812348000")
        self.login(self.bob)
        page = self.client.get(self.url("sweep", self.round.pk))
        self.assertContains(page, "李秀英")
        self.assertNotContains(page, "张建国")

    def test_it_shows_staff_and_the_street_admin_the_whole_community(self) -> None:
        for user in (self.carol, self.dave):
            self.login(user)
            page = self.client.get(self.url("sweep", self.round.pk))
            for name in ("张建国", "李秀英", "王芳"):
                self.assertContains(page, name)

    def test_it_answers_404_outside_the_area_and_403_to_roles_that_may_not(self) -> None:
        self.login(self.carol)
        self.assertEqual(
            self.client.get(self.url("round_detail", self.far_round.pk)).status_code, 404
        )
        self.assertEqual(self.client.get(self.url("sweep", self.far_round.pk)).status_code, 404)
        for user in (self.victor, self.sam, self.rita_user, self.kate, self.oscar):
            self.login(user)
            self.assertEqual(
                self.client.get(self.url("round_detail", self.round.pk)).status_code, 403
            )
        self.login(self.alice)
        upload = SimpleUploadedFile("a.csv", csv_bytes([row_of(self.zhang, 1)]))
        response = self.client.post(self.url("round_import", self.round.pk), {"file": upload})
        self.assertEqual(response.status_code, 403)
        with scopes_disabled():
            self.assertEqual(SampleRecord.objects.count(), 1)

    def test_it_reveals_a_phone_on_the_sweep_list_and_audits_it(self) -> None:
        self.login(self.alice)
        path = self.url("sweep_reveal", self.round.pk, self.zhang.pk)
        response = self.client.post(path, {"reason": "扫楼联系"}, headers={"HX-Request": "true"})
        self.assertContains(response, "13812348000")
        entry = LogEntry.objects.get(object_pk=str(self.zhang.pk), action=LogEntry.Action.ACCESS)
        self.assertEqual((entry.actor, entry.additional_data["field"]), (self.alice, "phone"))
        self.assertEqual(self.client.post(path, {"reason": ""}).status_code, 400)
        other = self.url("sweep_reveal", self.round.pk, self.li.pk)
        self.assertEqual(self.client.post(other, {"reason": "扫楼联系"}).status_code, 404)


class RoundPageTests(PagesTestCase):
    def test_it_imports_a_gbk_file_from_the_page_and_shows_the_report(self) -> None:
        self.login(self.carol)
        visitor = ["2", "访客甲", "440103199005010011", "18600000000", "", "", ""]
        upload = SimpleUploadedFile("导出.csv", csv_bytes([row_of(self.zhang, 1), visitor], "gbk"))
        response = self.client.post(self.url("round_import", self.round.pk), {"file": upload})
        batch = SampleImport.objects.latest("pk")
        self.assertRedirects(response, self.url("import_detail", batch.pk))
        self.assertEqual((batch.encoding, batch.matched_id, batch.unmatched), ("GBK", 1, 1))
        report = self.client.get(self.url("import_detail", batch.pk))
        self.assertContains(report, "访客甲")
        self.assertContains(report, "辖区内无此人")

    def test_it_asks_for_the_column_when_it_cannot_find_one(self) -> None:
        self.login(self.carol)
        upload = SimpleUploadedFile("a.csv", "编号,名\n1,张建国\n".encode())
        response = self.client.post(self.url("round_import", self.round.pk), {"file": upload})
        self.assertContains(response, "找不到身份证号列或姓名列", status_code=400)
        upload = SimpleUploadedFile("a.csv", "编号,名\n1,张建国\n".encode())
        response = self.client.post(
            self.url("round_import", self.round.pk), {"file": upload, "map_name": "名"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(
            Campaign.objects.get(pk=self.round.campaign_id).column_mapping, {"name": "名"}
        )

    def test_it_shows_completion_and_refreshes_it_by_htmx(self) -> None:
        self.login(self.carol)
        page = self.client.get(self.url("round_detail", self.round.pk))
        self.assertContains(page, 'hx-trigger="every 30s"')
        self.assertContains(page, "阳光小区1号楼")
        partial = self.client.get(self.url("round_completion", self.round.pk) + "?by=grid")
        self.assertContains(partial, "第一网格")
        self.assertContains(partial, "50.0%")  # grid 1: 张建国 missing, 曾小明 reached
        self.assertNotContains(partial, "<html")

    def test_it_prints_the_sweep_list(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url("sweep_pdf", self.round.pk))
        self.assertEqual(response["Content-Type"], "application/pdf")
        text = pdf_text(response.content)
        self.assertIn("张建国", text)
        self.assertNotIn("李秀英", text)

    def test_it_records_and_revokes_an_exemption_from_the_pages(self) -> None:
        self.login(self.alice)
        path = self.url("exemption_new", self.round.campaign_id) + f"?resident={self.zhang.pk}"
        self.assertContains(self.client.get(path), "张建国")
        response = self.client.post(
            self.url("exemption_new", self.round.campaign_id),
            {"resident": self.zhang.pk, "reason": "away", "starts_on": "2022-04-01"},
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            exemption = Exemption.objects.get()
        self.assertEqual((exemption.created_by, exemption.reason), (self.alice, "away"))
        row = f'id="missing-{self.zhang.pk}"'
        self.assertNotContains(self.client.get(self.url("sweep", self.round.pk)), row)
        response = self.client.post(
            self.url("exemption_new", self.round.campaign_id),
            {"resident": self.li.pk, "reason": "away", "starts_on": "2022-04-01"},
        )
        self.assertEqual(response.status_code, 404)  # bob's grid
        self.client.post(self.url("exemption_revoke", exemption.pk))
        exemption.refresh_from_db()
        self.assertIsNotNone(exemption.revoked_at)
        self.assertContains(self.client.get(self.url("sweep", self.round.pk)), row)

    def test_it_posts_sweep_tasks_from_the_round_page(self) -> None:
        self.login(self.alice)
        self.client.post(self.url("sweep_tasks", self.round.pk))
        with scopes_disabled():
            titles = list(Task.objects.values_list("title", flat=True))
        self.assertEqual(len(titles), 1)  # alice: only her grid's building
        self.assertIn("阳光小区1号楼", titles[0])

    def test_it_creates_a_campaign_and_a_round_from_the_pages(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            self.url("campaign_create"),
            {"name": "疫苗加强针", "kind": "vaccination", "community": self.community.pk},
        )
        campaign = Campaign.objects.get(name="疫苗加强针")
        self.assertRedirects(response, self.url("campaign_detail", campaign.pk))
        response = self.client.post(
            self.url("round_create", campaign.pk),
            {"date": "2022-05-01", "opens_at": "08:00", "closes_at": "07:00"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(campaign.rounds.exists())
        response = self.client.post(
            self.url("point_create", campaign.pk),
            {
                "name": "1号采样点",
                "opens_at": "07:30",
                "closes_at": "11:30",
                "buildings": [self.unit1.building_id],
            },
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            buildings = list(campaign.points.get().buildings.all())
        self.assertEqual(buildings, [self.unit1.building])


class PointPageTests(PagesTestCase):
    def test_it_corrects_a_sampling_point_and_refuses_bad_hours(self) -> None:
        building = self.zhang.household.unit.building
        with scopes_disabled():
            point = actions.point_save(
                actor=self.carol, campaign=self.round.campaign, name="1号采样点", buildings=[]
            )
        self.login(self.carol)
        page = self.client.get(self.url("campaign_detail", self.round.campaign_id))
        self.assertContains(page, self.url("point_edit", point.pk))
        form = self.client.get(self.url("point_edit", point.pk))
        self.assertContains(form, 'value="1号采样点"')
        response = self.client.post(
            self.url("point_edit", point.pk),
            {
                "name": "小区东门采样点",
                "location": "东门停车场",
                "opens_at": "07:00",
                "closes_at": "12:00",
                "buildings": [building.pk],
            },
        )
        self.assertRedirects(response, self.url("campaign_detail", self.round.campaign_id))
        with scopes_disabled():
            point.refresh_from_db()
            self.assertEqual((point.name, point.location), ("小区东门采样点", "东门停车场"))
            self.assertEqual(list(point.buildings.all()), [building])
        refused = self.client.post(
            self.url("point_edit", point.pk),
            {"name": "改错了", "opens_at": "12:00", "closes_at": "07:00"},
        )
        self.assertContains(refused, "关闭时间必须晚于开放时间", status_code=400)
        with scopes_disabled():
            point.refresh_from_db()
            self.assertEqual(point.name, "小区东门采样点")
        # A grid worker may not; another street's admin does not even find it.
        self.login(self.alice)
        self.assertEqual(self.client.get(self.url("point_edit", point.pk)).status_code, 403)
