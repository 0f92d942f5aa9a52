"""Import and export through the REST API, and the audit records of every import and export."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import QuerySet
from django.test import override_settings
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.registry import actions, spreadsheets
from linli.registry.choices import CareTag
from linli.registry.models import Community, Resident
from linli.registry.tests.test_import import ImportTestCase, person, person_id, xlsx

EXPORT = "/api/v1/register/export.xlsx"


class ImportApiTestCase(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tokens: dict[int, str] = {}
        cache.clear()  # the export rate limit counts in the cache

    def headers(self, user: User | None) -> dict[str, str]:
        if user is None:
            return {}
        if user.pk not in self.tokens:
            self.tokens[user.pk] = ApiToken.issue(user)
        return {"Authorization": f"Bearer {self.tokens[user.pk]}"}

    def upload_api(
        self,
        user: User | None,
        data: bytes,
        name: str = "居民.xlsx",
        community: str = "yangguang",
    ) -> Any:
        return self.client.post(
            "/api/v1/imports",
            {"community": community, "file": SimpleUploadedFile(name, data)},
            headers=self.headers(user),
        )

    def get_api(self, user: User | None, path: str, params: Any = None) -> Any:
        return self.client.get(path, params or {}, headers=self.headers(user))

    def commit(self, user: User | None, token: str, expected: object = None) -> Any:
        path = f"/api/v1/imports/{token}/commit"
        if expected is not None:
            path += f"?expected_valid={expected}"
        return self.client.post(path, headers=self.headers(user))

    def uploaded(self, user: User, rows: list[list[object]]) -> str:
        response = self.upload_api(user, xlsx(rows))
        self.assertEqual(response.status_code, 201, response.content.decode())
        token: str = response.json()["token"]
        return token

    def assert_error(self, response: Any, status: int, **fields: str) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content.decode())
        body: dict[str, Any] = response.json()
        self.assertTrue(body["detail"])
        reasons = {e["field"]: e["message"] for e in body["errors"]}
        for field, text in fields.items():
            self.assertIn(field, reasons, body)
            self.assertIn(text, reasons[field])
        return body

    def community_entries(
        self, community: Community, action: int = LogEntry.Action.ACCESS
    ) -> QuerySet[LogEntry]:
        entries: QuerySet[LogEntry] = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Community),
            object_pk=str(community.pk),
            action=action,
        ).order_by("pk")
        return entries

    def sheet_rows(self, content: bytes) -> list[list[Any]]:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        return [[c.value for c in row] for row in sheet.iter_rows()]


class ImportApiTests(ImportApiTestCase):
    def test_it_reports_every_row_then_commits_only_the_valid_ones(self) -> None:
        before = self.counts()
        response = self.upload_api(
            self.carol,
            xlsx(
                [
                    person(1, room="501", 重点人群="独居老人、低保"),
                    person(2, building="7号楼"),
                    person(3, room="502", name="孙小悦", 手机号="", 身份证号=""),
                ]
            ),
        )
        self.assertEqual(response.status_code, 201, response.content.decode())
        report = response.json()
        self.assertEqual(report["community"], "yangguang")
        self.assertEqual(report["counts"], {"ok": 1, "warning": 1, "error": 1})
        self.assertEqual(report["valid"], 2)
        self.assertEqual(report["new_households"], 2)
        self.assertEqual(
            [(r["line"], r["status"]) for r in report["rows"]],
            [(2, "ok"), (3, "error"), (4, "warning")],
        )
        self.assertIn("第3行：楼栋 7号楼 不存在", report["rows"][1]["messages"])
        self.assertIn("未填身份证号", report["rows"][2]["messages"][0])
        self.assertNotIn(person_id(1), response.content.decode())
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.pending_files()), 2)

        again = self.get_api(self.carol, f"/api/v1/imports/{report['token']}")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), report)
        self.assertEqual(self.counts(), before)

        response = self.commit(self.carol, report["token"], 2)
        self.assertEqual(response.status_code, 200, response.content.decode())
        self.assertEqual(
            response.json(),
            {
                "batch": response.json()["batch"],
                "community": "yangguang",
                "created": {"residents": 2, "households": 2, "tags": 2},
                "skipped": 1,
                "counts": {"ok": 1, "warning": 1, "error": 1},
            },
        )
        self.assertEqual(self.counts(), (before[0] + 2, before[1] + 2, before[2] + 2))
        with scopes_disabled():
            sun = Resident.objects.get(name="孙悦")
            self.assertEqual(sun.import_batch_id, response.json()["batch"])
            self.assertEqual(sun.household.address, "阳光小区1号楼1单元501")
            self.assertEqual(sun.household.grid, self.grid1)
            self.assertEqual(sun.id_number, person_id(1))
            self.assertEqual(sun.created_by, self.carol)
            self.assertEqual(
                set(sun.care_tags.values_list("tag", flat=True)),
                {CareTag.LIVES_ALONE, CareTag.DIBAO},
            )
            daughter = Resident.objects.get(name="孙小悦")
            self.assertEqual(daughter.household.room, "502")
            self.assertEqual(daughter.id_number, "")
        # One entry per row written, and one summary on the community, all by carol.
        per_row = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Resident),
            object_id__in=[sun.pk, daughter.pk],
            action=LogEntry.Action.CREATE,
        )
        self.assertEqual({e.actor for e in per_row}, {self.carol})
        summary = self.community_entries(self.community, LogEntry.Action.UPDATE).get()
        self.assertEqual(summary.actor, self.carol)
        data = summary.additional_data
        self.assertEqual(data["import"], "residents")
        self.assertEqual(
            (data["residents"], data["households"], data["tags"], data["skipped"]), (2, 2, 2, 1)
        )
        self.assertEqual({e.additional_data["batch"] for e in per_row}, {data["batch"]})
        for personal in ("孙悦", person_id(1), "13900000001", "居民.xlsx"):
            self.assertNotIn(personal, str(data))
        self.assertEqual(self.pending_files(), [])

    def test_it_takes_a_token_only_once(self) -> None:
        token = self.uploaded(self.carol, [person(1)])
        before = self.counts()
        self.assertEqual(self.commit(self.carol, token).status_code, 200)
        self.assertEqual(self.counts(), (before[0] + 1, before[1] + 1, before[2]))
        for response in (
            self.commit(self.carol, token),
            self.commit(self.carol, token, 1),
            self.get_api(self.carol, f"/api/v1/imports/{token}"),
        ):
            body = self.assert_error(response, 404)
            self.assertIn("导入记录不存在或已过期", body["detail"])
        self.assertEqual(self.counts(), (before[0] + 1, before[1] + 1, before[2]))
        self.assertEqual(self.community_entries(self.community, LogEntry.Action.UPDATE).count(), 1)

    def test_it_refuses_bad_files_with_a_reason_naming_the_file(self) -> None:
        before = self.counts()
        cases = [
            ("旧表.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "不支持旧版 .xls 格式"),
            ("居民.txt", b"name\n", "只支持 .xlsx 和 .csv 文件"),
            ("空.xlsx", b"", "文件是空的"),
            ("坏.xlsx", b"PK\x03\x04 not a zip", "文件无法打开"),
            ("表头.xlsx", xlsx([["x", "y"]], headers=["甲", "乙"]), "找不到表头"),
            ("只表头.csv", "姓名,楼栋,单元,房号\n".encode(), "没有居民数据"),
            ("缺列.csv", "姓名,楼栋\n孙悦,1号楼\n".encode(), "缺少必需的列：单元、房号"),
        ]
        for name, data, reason in cases:
            with self.subTest(name=name):
                self.assert_error(self.upload_api(self.carol, data, name), 400, file=reason)
        response = self.client.post(
            "/api/v1/imports", {"community": "yangguang"}, headers=self.headers(self.carol)
        )
        self.assert_error(response, 400, file="必填")
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None):
            big = b"x" * (spreadsheets.MAX_BYTES + 1)
            self.assert_error(self.upload_api(self.carol, big, "大.csv"), 400, file="超过 10 MB")
        self.assertEqual(self.pending_files(), [])
        self.assertEqual(self.counts(), before)

    def test_it_shows_and_commits_an_upload_for_its_uploader_only(self) -> None:
        token = self.uploaded(self.carol, [person(1)])
        before = self.counts()
        for other in (self.dave, self.root):
            self.assert_error(self.get_api(other, f"/api/v1/imports/{token}"), 404)
            self.assert_error(self.commit(other, token), 404)
        for bad in ("x", "../../secret_key", token + "x"):
            self.assert_error(self.get_api(self.carol, f"/api/v1/imports/{bad}"), 404)
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.pending_files()), 2)
        self.assertEqual(self.commit(self.carol, token).status_code, 200)

    def test_it_imports_only_into_communities_of_the_users_area(self) -> None:
        for user, code in (
            (self.carol, "xinghe"),
            (self.dave, "yuanfang"),
            (self.carol, "nowhere"),
        ):
            with self.subTest(user=user.username, community=code):
                response = self.upload_api(user, xlsx([person(1)]), community=code)
                body = self.assert_error(response, 404)
                self.assertIn("社区", body["detail"])
        self.assertEqual(self.pending_files(), [])
        # The street admin may import into any community of the street.
        rows: list[list[object]] = [person(1, 小区="星河湾")]
        response = self.upload_api(self.dave, xlsx(rows), community="xinghe")
        self.assertEqual(response.status_code, 201, response.content.decode())
        self.assertEqual(response.json()["counts"]["ok"], 1)

    def test_it_refuses_roles_that_may_not_import(self) -> None:
        token = self.uploaded(self.carol, [person(1)])
        before = self.counts()
        for user in (self.victor, self.alice, self.olivia, self.sam, self.rita_user):
            with self.subTest(user=user.username):
                body = self.assert_error(self.upload_api(user, xlsx([person(2)])), 403)
                self.assertIn("无权导入", body["detail"])
                self.assert_error(self.get_api(user, f"/api/v1/imports/{token}"), 403)
                self.assert_error(self.commit(user, token), 403)
        self.assert_error(self.upload_api(None, xlsx([person(2)])), 401)
        self.assert_error(self.commit(None, token), 401)
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.pending_files()), 2)

    def test_it_checks_again_at_commit_and_refuses_a_changed_report(self) -> None:
        token = self.uploaded(self.carol, [person(1), person(2, room="502")])
        with scopes_disabled():
            household = actions.household_create(actor=self.carol, unit=self.unit1, room="888")
            actions.resident_create(
                actor=self.carol,
                household=household,
                values={"name": "孙二", "id_number": person_id(2)},
            )
        before = self.counts()
        body = self.assert_error(self.commit(self.carol, token, 2), 409)
        self.assertIn("核对结果已变化", body["detail"])
        self.assertEqual(self.counts(), before)
        report = self.get_api(self.carol, f"/api/v1/imports/{token}").json()
        self.assertEqual(report["counts"]["error"], 1)
        self.assert_error(self.commit(self.carol, token, -1), 400, expected_valid="不能小于 0")
        self.assert_error(self.commit(self.carol, token, "x"), 400, expected_valid="应为整数")
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.commit(self.carol, token, 1).status_code, 200)
        self.assertEqual(self.counts(), (before[0] + 1, before[1] + 1, before[2]))

    def test_it_keeps_the_token_when_no_row_is_valid(self) -> None:
        token = self.uploaded(self.carol, [person(1, building="7号楼")])
        before = self.counts()
        entries = LogEntry.objects.count()
        self.assert_error(self.commit(self.carol, token), 400, file="没有可导入的有效记录")
        self.assertEqual(self.counts(), before)
        self.assertEqual(LogEntry.objects.count(), entries)
        self.assertEqual(self.get_api(self.carol, f"/api/v1/imports/{token}").status_code, 200)

    def test_it_documents_the_operations(self) -> None:
        paths = self.client.get("/api/v1/openapi.json").json()["paths"]
        self.assertIn(
            "multipart/form-data", paths["/api/v1/imports"]["post"]["requestBody"]["content"]
        )
        self.assertIn("get", paths["/api/v1/imports/{token}"])
        self.assertIn("post", paths["/api/v1/imports/{token}/commit"])
        export = paths["/api/v1/register/export.xlsx"]["get"]
        self.assertIn(spreadsheets.XLSX_CONTENT_TYPE, export["responses"]["200"]["content"])
        self.assertEqual(
            {p["name"] for p in export["parameters"]}, {"community", "q", "grid", "tag"}
        )


class ExportApiTests(ImportApiTestCase):
    def tag_li(self) -> None:
        with scopes_disabled():
            actions.care_profile_save(
                actor=self.root,
                resident=self.li,
                care=actions.CareInput(
                    tags=[CareTag.DIALYSIS, CareTag.DIBAO],
                    conditions="尿毒症",
                    contacts=[actions.ContactInput("李强", "儿子", "13700001111")],
                ),
            )

    def test_it_exports_the_register_with_masked_numbers_only(self) -> None:
        self.tag_li()
        response = self.get_api(self.carol, EXPORT, {"community": "yangguang"})
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(response["Content-Type"], spreadsheets.XLSX_CONTENT_TYPE)
        self.assertIn("attachment; filename*=utf-8''", response["Content-Disposition"])
        self.assertEqual(response["Cache-Control"], "no-store")
        rows = self.sheet_rows(response.content)
        self.assertEqual(rows[0][:5], ["小区", "楼栋", "单元", "房号", "姓名"])
        self.assertEqual([r[4] for r in rows[1:]], ["张建国", "李秀英"])
        self.assertEqual(
            [r[8] for r in rows[1:]], [self.zhang.masked_id_number, self.li.masked_id_number]
        )
        self.assertEqual([r[9] for r in rows[1:]], ["138****8000", "137****5678"])
        self.assertEqual(rows[2][14], "李强（儿子）137****1111")
        cells = " ".join(str(v) for row in rows for v in row)
        for secret in (
            self.zhang.id_number,
            self.li.id_number,
            self.zhang.phone,
            self.li.phone,
            "13700001111",
            "尿毒症",
            "高血压",
        ):
            self.assertNotIn(secret, cells)
        entry = self.community_entries(self.community).get()
        self.assertEqual(entry.actor, self.carol)
        self.assertEqual(
            entry.additional_data,
            {
                "export": "register",
                "via": "api",
                "rows": 2,
                "total_rows": 2,
                "filters": {"community": "yangguang", "grid": None, "tag": None, "search": False},
                "masked": True,
            },
        )

    def test_it_exports_only_the_users_area_and_filters(self) -> None:
        self.tag_li()
        with scopes_disabled():
            actions.care_tags_set(actor=self.root, resident=self.zhao, tags=[CareTag.DIBAO])
        names = [r[4] for r in self.sheet_rows(self.get_api(self.alice, EXPORT).content)[1:]]
        self.assertEqual(names, ["张建国"])
        response = self.get_api(self.dave, EXPORT, {"tag": "dibao"})
        self.assertIn("%E5%85%A8%E9%83%A8", response["Content-Disposition"])  # 全部
        self.assertEqual(
            sorted(r[4] for r in self.sheet_rows(response.content)[1:]), ["李秀英", "赵磊"]
        )
        response = self.get_api(self.carol, EXPORT, {"grid": self.grid2.pk})
        self.assertEqual([r[4] for r in self.sheet_rows(response.content)[1:]], ["李秀英"])
        response = self.get_api(self.carol, EXPORT, {"q": "zhang"})
        self.assertEqual([r[4] for r in self.sheet_rows(response.content)[1:]], ["张建国"])
        for user, params in (
            (self.carol, {"community": "xinghe"}),
            (self.dave, {"community": "yuanfang"}),
            (self.alice, {"grid": self.grid2.pk}),
        ):
            with self.subTest(user=user.username, params=params):
                self.assert_error(self.get_api(user, EXPORT, params), 404)
        self.assert_error(self.get_api(self.carol, EXPORT, {"tag": "rich"}), 400, tag="取值无效")
        self.assert_error(self.get_api(self.carol, EXPORT, {"grid": "a"}), 400, grid="应为整数")

    def test_it_refuses_the_export_to_roles_without_people(self) -> None:
        entries = LogEntry.objects.count()
        for user in (self.victor, self.kate, self.sam, self.rita_user, self.oscar):
            with self.subTest(user=user.username):
                body = self.assert_error(self.get_api(user, EXPORT), 403)
                self.assertIn("无权导出", body["detail"])
        self.assert_error(self.get_api(None, EXPORT), 401)
        self.assertEqual(LogEntry.objects.count(), entries)

    @override_settings(LINLI_EXPORT_RATE="2/h")
    def test_it_limits_how_often_one_user_exports(self) -> None:
        for _ in range(2):
            self.assertEqual(self.get_api(self.carol, EXPORT).status_code, 200)
        body = self.assert_error(self.get_api(self.carol, EXPORT), 429)
        self.assertIn("操作过于频繁", body["detail"])
        self.assertEqual(self.community_entries(self.community).count(), 2)
        self.assertEqual(self.get_api(self.dave, EXPORT).status_code, 200)


class AuditTests(ImportApiTestCase):
    def test_it_records_every_export_of_the_page_and_the_command(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:register_export"), {"q": "张建国"})
        self.assertEqual(response.status_code, 200)
        page = self.community_entries(self.community).get()
        self.assertEqual(page.actor, self.carol)
        self.assertEqual(page.additional_data["via"], "page")
        self.assertEqual(page.additional_data["rows"], 1)
        self.assertEqual(page.additional_data["filters"]["search"], True)
        self.assertNotIn("张建国", str(page.additional_data))

        path = self.tmp / "台账.xlsx"
        out = io.StringIO()
        call_command(
            "export-register",
            str(path),
            "--community",
            "yangguang",
            "--tag",
            "lives_alone",
            "--actor",
            "carol",
            stdout=out,
        )
        self.assertIn("已导出 1 人", out.getvalue())
        command = self.community_entries(self.community).last()
        assert command is not None
        self.assertEqual(command.actor, self.carol)
        self.assertEqual(command.additional_data["via"], "cli")
        self.assertEqual(
            command.additional_data["filters"], {"community": "yangguang", "tag": "lives_alone"}
        )
        call_command("export-register", str(path), "--community", "xinghe", stdout=out)
        unattended = self.community_entries(self.community_b).get()
        self.assertIsNone(unattended.actor)
        self.assertEqual(unattended.additional_data["rows"], 0)

    def test_it_records_an_export_of_several_communities_on_each(self) -> None:
        with scopes_disabled():
            actions.care_tags_set(actor=self.root, resident=self.zhao, tags=[CareTag.DIBAO])
        self.login(self.dave)
        self.assertEqual(self.client.get(reverse("registry:register_export")).status_code, 200)
        mine = self.community_entries(self.community).get()
        theirs = self.community_entries(self.community_b).get()
        self.assertEqual((mine.actor, theirs.actor), (self.dave, self.dave))
        self.assertEqual((mine.additional_data["rows"], theirs.additional_data["rows"]), (1, 1))
        self.assertEqual(mine.additional_data["total_rows"], 2)
        self.assertFalse(self.community_entries(self.community_far).exists())
        # Nothing on the register anywhere in the area: the record goes on the exporter.
        self.assertEqual(self.get_api(self.dave, EXPORT, {"tag": "pregnant"}).status_code, 200)
        on_user = LogEntry.objects.get_for_object(self.dave).get(action=LogEntry.Action.ACCESS)
        self.assertEqual(on_user.actor, self.dave)
        self.assertEqual(on_user.additional_data["rows"], 0)

    def test_it_records_one_summary_of_each_import_from_the_page_and_the_command(self) -> None:
        self.login(self.carol)
        url = self.preview_url(xlsx([person(1)]))
        self.assertEqual(
            self.client.post(url, {"action": "commit", "expected": "1"}).status_code, 200
        )
        path = self.tmp / "居民.xlsx"
        path.write_bytes(xlsx([person(2, room="502"), person(3, room="503")]))
        call_command(
            "import-residents",
            str(path),
            "--community",
            "yangguang",
            "--commit",
            "--actor",
            "dave",
            stdout=io.StringIO(),
        )
        entries = list(self.community_entries(self.community, LogEntry.Action.UPDATE))
        self.assertEqual([e.actor for e in entries], [self.carol, self.dave])
        self.assertEqual([e.additional_data["residents"] for e in entries], [1, 2])
