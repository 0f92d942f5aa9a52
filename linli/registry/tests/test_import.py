"""Importing residents from a spreadsheet (preview, then commit) and exporting the register."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.lib.identity import compose_id_number
from linli.registry import actions, scope, spreadsheets
from linli.registry.choices import CareTag, LivingStatus, Relation
from linli.registry.models import CareTagAssignment, Household, Resident
from linli.test import BaseTestCase

HEADERS = [
    "小区",
    "楼栋",
    "单元",
    "房号",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "手机号",
    "与户主关系",
    "居住状态",
    "重点人群",
    "备注",
]


def person_id(n: int) -> str:
    """A distinct valid ID number for each n (region 310104, none shared with the world)."""
    born = dt.date(1940, 1, 1) + dt.timedelta(days=n // 900)
    return compose_id_number("310104", born, 100 + n % 900)


def bad_check_digit(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("0" if last != "0" else "1")


def person(
    n: int,
    *,
    building: str = "1号楼",
    room: str = "501",
    name: str = "孙悦",
    **columns: object,
) -> list[object]:
    values: dict[str, object] = {
        "小区": "阳光小区",
        "楼栋": building,
        "单元": "1单元",
        "房号": room,
        "姓名": name,
        "性别": "",
        "出生日期": "",
        "身份证号": person_id(n),
        "手机号": f"139{n:08d}",
        "与户主关系": "户主",
        "居住状态": "在住",
        "重点人群": "",
        "备注": "",
    }
    values.update(columns)
    return [values[h] for h in HEADERS]


def xlsx(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_file(rows: list[list[object]], *, encoding: str, headers: list[str] = HEADERS) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


class ImportTestCase(BaseTestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.tmp = Path(folder.name)
        media = override_settings(MEDIA_ROOT=self.tmp / "uploads")
        media.enable()
        self.addCleanup(media.disable)

    def counts(self) -> tuple[int, int, int]:
        with scopes_disabled():
            return (
                Resident.objects.count(),
                Household.objects.count(),
                CareTagAssignment.objects.count(),
            )

    def upload(self, data: bytes, name: str = "居民.xlsx", community: Any = None) -> Any:
        community = community or self.community
        return self.client.post(
            reverse("registry:import_upload"),
            {"community": community.pk, "file": SimpleUploadedFile(name, data)},
        )

    def preview_url(self, data: bytes, name: str = "居民.xlsx") -> str:
        response = self.upload(data, name)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        url: str = response["Location"]
        return url

    def pending_files(self) -> list[Path]:
        folder = self.tmp / "uploads" / "imports"
        return sorted(folder.iterdir()) if folder.exists() else []

    def preview(self, rows: list[list[object]]) -> spreadsheets.ImportReport:
        with scope.activate(scope.Area(communities=[self.community.pk])):
            return spreadsheets.residents_preview(
                community=self.community, data=xlsx(rows), filename="t.xlsx"
            )

    def messages_of(self, report: spreadsheets.ImportReport, line: int) -> list[str]:
        return next(r for r in report.rows if r.line == line).messages


class ImportPageTests(ImportTestCase):
    def test_it_previews_every_row_and_writes_nothing(self) -> None:
        self.login(self.carol)
        before = self.counts()
        url = self.preview_url(
            xlsx(
                [
                    person(1, 重点人群="独居老人、低保"),
                    person(2, 身份证号=bad_check_digit(person_id(2))),
                    person(3, building="7号楼"),
                    person(4, 手机号="14000001234"),
                ]
            )
        )
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn('class="row-ok"', page)
        self.assertIn('class="row-warning"', page)
        self.assertIn('class="row-error"', page)
        self.assertIn("第3行：身份证号：身份证校验位错误", page)
        self.assertIn("第4行：楼栋 7号楼 不存在", page)
        self.assertIn("第5行：手机号号段 140 未收录，请核对", page)
        self.assertIn("导入 2 条有效记录", page)
        self.assertNotIn(person_id(1), page)  # numbers are masked in the preview
        self.assertIn("310104********", page)
        self.assertEqual(self.counts(), before)

    def test_it_imports_only_the_valid_rows_on_confirmation(self) -> None:
        self.login(self.carol)
        before = self.counts()
        url = self.preview_url(
            xlsx(
                [
                    person(1, room="501", 重点人群="独居老人、低保"),
                    person(2, room="501", name="孙小悦", 与户主关系="女儿"),
                    person(3, building="7号楼"),
                    person(4, room="101", name="张小建", 与户主关系="儿子", 手机号=""),
                ]
            )
        )
        response = self.client.post(url, {"action": "commit", "expected": "3"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "导入完成")
        self.assertContains(response, "第4行：楼栋 7号楼 不存在")
        self.assertEqual(self.counts(), (before[0] + 3, before[1] + 1, before[2] + 2))
        with scopes_disabled():
            sun = Resident.objects.get(name="孙悦")
            self.assertEqual(sun.household.address, "阳光小区1号楼1单元501")
            self.assertEqual(sun.household.grid, self.grid1)
            self.assertEqual(sun.id_number, person_id(1))
            self.assertEqual(sun.phone, "13900000001")
            self.assertEqual(sun.created_by, self.carol)
            self.assertEqual(sun.birth_date, dt.date(1940, 1, 1))
            self.assertIn("sunyue", sun.name_search)
            self.assertEqual(
                set(sun.care_tags.values_list("tag", flat=True)),
                {CareTag.LIVES_ALONE, CareTag.DIBAO},
            )
            daughter = Resident.objects.get(name="孙小悦")
            self.assertEqual(daughter.household, sun.household)
            self.assertEqual(daughter.relation, Relation.CHILD)
            son = Resident.objects.get(name="张小建")
            self.assertEqual(son.household, self.zhang.household)  # an existing room is reused
        logged = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Resident),
            object_id__in=[sun.pk, daughter.pk, son.pk],
            action=LogEntry.Action.CREATE,
        )
        self.assertEqual(logged.count(), 3)
        self.assertEqual({e.actor for e in logged}, {self.carol})
        self.assertNotIn(person_id(1), str(logged.get(object_id=sun.pk).changes))
        household_log = LogEntry.objects.get_for_object(sun.household).get()
        self.assertEqual(household_log.actor, self.carol)
        tag_log = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(CareTagAssignment), actor=self.carol
        )
        self.assertEqual(tag_log.count(), 2)
        self.assertEqual(self.pending_files(), [])
        # The token is gone: confirming again imports nothing twice.
        response = self.client.post(url, {"action": "commit", "expected": "3"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.counts(), (before[0] + 3, before[1] + 1, before[2] + 2))

    def test_it_checks_again_at_confirmation_and_refuses_a_changed_preview(self) -> None:
        self.login(self.carol)
        url = self.preview_url(xlsx([person(1), person(2, room="502")]))
        self.assertContains(self.client.get(url), "导入 2 条有效记录")
        # Meanwhile somebody registers the second person by hand.
        with scopes_disabled():
            household = actions.household_create(actor=self.carol, unit=self.unit1, room="888")
            actions.resident_create(
                actor=self.carol,
                household=household,
                values={"name": "孙二", "id_number": person_id(2)},
            )
        before = self.counts()
        response = self.client.post(url, {"action": "commit", "expected": "2"})
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "核对结果已变化", status_code=409)
        self.assertContains(response, "身份证号已登记在其他居民名下", status_code=409)
        self.assertEqual(self.counts(), before)
        response = self.client.post(url, {"action": "commit", "expected": "1"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.counts(), (before[0] + 1, before[1] + 1, before[2]))

    def test_it_cancels_without_writing(self) -> None:
        self.login(self.carol)
        before = self.counts()
        url = self.preview_url(xlsx([person(1)]))
        self.assertEqual(len(self.pending_files()), 2)
        response = self.client.post(url, {"action": "cancel"})
        self.assertRedirects(response, reverse("registry:import_upload"))
        self.assertEqual(self.pending_files(), [])
        self.assertEqual(self.counts(), before)

    def test_it_shows_an_upload_only_to_its_uploader(self) -> None:
        self.login(self.carol)
        url = self.preview_url(xlsx([person(1)]))
        before = self.counts()
        for other in (self.dave, self.root):
            self.login(other)
            self.assertEqual(self.client.get(url).status_code, 404)
            response = self.client.post(url, {"action": "commit", "expected": "1"})
            self.assertEqual(response.status_code, 404)
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.pending_files()), 2)
        self.login(self.carol)
        self.assertEqual(self.client.get(url.rstrip("/") + "x/").status_code, 404)
        self.assertEqual(self.client.get("/import/..%2F..%2Fsecret_key/").status_code, 404)

    def test_it_lets_only_importers_in(self) -> None:
        for user in (self.alice, self.olivia, self.kate, self.victor, self.rita_user, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(reverse("registry:import_upload")).status_code, 403)
            response = self.upload(xlsx([person(1)]))
            self.assertEqual(response.status_code, 403)
            self.assertEqual(self.client.get(reverse("registry:import_template")).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("registry:import_upload")).status_code, 302)
        self.assertEqual(self.pending_files(), [])

    def test_it_imports_only_into_communities_of_the_users_area(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:import_upload"))
        self.assertContains(response, "阳光社区")
        self.assertNotContains(response, "星河社区")
        response = self.upload(xlsx([person(1)]), community=self.community_b)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.pending_files(), [])
        self.login(self.dave)
        response = self.upload(xlsx([person(1)]), community=self.community_far)
        self.assertEqual(response.status_code, 400)
        rows: list[list[object]] = [
            ["星河湾", "1号楼", "1单元", "909", "周星", "", "", person_id(9), "", "", "", "", ""]
        ]
        response = self.upload(xlsx(rows), community=self.community_b)
        self.assertEqual(response.status_code, 302)
        url = response["Location"]
        response = self.client.post(url, {"action": "commit", "expected": "1"})
        self.assertEqual(response.status_code, 200)
        with scopes_disabled():
            self.assertEqual(
                Resident.objects.get(name="周星").household.community, self.community_b
            )

    def test_it_refuses_bad_files_with_a_reason_and_keeps_nothing(self) -> None:
        self.login(self.carol)
        before = self.counts()
        cases = [
            (b"", "x.xlsx", "文件是空的"),
            (b"", "x.csv", "文件是空的"),
            (xlsx([]), "x.xlsx", "只有表头"),
            ("姓名,手机号\n".encode(), "x.csv", "缺少必需的列：楼栋、单元、房号"),
            (xlsx([["a", "b"]], headers=["甲", "乙"]), "x.xlsx", "找不到表头"),
            (b"PK\x03\x04 not really a zip", "x.xlsx", "不是有效的 .xlsx 文件"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "x.xls", "不支持旧版 .xls 格式"),
            (b"hello", "x.txt", "只支持 .xlsx 和 .csv 文件"),
            (b"\xff\xfe\x00\x00\x81\x30", "x.csv", "无法识别 CSV 文件的编码"),
        ]
        for data, name, reason in cases:
            with self.subTest(name=name, reason=reason):
                response = self.upload(data, name)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, reason, status_code=400)
        self.assertEqual(self.pending_files(), [])
        self.assertEqual(self.counts(), before)

    def test_it_refuses_files_over_the_size_and_row_limits(self) -> None:
        self.login(self.carol)
        big = b"x" * (spreadsheets.MAX_BYTES + 1)
        response = self.upload(big, "big.csv")
        self.assertContains(response, "文件超过 10 MB", status_code=400)
        rows = [person(n) for n in range(spreadsheets.MAX_ROWS + 1)]
        response = self.upload(csv_file(rows, encoding="utf-8"), "many.csv")
        self.assertContains(response, "文件超过 20000 行数据", status_code=400)
        self.assertEqual(self.pending_files(), [])

    def test_it_reads_csv_in_gbk_and_utf8_with_or_without_bom(self) -> None:
        self.login(self.carol)
        rows = [person(1, 重点人群="独居老人,残疾"), person(2, building="7号楼")]
        for encoding in ("gbk", "utf-8", "utf-8-sig"):
            with self.subTest(encoding=encoding):
                url = self.preview_url(csv_file(rows, encoding=encoding), f"{encoding}.csv")
                response = self.client.get(url)
                self.assertContains(response, "孙悦")
                self.assertContains(response, "独居老人")
                self.assertContains(response, "第3行：楼栋 7号楼 不存在")
                self.assertContains(response, "导入 1 条有效记录")
                self.client.post(url, {"action": "cancel"})

    def test_it_gives_the_template_with_instructions_and_refuses_the_example_row(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:import_template"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], spreadsheets.XLSX_CONTENT_TYPE)
        self.assertIn("filename*=utf-8''", response["Content-Disposition"])
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        sheet, guide = workbook.worksheets
        self.assertEqual([c.value for c in sheet[1]], HEADERS)
        self.assertEqual(sheet["H2"].data_type, "s")  # the ID number is text
        self.assertIn("独居老人", str([c.value for row in guide.iter_rows() for c in row]))
        url = self.preview_url(response.content)
        self.assertContains(self.client.get(url), "第2行：这是模板中的示例行，请删除后再导入")


class RowCheckTests(ImportTestCase):
    def test_it_reports_bad_check_digits_and_malformed_ids(self) -> None:
        ends_in_x = next(n for n in range(1000, 2000) if person_id(n).endswith("X"))
        report = self.preview(
            [
                person(1, 身份证号=bad_check_digit(person_id(1))),
                person(2, 身份证号="31010419600101"),
                person(3, 身份证号="310104196002300012"),
                person(4, 身份证号=int(person_id(4)[:17] + "0")),
                person(ends_in_x, 身份证号=person_id(ends_in_x).lower()),
            ]
        )
        self.assertEqual(self.messages_of(report, 2), ["第2行：身份证号：身份证校验位错误"])
        self.assertEqual(self.messages_of(report, 3), ["第3行：身份证号：身份证号应为18位"])
        self.assertEqual(self.messages_of(report, 4), ["第4行：身份证号：身份证出生日期无效"])
        self.assertIn("被 Excel 存成了数字", self.messages_of(report, 5)[0])
        self.assertEqual(report.rows[4].status, "ok")

    def test_it_reads_dates_in_the_usual_forms_and_reports_bad_ones(self) -> None:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        report = self.preview(
            [
                person(1, 出生日期=dt.date(1940, 1, 1)),  # an Excel date cell
                person(2, 出生日期="1940-01-01"),
                person(3, 出生日期="1940/1/1"),
                person(4, 出生日期="19400101"),
                person(5, 出生日期="1940年1月1日"),
                person(6, 出生日期="1940-02-30"),
                person(7, 出生日期="去年"),
                person(8, 出生日期="1950-03-07"),
                person(9, 出生日期=tomorrow.isoformat(), 身份证号=""),
                person(10, 出生日期=14611),  # a date cell that lost its date format
                person(11, 出生日期=1940),  # a bare year is not a date
            ]
        )
        for line in (2, 3, 4, 5, 6, 11):
            self.assertEqual(report.rows[line - 2].status, "ok", self.messages_of(report, line))
        self.assertEqual(
            self.messages_of(report, 7),
            ["第7行：出生日期：无法识别“1940-02-30”，请写成 1950-03-07"],
        )
        self.assertEqual(
            self.messages_of(report, 8), ["第8行：出生日期：无法识别“去年”，请写成 1950-03-07"]
        )
        self.assertEqual(self.messages_of(report, 9), ["第9行：出生日期：出生日期与身份证号不一致"])
        self.assertIn("第10行：出生日期：出生日期不能晚于今天", self.messages_of(report, 10))
        self.assertEqual(
            self.messages_of(report, 12), ["第12行：出生日期：无法识别“1940”，请写成 1950-03-07"]
        )

    def test_it_reports_unknown_places_and_finds_short_names(self) -> None:
        report = self.preview(
            [
                person(1, building="7号楼"),
                person(2, 单元="9单元"),
                person(3, 小区="月亮小区"),
                person(4, building="2", 单元="1", room=""),
                person(5, building="2", 单元="1", room="+1"),
                person(6, building=" 2号楼 ", 单元="1", 小区=""),
            ]
        )
        self.assertEqual(self.messages_of(report, 2), ["第2行：楼栋 7号楼 不存在"])
        self.assertEqual(self.messages_of(report, 3), ["第3行：单元 9单元 不存在（1号楼）"])
        self.assertEqual(self.messages_of(report, 4), ["第4行：小区 月亮小区 不存在"])
        self.assertEqual(self.messages_of(report, 5), ["第5行：房号：不能为空"])
        self.assertEqual(self.messages_of(report, 6), ["第6行：房号：房号无效：+1"])
        self.assertEqual(report.rows[5].status, "ok")
        self.assertEqual(report.rows[5].address, "阳光小区2号楼1单元501")

    def test_it_reports_duplicates_in_the_file_and_against_the_database(self) -> None:
        report = self.preview(
            [
                person(1),
                person(2),
                person(1, name="孙悦重复", 手机号="13900000099"),
                person(3, 手机号="13900000002"),
                person(4, 身份证号=self.zhang.id_number),
                person(5, 手机号=self.zhang.phone),
            ]
        )
        self.assertEqual(self.messages_of(report, 2), ["第2行：身份证号：与第4行重复"])
        self.assertEqual(self.messages_of(report, 4), ["第4行：身份证号：与第2行重复"])
        self.assertEqual(self.messages_of(report, 3), ["第3行：手机号：与第5行相同"])
        self.assertEqual(report.rows[1].status, "warning")
        self.assertEqual(
            self.messages_of(report, 6), ["第6行：身份证号：身份证号已登记在其他居民名下"]
        )
        self.assertEqual(
            self.messages_of(report, 7), ["第7行：手机号：已登记在其他居民名下（家人可共用）"]
        )
        self.assertEqual(report.rows[5].status, "warning")
        self.assertEqual(report.valid, 3)

    def test_it_reads_choices_in_chinese_and_reports_unknown_ones(self) -> None:
        report = self.preview(
            [
                person(
                    1, 性别="女", 与户主关系="配偶", 居住状态="住院", 重点人群="五保/特困；血透"
                ),
                person(2, 性别="未知"),
                person(3, 与户主关系="邻居"),
                person(4, 重点人群="独居老人、贫困户"),
                person(5, 居住状态="in_hospital", 与户主关系="spouse"),
            ]
        )
        first = report.rows[0]
        assert first.resident is not None
        self.assertEqual(first.resident.relation, Relation.SPOUSE)
        self.assertEqual(first.resident.living_status, LivingStatus.IN_HOSPITAL)
        self.assertEqual(first.tags, [CareTag.EXTREME_HARDSHIP, CareTag.DIALYSIS])
        # person_id(1) is a man's number: the sex given is kept, with a warning.
        self.assertEqual(
            self.messages_of(report, 2), ["第2行：性别：性别与身份证号不一致（身份证号为男）"]
        )
        self.assertIn("第3行：性别：无法识别“未知”", self.messages_of(report, 3)[0])
        self.assertIn("第4行：与户主关系：无法识别“邻居”", self.messages_of(report, 4)[0])
        self.assertIn("第5行：重点人群：未知的重点人群：贫困户", self.messages_of(report, 5)[0])
        self.assertEqual(report.rows[4].status, "ok")

    def test_it_refuses_formula_cells_and_formula_like_names(self) -> None:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(HEADERS)
        sheet.append(person(1, name='=HYPERLINK("http://x","点我")'))  # openpyxl: a formula
        sheet.append(person(2))
        sheet["H3"] = "=A1"
        output = io.BytesIO()
        workbook.save(output)
        with scope.activate(scope.Area(communities=[self.community.pk])):
            report = spreadsheets.residents_preview(
                community=self.community, data=output.getvalue(), filename="f.xlsx"
            )
        self.assertEqual(
            self.messages_of(report, 2), ["第2行：姓名：单元格含公式，请先“粘贴为数值”再导入"]
        )
        self.assertEqual(
            self.messages_of(report, 3), ["第3行：身份证号：单元格含公式，请先“粘贴为数值”再导入"]
        )
        rows = [person(1, name="=cmd|' /C calc'!A0"), person(2, name="-孙", 备注="=1+1")]
        with scope.activate(scope.Area(communities=[self.community.pk])):
            report = spreadsheets.residents_preview(
                community=self.community, data=csv_file(rows, encoding="utf-8"), filename="f.csv"
            )
        self.assertEqual(self.messages_of(report, 2), ["第2行：姓名：不能以 = + - @ 开头"])
        self.assertEqual(self.messages_of(report, 3), ["第3行：姓名：不能以 = + - @ 开头"])
        self.login(self.carol)
        rows = [person(1, 备注="=1+1")]
        url = self.preview_url(csv_file(rows, encoding="utf-8"), "f.csv")
        self.client.post(url, {"action": "commit", "expected": "1"})
        with scopes_disabled():
            self.assertEqual(Resident.objects.get(name="孙悦").notes, "=1+1")  # text, as typed

    def test_it_finds_the_header_below_a_title_and_takes_english_codes(self) -> None:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["阳光社区居民花名册"])
        sheet.append([])
        sheet.append(["building", "unit", "room", "name", " 手机号码 ", "身份证号*", "籍贯"])
        sheet.append(["1号楼", "1单元", 601, "周一", 13900000601, person_id(601), "浙江"])
        output = io.BytesIO()
        workbook.save(output)
        with scope.activate(scope.Area(communities=[self.community.pk])):
            report = spreadsheets.residents_preview(
                community=self.community, data=output.getvalue(), filename="f.xlsx"
            )
        self.assertEqual(report.rows[0].line, 4)
        self.assertEqual(report.rows[0].status, "ok", report.rows[0].messages)
        self.assertEqual(report.rows[0].phone, "13900000601")
        self.assertEqual(report.rows[0].room, "601")
        self.assertEqual(report.notes, ["以下列不认识，已忽略：籍贯"])


class LargeImportTests(ImportTestCase):
    ROWS = 5000

    def big_file(self) -> bytes:
        rows = []
        buildings = ["1号楼", "2号楼", "3号楼"]
        for n in range(self.ROWS):
            family = n // 2
            rows.append(
                person(
                    n,
                    building=buildings[family % 3],
                    room=str(1000 + family),
                    name=f"居民{n}",
                    重点人群="独居老人" if n % 10 == 0 else "",
                    与户主关系="户主" if n % 2 == 0 else "配偶",
                )
            )
        rows[2500][7] = bad_check_digit(person_id(2500))
        rows[4000][1] = "7号楼"
        return xlsx(rows)

    def test_it_previews_and_imports_5000_rows_all_at_once(self) -> None:
        data = self.big_file()
        self.login(self.carol)
        before = self.counts()
        url = self.preview_url(data)
        response = self.client.get(url)
        self.assertContains(response, "导入 4998 条有效记录")
        self.assertContains(response, "第2502行：身份证号：身份证校验位错误")
        self.assertContains(response, "第4002行：楼栋 7号楼 不存在")
        self.assertEqual(response.content.decode().count('<tr class="row-'), self.ROWS)
        response = self.client.post(url, {"action": "commit", "expected": "4998"})
        self.assertEqual(response.status_code, 200)
        # Rows 2,500 and 4,000 (both tagged) are refused; their family members are not.
        self.assertEqual(self.counts(), (before[0] + 4998, before[1] + 2500, before[2] + 498))
        logged = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Resident), actor=self.carol
        )
        self.assertEqual(logged.count(), 4998)

    def test_it_writes_nothing_when_the_database_refuses_a_row_mid_way(self) -> None:
        data = self.big_file()
        area = scope.Area(communities=[self.community.pk])
        with scope.activate(area):
            report = spreadsheets.residents_preview(
                community=self.community, data=data, filename="big.xlsx"
            )
        self.assertEqual(report.valid, 4998)
        # Between the check and the write, someone registers the person of row 4,000.
        with scopes_disabled():
            household = actions.household_create(actor=self.carol, unit=self.unit1, room="888")
            actions.resident_create(
                actor=self.carol,
                household=household,
                values={"name": "抢先", "id_number": person_id(3998)},
            )
        before = self.counts()
        logs = LogEntry.objects.count()
        with scope.activate(area), self.assertRaises(spreadsheets.ImportRejected) as caught:
            spreadsheets.import_rows(actor=self.carol, community=self.community, report=report)
        self.assertIn("没有写入任何记录", caught.exception.message)
        self.assertEqual(self.counts(), before)
        self.assertEqual(LogEntry.objects.count(), logs)


class ImportCommandTests(ImportTestCase):
    def write(self, name: str, data: bytes) -> str:
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    def test_it_prints_the_report_and_changes_nothing_without_commit(self) -> None:
        path = self.write(
            "居民.csv", csv_file([person(1), person(2, building="7号楼")], encoding="gbk")
        )
        before = self.counts()
        out = self.run_command("import-residents", path, "--community", "yangguang")
        self.assertIn("第2行\t正常\t孙悦\t阳光小区1号楼1单元501", out)
        self.assertIn("第3行：楼栋 7号楼 不存在", out)
        self.assertIn("共 2 行：正常 1，警告 0，错误 1。", out)
        self.assertIn("加 --commit 导入 1 条有效记录", out)
        self.assertEqual(self.counts(), before)

    def test_it_imports_the_valid_rows_with_commit(self) -> None:
        path = self.write(
            "居民.xlsx", xlsx([person(1, 重点人群="低保"), person(2, building="7号楼")])
        )
        before = self.counts()
        out = self.run_command(
            "import-residents", path, "--community", "yangguang", "--commit", "--actor", "carol"
        )
        self.assertIn("已导入 1 位居民，新建 1 户，重点人群标签 1 个；1 行有错误未导入。", out)
        self.assertEqual(self.counts(), (before[0] + 1, before[1] + 1, before[2] + 1))
        with scopes_disabled():
            sun = Resident.objects.get(name="孙悦")
        self.assertEqual(sun.created_by, self.carol)
        self.assertEqual(LogEntry.objects.get_for_object(sun).get().actor, self.carol)
        self.assertEqual(LogEntry.objects.get_for_object(sun.household).get().actor, self.carol)

    def test_it_fails_clearly_on_bad_input(self) -> None:
        before = self.counts()
        empty = self.write("empty.xlsx", b"")
        only_errors = self.write("bad.xlsx", xlsx([person(1, building="7号楼")]))
        cases = [
            (("import-residents", empty, "--community", "yangguang"), "文件是空的"),
            (
                ("import-residents", str(self.tmp / "nope.xlsx"), "--community", "yangguang"),
                "无法读取文件",
            ),
            (
                ("import-residents", only_errors, "--community", "nowhere"),
                "没有编码为 nowhere 的社区",
            ),
            (
                ("import-residents", only_errors, "--community", "yangguang", "--commit"),
                "没有可导入的有效记录",
            ),
            (
                ("import-residents", only_errors, "--community", "yangguang", "--actor", "ghost"),
                "没有用户名为 ghost",
            ),
        ]
        for args, reason in cases:
            with self.subTest(reason=reason), self.assertRaisesMessage(CommandError, reason):
                self.run_command(*args)
        self.assertEqual(self.counts(), before)

    def test_it_exports_the_register_from_the_command_line(self) -> None:
        path = self.tmp / "台账.xlsx"
        out = self.run_command("export-register", str(path), "--community", "yangguang")
        self.assertIn("已导出 1 人", out)
        sheet = openpyxl.load_workbook(path).active
        self.assertEqual(sheet["E2"].value, "张建国")
        self.assertEqual(sheet["I2"].value, self.zhang.masked_id_number)


class RegisterExportTests(ImportTestCase):
    def test_it_exports_the_register_masked_without_health_text(self) -> None:
        with scopes_disabled():
            actions.care_profile_save(
                actor=self.carol,
                resident=self.li,
                care=actions.CareInput(
                    tags=[CareTag.DIALYSIS, CareTag.DIBAO],
                    conditions="尿毒症",
                    ltc_level=4,
                    contacts=[actions.ContactInput("李强", "儿子", "13700001111")],
                ),
            )
        self.login(self.carol)
        response = self.client.get(reverse("registry:register_export"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], spreadsheets.XLSX_CONTENT_TYPE)
        today = timezone.localdate().isoformat()
        self.assertEqual(
            response["Content-Disposition"],
            "attachment; filename*=utf-8''"
            + "%E5%8F%B0%E8%B4%A6-%E9%98%B3%E5%85%89%E7%A4%BE%E5%8C%BA-"
            + today
            + ".xlsx",
        )
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        self.assertEqual(rows[0][:5], ["小区", "楼栋", "单元", "房号", "姓名"])
        self.assertEqual([r[4] for r in rows[1:]], ["张建国", "李秀英"])
        li = rows[2]
        self.assertEqual(li[8], self.li.masked_id_number)
        self.assertEqual(li[9], "137****5678")
        self.assertEqual(li[12], "血透、低保")
        self.assertEqual(li[13], 4)
        self.assertEqual(li[14], "李强（儿子）137****1111")
        text = str(rows)
        for secret in (self.li.id_number, self.li.phone, "13700001111", "尿毒症", "高血压"):
            self.assertNotIn(secret, text)

    def test_it_exports_only_the_users_area_and_filters(self) -> None:
        with scopes_disabled():
            actions.care_tags_set(actor=self.root, resident=self.li, tags=[CareTag.DIBAO])
            actions.care_tags_set(actor=self.root, resident=self.zhao, tags=[CareTag.DIBAO])
        self.login(self.alice)
        sheet = openpyxl.load_workbook(
            io.BytesIO(self.client.get(reverse("registry:register_export")).content)
        ).active
        self.assertEqual([r[4].value for r in sheet.iter_rows(min_row=2)], ["张建国"])
        self.login(self.dave)
        response = self.client.get(reverse("registry:register_export"), {"tag": "dibao"})
        self.assertIn("%E5%85%A8%E9%83%A8", response["Content-Disposition"])  # 全部
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        self.assertEqual(sorted(r[4].value for r in sheet.iter_rows(min_row=2)), ["李秀英", "赵磊"])
        response = self.client.get(reverse("registry:register_export"), {"community": "yuanfang"})
        self.assertEqual(response.status_code, 404)
        for user in (self.kate, self.victor, self.sam, self.rita_user):
            self.login(user)
            self.assertEqual(self.client.get(reverse("registry:register_export")).status_code, 403)

    def test_it_escapes_formulas_in_exported_cells(self) -> None:
        with scopes_disabled():
            household = actions.household_create(actor=self.carol, unit=self.unit1, room="=1+1")
            evil = actions.resident_create(
                actor=self.carol,
                household=household,
                values={"name": '=HYPERLINK("http://x","点")'},
            )
            actions.care_profile_save(
                actor=self.carol,
                resident=evil,
                care=actions.CareInput(
                    tags=[CareTag.DIBAO],
                    contacts=[actions.ContactInput("@SUM(A1)", "-2+3", "13700001111")],
                ),
            )
        self.login(self.carol)
        sheet = openpyxl.load_workbook(
            io.BytesIO(self.client.get(reverse("registry:register_export")).content)
        ).active
        row = next(r for r in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(r[4].value))
        self.assertEqual(row[4].value, '\'=HYPERLINK("http://x","点")')
        self.assertEqual(row[3].value, "'=1+1")
        self.assertEqual(row[14].value, "'@SUM(A1)（-2+3）137****1111")
        for cell in sheet.iter_rows():
            for c in cell:
                self.assertNotEqual(c.data_type, "f")
