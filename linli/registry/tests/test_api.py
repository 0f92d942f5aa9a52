"""The registry's REST API: scoped lists and search, writes through the actions, masked numbers,
the audited reveal, the care profile, places and grids, and JSON errors with field-level reasons.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from linli.accounts.models import ApiToken, User
from linli.lib.identity import compose_id_number
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    Compound,
    EmergencyContact,
    Grid,
    Household,
    Resident,
    Street,
    Unit,
)
from linli.test import BaseTestCase, make_resident


class ApiTestCase(BaseTestCase):
    tokens: dict[int, str]

    def setUp(self) -> None:
        self.tokens = {}

    def call(self, user: User | None, method: str, path: str, body: Any = None) -> Any:
        headers = {}
        if user is not None:
            if user.pk not in self.tokens:
                self.tokens[user.pk] = ApiToken.issue(user)
            headers["Authorization"] = f"Bearer {self.tokens[user.pk]}"
        send = getattr(self.client, method.lower())
        if body is None:
            return send(path, headers=headers)
        data = body if isinstance(body, str) else json.dumps(body)
        return send(path, data=data, content_type="application/json", headers=headers)

    def get(self, user: User | None, path: str) -> Any:
        return self.call(user, "GET", path)

    def names(self, user: User, path: str) -> set[str]:
        response = self.get(user, path)
        self.assertEqual(response.status_code, 200, response.content)
        return {item["name"] for item in response.json()["items"]}

    def assert_error(self, response: Any, status: int, **fields: str) -> None:
        """The response is a JSON error with `status`; each field's reason contains the text."""
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        body = response.json()
        self.assertTrue(body["detail"])
        reasons = {e["field"]: e["message"] for e in body["errors"]}
        for field, text in fields.items():
            self.assertIn(field, reasons, body)
            self.assertIn(text, reasons[field])


class ResidentListTests(ApiTestCase):
    def test_it_shows_a_grid_worker_their_grid_only(self) -> None:
        self.assertEqual(self.names(self.alice, "/api/v1/residents"), {"张建国", "曾小明"})
        self.assertEqual(self.names(self.bob, "/api/v1/residents"), {"李秀英"})

    def test_it_shows_community_staff_the_community_including_no_grid(self) -> None:
        everyone = {"张建国", "曾小明", "李秀英", "王芳"}
        self.assertEqual(self.names(self.carol, "/api/v1/residents"), everyone)
        self.assertEqual(self.names(self.olivia, "/api/v1/residents"), everyone)

    def test_it_shows_the_street_admin_the_street(self) -> None:
        self.assertEqual(
            self.names(self.dave, "/api/v1/residents"),
            {"张建国", "曾小明", "李秀英", "王芳", "赵磊"},
        )
        self.assertEqual(len(self.names(self.root, "/api/v1/residents")), 6)

    def test_it_shows_a_resident_their_own_household_without_staff_notes(self) -> None:
        response = self.get(self.rita_user, "/api/v1/residents")
        self.assertEqual(response.status_code, 200)
        items = response.json()["items"]
        self.assertEqual([i["name"] for i in items], ["曾小明"])
        self.assertIsNone(items[0]["notes"])
        self.assertIsNone(items[0]["care_tags"])
        households = self.get(self.rita_user, "/api/v1/households").json()["items"]
        self.assertEqual([h["id"] for h in households], [self.zeng.household_id])
        self.assertEqual(
            self.get(self.rita_user, f"/api/v1/residents/{self.li.pk}").status_code, 404
        )
        self.assertEqual(self.get(self.rita_user, "/api/v1/buildings").status_code, 403)

    def test_it_refuses_people_and_places_to_roles_without_them(self) -> None:
        for user in (self.victor, self.sam, self.kate, self.oscar):
            for path in (
                "/api/v1/residents",
                "/api/v1/households",
                f"/api/v1/residents/{self.zhang.pk}",
                "/api/v1/streets",
                "/api/v1/communities",
                "/api/v1/compounds",
                "/api/v1/buildings",
                "/api/v1/units",
                "/api/v1/grids",
            ):
                response = self.get(user, path)
                self.assert_error(response, 403)
                self.assertIn("无权", response.json()["detail"])
                self.assertNotIn("张建国", response.content.decode())

    def test_it_finds_by_pinyin_initials_in_every_reading_of_a_surname(self) -> None:
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=zxm"), {"曾小明"})
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=cxm"), {"曾小明"})
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=zengxiaoming"), {"曾小明"})
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=曾"), {"曾小明"})

    def test_it_finds_by_the_last_four_phone_digits_and_by_address(self) -> None:
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=1234"), {"曾小明"})
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=2号楼"), {"李秀英"})
        # Search never reaches outside the area.
        self.assertEqual(self.names(self.alice, "/api/v1/residents?q=2号楼"), set())
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=zl"), set())

    def test_it_filters_by_grid_tag_community_and_household(self) -> None:
        self.assertEqual(
            self.names(self.carol, f"/api/v1/residents?grid={self.grid1.pk}"), {"张建国", "曾小明"}
        )
        self.assertEqual(self.names(self.carol, "/api/v1/residents?tag=lives_alone"), {"张建国"})
        self.assertEqual(self.names(self.carol, "/api/v1/residents?on_register=true"), {"张建国"})
        self.assertEqual(self.names(self.dave, "/api/v1/residents?community=xinghe"), {"赵磊"})
        self.assertEqual(
            self.names(self.carol, f"/api/v1/residents?household={self.li.household_id}"),
            {"李秀英"},
        )

    def test_it_answers_a_filter_outside_the_area_with_404(self) -> None:
        self.assert_error(self.get(self.carol, "/api/v1/residents?community=xinghe"), 404)
        self.assert_error(self.get(self.alice, f"/api/v1/residents?grid={self.grid2.pk}"), 404)
        household = self.li.household_id
        self.assert_error(self.get(self.alice, f"/api/v1/residents?household={household}"), 404)

    def test_it_names_the_bad_query_parameter(self) -> None:
        self.assert_error(
            self.get(self.carol, "/api/v1/residents?tag=rich"), 400, tag="取值无效，可选："
        )
        self.assert_error(self.get(self.carol, "/api/v1/residents?grid=one"), 400, grid="应为整数")
        self.assert_error(
            self.get(self.carol, "/api/v1/residents?limit=500"), 400, limit="不能大于 200"
        )
        self.assert_error(
            self.get(self.carol, "/api/v1/residents?offset=-1"), 400, offset="不能小于 0"
        )

    def test_it_pages_with_limit_and_offset(self) -> None:
        first = self.get(self.carol, "/api/v1/residents?limit=3").json()
        rest = self.get(self.carol, "/api/v1/residents?limit=3&offset=3").json()
        self.assertEqual((first["count"], len(first["items"])), (4, 3))
        self.assertEqual((rest["count"], len(rest["items"])), (4, 1))
        ids = [i["id"] for i in first["items"] + rest["items"]]
        self.assertEqual(len(set(ids)), 4)

    def test_it_lists_with_a_fixed_number_of_queries(self) -> None:
        def count_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                response = self.get(self.carol, "/api/v1/residents?limit=200")
            self.assertEqual(response.status_code, 200)
            return len(queries)

        self.get(self.carol, "/api/v1/me")  # issue the token outside the count
        before = count_queries()
        with scopes_disabled():
            for number in range(5):
                resident = make_resident(self.unit1, f"5{number}1", f"新居民{number}")
                CareTagAssignment.objects.create(resident=resident, tag="dibao")
                CareTagAssignment.objects.create(resident=resident, tag="disabled")
        self.assertEqual(count_queries(), before)

        with CaptureQueriesContext(connection) as queries:
            self.get(self.carol, "/api/v1/households?limit=200")
        households = len(queries)
        with scopes_disabled():
            make_resident(self.unit2, "999", "又一户")
        with CaptureQueriesContext(connection) as queries:
            self.get(self.carol, "/api/v1/households?limit=200")
        self.assertEqual(len(queries), households)


class ResidentPrivacyTests(ApiTestCase):
    def test_it_sends_personal_numbers_only_masked(self) -> None:
        for path in (
            "/api/v1/residents",
            f"/api/v1/residents/{self.zhang.pk}",
            f"/api/v1/households/{self.zhang.household_id}",
            f"/api/v1/residents/{self.zhang.pk}/care",
        ):
            response = self.get(self.carol, path)
            self.assertEqual(response.status_code, 200)
            self.assertNotIn(self.zhang.id_number.encode(), response.content, path)
            self.assertNotIn(self.zhang.phone.encode(), response.content, path)
        detail = self.get(self.carol, f"/api/v1/residents/{self.zhang.pk}").json()
        self.assertEqual(
            detail["id_number_masked"],
            self.zhang.id_number[:6] + "*" * 8 + self.zhang.id_number[-4:],
        )
        self.assertEqual(detail["phone_masked"], "138****8000")
        self.assertNotIn("id_number", detail)
        self.assertNotIn("phone", detail)

    def test_it_reveals_a_number_and_writes_it_to_the_audit_log(self) -> None:
        response = self.call(
            self.carol,
            "POST",
            f"/api/v1/residents/{self.zhang.pk}/reveal",
            {"field": "id_number", "reason": "核对低保申请"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"field": "id_number", "value": self.zhang.id_number})
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(self.zhang.pk))
        self.assertEqual(entry.actor, self.carol)
        self.assertEqual(entry.additional_data, {"field": "id_number", "reason": "核对低保申请"})

        phone = self.call(
            self.olivia,
            "POST",
            f"/api/v1/residents/{self.zhang.pk}/reveal",
            {"field": "phone", "reason": "回拨来电"},
        )
        self.assertEqual(phone.json()["value"], "13812348000")
        self.assertEqual(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count(), 2)

    def test_it_wants_a_reason_and_a_known_field_to_reveal(self) -> None:
        path = f"/api/v1/residents/{self.zhang.pk}/reveal"
        self.assert_error(
            self.call(self.carol, "POST", path, {"field": "id_number", "reason": " "}),
            400,
            reason="请填写查看原因",
        )
        self.assert_error(
            self.call(self.carol, "POST", path, {"field": "notes", "reason": "看看"}),
            400,
            field="取值无效",
        )
        self.assertFalse(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists())

    def test_it_reveals_nothing_outside_the_area(self) -> None:
        body = {"field": "id_number", "reason": "越权"}
        response = self.call(self.alice, "POST", f"/api/v1/residents/{self.li.pk}/reveal", body)
        self.assert_error(response, 404)
        self.assertNotIn(self.li.id_number.encode(), response.content)
        response = self.call(
            self.rita_user, "POST", f"/api/v1/residents/{self.zeng.pk}/reveal", body
        )
        self.assert_error(response, 404)
        response = self.call(self.victor, "POST", f"/api/v1/residents/{self.zeng.pk}/reveal", body)
        self.assert_error(response, 403)
        self.assertFalse(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists())


class ResidentWriteTests(ApiTestCase):
    def new_resident(self, **values: Any) -> dict[str, Any]:
        return {
            "household_id": self.zhang.household_id,
            "name": "周新",
            "id_number": compose_id_number("110101", dt.date(1988, 5, 4), 321),
            "phone": "13800001111",
            "relation": "child",
            **values,
        }

    def test_it_lets_a_grid_worker_add_a_resident_in_their_grid(self) -> None:
        response = self.call(self.alice, "POST", "/api/v1/residents", self.new_resident())
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["phone_masked"], "138****1111")
        self.assertNotIn(b"13800001111", response.content)
        with scopes_disabled():
            resident = Resident.objects.get(pk=body["id"])
        self.assertEqual(resident.name, "周新")
        self.assertEqual(resident.household_id, self.zhang.household_id)
        self.assertEqual(resident.phone, "13800001111")
        self.assertEqual(resident.birth_date, dt.date(1988, 5, 4))
        self.assertEqual(resident.relation, "child")
        self.assertEqual(resident.created_by, self.alice)

    def test_it_keeps_a_grid_worker_out_of_other_grids_households(self) -> None:
        body = self.new_resident(household_id=self.li.household_id)
        self.assert_error(self.call(self.alice, "POST", "/api/v1/residents", body), 404)
        with scopes_disabled():
            self.assertFalse(Resident.objects.filter(name="周新").exists())

    def test_it_gives_field_level_reasons_in_chinese(self) -> None:
        bad_check_digit = self.new_resident()["id_number"][:-1] + "0"
        if bad_check_digit == self.new_resident()["id_number"]:
            bad_check_digit = bad_check_digit[:-1] + "1"
        self.assert_error(
            self.call(
                self.carol,
                "POST",
                "/api/v1/residents",
                self.new_resident(id_number=bad_check_digit),
            ),
            400,
            id_number="校验位",
        )
        self.assert_error(
            self.call(self.carol, "POST", "/api/v1/residents", self.new_resident(phone="12345")),
            400,
            phone="",
        )
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/residents",
            {
                "household_id": "one",
                "birth_date": "1990-13-01",
                "sex": "unknown",
                "nickname": "x",
            },
        )
        self.assert_error(
            response,
            400,
            household_id="应为整数",
            name="必填",
            birth_date="日期格式应为 YYYY-MM-DD",
            sex="取值无效，可选：male、female",
            nickname="不支持的字段",
        )
        with scopes_disabled():
            self.assertFalse(Resident.objects.filter(name="周新").exists())

    def test_it_refuses_a_second_resident_with_the_same_id_number(self) -> None:
        body = self.new_resident(id_number=self.zhao.id_number)
        response = self.call(self.carol, "POST", "/api/v1/residents", body)
        self.assert_error(response, 400, id_number="已登记")
        self.assertNotIn("赵磊", response.content.decode())

    def test_it_answers_a_broken_body_with_400(self) -> None:
        response = self.call(self.carol, "POST", "/api/v1/residents", '{"name": "周新",')
        self.assert_error(response, 400)
        self.assertEqual(response.json()["detail"], "请求体不是有效的 JSON")
        response = self.call(self.carol, "POST", "/api/v1/residents", "[1, 2]")
        self.assert_error(response, 400, __all__="应为 JSON 对象")

    def test_it_updates_only_the_fields_sent(self) -> None:
        response = self.call(
            self.carol,
            "PATCH",
            f"/api/v1/residents/{self.zeng.pk}",
            {"living_status": "in_hospital", "notes": "市一医院"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["living_status_label"], "住院")
        with scopes_disabled():
            zeng = Resident.objects.get(pk=self.zeng.pk)
        self.assertEqual(zeng.living_status, "in_hospital")
        self.assertEqual(zeng.notes, "市一医院")
        self.assertEqual(zeng.name, "曾小明")
        self.assertEqual(zeng.phone, "13912341234")
        self.assertEqual(zeng.updated_by, self.carol)

    def test_it_moves_a_resident_to_another_household(self) -> None:
        response = self.call(
            self.carol,
            "PATCH",
            f"/api/v1/residents/{self.zeng.pk}",
            {"household_id": self.wang.household_id, "relation": "spouse"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            zeng = Resident.objects.get(pk=self.zeng.pk)
        self.assertEqual(zeng.household_id, self.wang.household_id)
        self.assertEqual(zeng.relation, "spouse")

        # A grid worker cannot move someone out of their grid.
        response = self.call(
            self.alice,
            "PATCH",
            f"/api/v1/residents/{self.zhang.pk}",
            {"household_id": self.li.household_id},
        )
        self.assert_error(response, 404)
        with scopes_disabled():
            self.assertEqual(
                Resident.objects.get(pk=self.zhang.pk).household_id, self.zhang.household_id
            )

    def test_it_refuses_writes_to_read_only_roles(self) -> None:
        patch = {"notes": "篡改"}
        for user in (self.olivia, self.dave, self.rita_user, self.victor, self.sam):
            self.assert_error(
                self.call(user, "PATCH", f"/api/v1/residents/{self.zeng.pk}", patch), 403
            )
            self.assert_error(
                self.call(user, "POST", "/api/v1/residents", self.new_resident()), 403
            )
        with scopes_disabled():
            self.assertEqual(Resident.objects.get(pk=self.zeng.pk).notes, "")
            self.assertFalse(Resident.objects.filter(name="周新").exists())

    def test_it_answers_unknown_and_out_of_area_ids_with_404(self) -> None:
        self.assert_error(self.get(self.carol, "/api/v1/residents/999999"), 404)
        response = self.get(self.carol, f"/api/v1/residents/{self.zhao.pk}")
        self.assert_error(response, 404)
        self.assertEqual(response.json()["detail"], "未找到，或不在您的管辖范围内")
        self.assert_error(self.get(self.alice, f"/api/v1/residents/{self.li.pk}"), 404)
        self.assert_error(
            self.call(self.alice, "PATCH", f"/api/v1/residents/{self.li.pk}", {"notes": "x"}), 404
        )
        with scopes_disabled():
            self.assertEqual(Resident.objects.get(pk=self.li.pk).notes, "")


class CareProfileTests(ApiTestCase):
    def test_it_shows_the_register_record_to_people_roles(self) -> None:
        response = self.get(self.alice, f"/api/v1/residents/{self.zhang.pk}/care")
        body = response.json()
        self.assertEqual(body["conditions_masked"], "******")
        self.assertNotIn("高血压", response.content.decode())
        self.assertEqual([t["code"] for t in body["tags"]], ["lives_alone"])
        self.assertTrue(body["on_register"])
        self.assert_error(self.get(self.rita_user, f"/api/v1/residents/{self.zeng.pk}/care"), 404)
        self.assert_error(self.get(self.victor, f"/api/v1/residents/{self.zeng.pk}/care"), 403)
        self.assert_error(self.get(self.bob, f"/api/v1/residents/{self.zhang.pk}/care"), 404)
        detail = self.get(self.rita_user, f"/api/v1/residents/{self.zeng.pk}").content.decode()
        self.assertNotIn("高血压", detail)

    def test_it_saves_tags_conditions_and_contacts(self) -> None:
        response = self.call(
            self.alice,
            "PUT",
            f"/api/v1/residents/{self.zeng.pk}/care",
            {
                "tags": ["dibao", "empty_nest"],
                "conditions": "糖尿病",
                "ltc_level": 3,
                "birthday": "1950-03-07",
                "contacts": [{"name": "曾大", "relation": "儿子", "phone": "13700002222"}],
            },
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(
            body["contacts"], [{"name": "曾大", "relation": "儿子", "phone_masked": "137****2222"}]
        )
        self.assertNotIn(b"13700002222", response.content)
        with scopes_disabled():
            profile = CareProfile.objects.get(resident=self.zeng)
            tags = set(
                CareTagAssignment.objects.filter(resident=self.zeng).values_list("tag", flat=True)
            )
            contact = EmergencyContact.objects.get(resident=self.zeng)
        self.assertEqual(profile.conditions, "糖尿病")
        self.assertEqual(profile.ltc_level, 3)
        self.assertEqual(profile.birthday, dt.date(1950, 3, 7))
        self.assertEqual(profile.updated_by, self.alice)
        self.assertEqual(tags, {"dibao", "empty_nest"})
        self.assertEqual(contact.phone, "13700002222")

        # Sent back as GET showed it, the masked number keeps the number on file.
        again = self.call(
            self.alice,
            "PUT",
            f"/api/v1/residents/{self.zeng.pk}/care",
            {
                "tags": ["dibao"],
                "conditions": "糖尿病",
                "contacts": body["contacts"]
                and [{"name": "曾大", "relation": "儿子", "phone": "137****2222"}],
            },
        )
        self.assertEqual(again.status_code, 200, again.content)
        with scopes_disabled():
            self.assertEqual(EmergencyContact.objects.get(resident=self.zeng).phone, "13700002222")
            self.assertEqual(
                list(
                    CareTagAssignment.objects.filter(resident=self.zeng).values_list(
                        "tag", flat=True
                    )
                ),
                ["dibao"],
            )

    def test_it_names_what_is_wrong_in_a_care_profile(self) -> None:
        path = f"/api/v1/residents/{self.zhang.pk}/care"
        self.assert_error(
            self.call(self.carol, "PUT", path, {"ltc_level": 9}), 400, ltc_level="不能大于 6"
        )
        self.assert_error(
            self.call(self.carol, "PUT", path, {"tags": ["rich"]}), 400, **{"tags.0": "取值无效"}
        )
        self.assert_error(
            self.call(self.carol, "PUT", path, {"contacts": [{"name": "", "phone": "123"}]}),
            400,
            contacts="电话无效",
        )
        self.assert_error(
            self.call(self.carol, "PUT", path, {"birthday": "03/07/1950"}),
            400,
            birthday="YYYY-MM-DD",
        )
        with scopes_disabled():
            self.assertEqual(CareProfile.objects.get(resident=self.zhang).conditions, "高血压")

    def test_it_lets_only_editors_change_the_register(self) -> None:
        path = f"/api/v1/residents/{self.zhang.pk}/care"
        for user in (self.olivia, self.dave, self.rita_user, self.victor):
            self.assert_error(self.call(user, "PUT", path, {"tags": []}), 403)
        self.assert_error(self.call(self.bob, "PUT", path, {"tags": []}), 404)
        with scopes_disabled():
            self.assertTrue(CareTagAssignment.objects.filter(resident=self.zhang).exists())


class HouseholdTests(ApiTestCase):
    def test_it_lists_households_in_the_area(self) -> None:
        alice = self.get(self.alice, "/api/v1/households").json()
        self.assertEqual({h["room"] for h in alice["items"]}, {"101", "102"})
        detail = self.get(self.alice, f"/api/v1/households/{self.zhang.household_id}").json()
        self.assertEqual([r["name"] for r in detail["residents"]], ["张建国"])
        self.assertEqual(detail["resident_count"], 1)
        self.assert_error(self.get(self.alice, f"/api/v1/households/{self.li.household_id}"), 404)

    def test_it_adds_a_household_to_a_unit_in_the_grid(self) -> None:
        response = self.call(
            self.alice, "POST", "/api/v1/households", {"unit_id": self.unit1.pk, "room": "601"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        with scopes_disabled():
            household = Household.objects.get(unit=self.unit1, room="601")
        self.assertEqual(household.grid, self.grid1)
        self.assertEqual(household.address, "阳光小区1号楼1单元601")
        self.assertEqual(response.json()["address"], "阳光小区1号楼1单元601")

        outside = self.call(
            self.alice, "POST", "/api/v1/households", {"unit_id": self.unit2.pk, "room": "601"}
        )
        self.assert_error(outside, 404)
        clash = self.call(
            self.alice, "POST", "/api/v1/households", {"unit_id": self.unit1.pk, "room": "601"}
        )
        self.assert_error(clash, 400, room="已有房号")
        with scopes_disabled():
            self.assertEqual(Household.objects.filter(room="601").count(), 1)

    def test_it_renumbers_a_room(self) -> None:
        path = f"/api/v1/households/{self.zhang.household_id}"
        response = self.call(self.carol, "PATCH", path, {"room": "101A"})
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            household = Household.objects.get(pk=self.zhang.household_id)
        self.assertEqual(household.address, "阳光小区1号楼1单元101A")
        self.assert_error(self.call(self.olivia, "PATCH", path, {"room": "9"}), 403)


class PlaceTests(ApiTestCase):
    def test_it_lists_places_in_the_area(self) -> None:
        self.assertEqual(self.names(self.alice, "/api/v1/buildings"), {"1号楼"})
        self.assertEqual(self.names(self.carol, "/api/v1/buildings"), {"1号楼", "2号楼", "3号楼"})
        self.assertEqual(self.get(self.dave, "/api/v1/buildings").json()["count"], 4)
        self.assertEqual(self.names(self.carol, "/api/v1/compounds"), {"阳光小区"})
        self.assertEqual(self.names(self.dave, "/api/v1/communities"), {"阳光社区", "星河社区"})
        self.assertEqual(self.names(self.carol, "/api/v1/streets"), {"和平街道"})
        self.assertEqual(len(self.names(self.root, "/api/v1/streets")), 2)
        units = self.get(self.carol, f"/api/v1/units?grid={self.grid1.pk}").json()["items"]
        self.assertEqual([u["id"] for u in units], [self.unit1.pk])
        self.assert_error(self.get(self.alice, f"/api/v1/buildings/{self.unit2.building_id}"), 404)
        self.assert_error(
            self.get(self.carol, f"/api/v1/compounds/{self.unit_b.building.compound_id}"), 404
        )

    def test_it_lets_community_staff_add_places_in_their_community(self) -> None:
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/compounds",
            {"community_id": self.community.pk, "name": "朝阳里"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        compound_id = response.json()["id"]
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/buildings",
            {"compound_id": compound_id, "name": "12号楼", "grid_id": self.grid2.pk},
        )
        self.assertEqual(response.status_code, 201, response.content)
        building_id = response.json()["id"]
        response = self.call(
            self.carol, "POST", "/api/v1/units", {"building_id": building_id, "name": "2单元"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["effective_grid_id"], self.grid2.pk)
        with scopes_disabled():
            building = Building.objects.get(pk=building_id)
            self.assertEqual(
                (building.compound.name, building.grid, building.sort_key),
                ("朝阳里", self.grid2, 12),
            )
            self.assertTrue(Unit.objects.filter(building=building, name="2单元").exists())

        elsewhere = self.call(
            self.carol,
            "POST",
            "/api/v1/compounds",
            {"community_id": self.community_b.pk, "name": "越界"},
        )
        self.assert_error(elsewhere, 404)
        clash = self.call(
            self.carol,
            "POST",
            "/api/v1/compounds",
            {"community_id": self.community.pk, "name": "朝阳里"},
        )
        self.assert_error(clash, 400, name="“朝阳里”已被使用")
        foreign_grid = self.call(
            self.dave,
            "POST",
            "/api/v1/buildings",
            {
                "compound_id": self.unit_b.building.compound_id,
                "name": "9号楼",
                "grid_id": self.grid1.pk,
            },
        )
        self.assert_error(foreign_grid, 400, grid_id="不属于本社区")
        with scopes_disabled():
            self.assertFalse(Compound.objects.filter(name="越界").exists())
            self.assertFalse(Building.objects.filter(name="9号楼").exists())

    def test_it_refuses_place_writes_to_other_roles(self) -> None:
        body = {"community_id": self.community.pk, "name": "越权小区"}
        for user in (self.alice, self.olivia, self.rita_user, self.victor):
            self.assert_error(self.call(user, "POST", "/api/v1/compounds", body), 403)
        self.assert_error(
            self.call(self.carol, "POST", "/api/v1/streets", {"name": "新街道", "code": "xin"}), 403
        )
        self.assert_error(
            self.call(self.dave, "POST", "/api/v1/streets", {"name": "新街道", "code": "xin"}), 403
        )
        self.assert_error(
            self.call(
                self.carol,
                "POST",
                "/api/v1/communities",
                {"street_id": self.street.pk, "name": "新社区", "code": "xin"},
            ),
            403,
        )
        with scopes_disabled():
            self.assertFalse(Compound.objects.filter(name="越权小区").exists())
            self.assertFalse(Street.objects.filter(code="xin").exists())
            self.assertFalse(Community.objects.filter(code="xin").exists())

    def test_it_lets_the_street_and_root_shape_streets_and_communities(self) -> None:
        response = self.call(
            self.root, "POST", "/api/v1/streets", {"name": "新华街道", "code": "xinhua"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(Street.objects.filter(code="xinhua", name="新华街道").exists())
        self.assert_error(
            self.call(self.root, "POST", "/api/v1/streets", {"name": "重复", "code": "xinhua"}),
            400,
            code="",
        )
        self.assert_error(
            self.call(self.root, "POST", "/api/v1/streets", {"name": "坏编码", "code": "新 华"}),
            400,
            code="",
        )

        response = self.call(
            self.dave, "PATCH", f"/api/v1/streets/{self.street.pk}", {"name": "和平街道办事处"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(Street.objects.get(pk=self.street.pk).name, "和平街道办事处")
        far_street = self.community_far.street_id
        self.assert_error(
            self.call(self.dave, "PATCH", f"/api/v1/streets/{far_street}", {"name": "x"}), 404
        )
        self.assert_error(
            self.call(self.carol, "PATCH", f"/api/v1/streets/{self.street.pk}", {"name": "x"}), 403
        )

        response = self.call(
            self.dave,
            "POST",
            "/api/v1/communities",
            {"street_id": self.street.pk, "name": "新月社区", "code": "xinyue"},
        )
        self.assertEqual(response.status_code, 201, response.content)
        clash = self.call(
            self.dave,
            "POST",
            "/api/v1/communities",
            {"street_id": self.street.pk, "name": "同编码", "code": "yuanfang"},
        )
        self.assert_error(clash, 400, code="")
        outside = self.call(
            self.dave,
            "POST",
            "/api/v1/communities",
            {"street_id": far_street, "name": "越界", "code": "yuejie"},
        )
        self.assert_error(outside, 404)
        with scopes_disabled():
            self.assertEqual(Community.objects.get(code="xinyue").street, self.street)
            self.assertFalse(Community.objects.filter(code="yuejie").exists())

        response = self.call(
            self.carol,
            "PATCH",
            f"/api/v1/communities/{self.community.pk}",
            {"name": "阳光社区居委会"},
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assert_error(
            self.call(
                self.carol, "PATCH", f"/api/v1/communities/{self.community_b.pk}", {"name": "x"}
            ),
            404,
        )
        with scopes_disabled():
            self.assertEqual(Community.objects.get(pk=self.community.pk).name, "阳光社区居委会")
            self.assertEqual(Community.objects.get(pk=self.community_b.pk).name, "星河社区")

    def test_it_rewrites_addresses_when_a_building_is_renamed(self) -> None:
        building = self.unit1.building_id
        response = self.call(
            self.carol, "PATCH", f"/api/v1/buildings/{building}", {"name": "一号楼"}
        )
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            self.assertEqual(
                Household.objects.get(pk=self.zhang.household_id).address, "阳光小区一号楼1单元101"
            )
            self.assertEqual(
                Household.objects.get(pk=self.li.household_id).address, "阳光小区2号楼1单元201"
            )
            self.assertEqual(Building.objects.get(pk=building).grid, self.grid1)
        self.assertEqual(self.names(self.carol, "/api/v1/residents?q=一号楼"), {"张建国", "曾小明"})

        compound = self.unit1.building.compound_id
        self.call(self.carol, "PATCH", f"/api/v1/compounds/{compound}", {"name": "阳光花园"})
        with scopes_disabled():
            self.assertEqual(
                Household.objects.get(pk=self.li.household_id).address, "阳光花园2号楼1单元201"
            )

    def test_it_moves_households_when_a_building_changes_grid(self) -> None:
        building = self.unit_nogrid.building_id
        response = self.call(
            self.carol, "PATCH", f"/api/v1/buildings/{building}", {"grid_id": self.grid2.pk}
        )
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, self.grid2)
        self.assertEqual(self.names(self.bob, "/api/v1/residents"), {"李秀英", "王芳"})

        self.call(
            self.carol, "PATCH", f"/api/v1/units/{self.unit_nogrid.pk}", {"grid_id": self.grid1.pk}
        )
        with scopes_disabled():
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, self.grid1)
        self.call(self.carol, "PATCH", f"/api/v1/buildings/{building}", {"grid_id": None})
        with scopes_disabled():
            self.assertIsNone(Building.objects.get(pk=building).grid)
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, self.grid1)


class GridTests(ApiTestCase):
    def test_it_lists_grids_with_their_workers_and_coverage(self) -> None:
        grids = self.get(self.carol, "/api/v1/grids").json()["items"]
        self.assertEqual([g["code"] for g in grids], ["g1", "g2"])
        self.assertEqual([w["username"] for w in grids[0]["workers"]], ["alice"])
        self.assertEqual(grids[0]["building_ids"], [self.unit1.building_id])
        self.assertEqual(
            [g["code"] for g in self.get(self.alice, "/api/v1/grids").json()["items"]], ["g1"]
        )

    def test_it_sets_coverage_and_workers_of_a_grid(self) -> None:
        response = self.call(
            self.carol,
            "PATCH",
            f"/api/v1/grids/{self.grid1.pk}",
            {
                "building_ids": [self.unit_nogrid.building_id],
                "worker_ids": [self.alice.pk, self.bob.pk],
            },
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["building_ids"], [self.unit_nogrid.building_id])
        with scopes_disabled():
            self.assertIsNone(Building.objects.get(pk=self.unit1.building_id).grid)
            self.assertEqual(Building.objects.get(pk=self.unit_nogrid.building_id).grid, self.grid1)
            self.assertIsNone(Household.objects.get(pk=self.zhang.household_id).grid)
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, self.grid1)
            self.assertEqual(
                set(Grid.objects.get(pk=self.grid1.pk).workers.all()), {self.alice, self.bob}
            )
        self.assertEqual(self.names(self.alice, "/api/v1/residents"), {"王芳"})

    def test_it_creates_a_grid(self) -> None:
        response = self.call(
            self.carol,
            "POST",
            "/api/v1/grids",
            {
                "community_id": self.community.pk,
                "name": "第三网格",
                "code": "g3",
                "unit_ids": [self.unit_nogrid.pk],
            },
        )
        self.assertEqual(response.status_code, 201, response.content)
        with scopes_disabled():
            grid = Grid.objects.get(community=self.community, code="g3")
            self.assertEqual(Unit.objects.get(pk=self.unit_nogrid.pk).grid, grid)
            self.assertEqual(Household.objects.get(pk=self.wang.household_id).grid, grid)

    def test_it_checks_what_a_grid_is_given(self) -> None:
        path = f"/api/v1/grids/{self.grid1.pk}"
        self.assert_error(
            self.call(self.carol, "PATCH", path, {"code": "g2"}), 400, code="已被使用"
        )
        self.assert_error(
            self.call(self.carol, "PATCH", path, {"worker_ids": [self.victor.pk]}),
            400,
            worker_ids="不是本社区的网格员",
        )
        self.assert_error(
            self.call(self.carol, "PATCH", path, {"building_ids": [self.unit_b.building_id]}),
            400,
            building_ids="不属于本社区",
        )
        self.assert_error(
            self.call(self.carol, "PATCH", path, {"unit_ids": ["x"]}),
            400,
            **{"unit_ids.0": "应为整数"},
        )
        self.assert_error(self.call(self.alice, "PATCH", path, {"name": "我的网格"}), 403)
        self.assert_error(
            self.call(
                self.carol,
                "POST",
                "/api/v1/grids",
                {"community_id": self.community_b.pk, "name": "x", "code": "x"},
            ),
            404,
        )
        with scopes_disabled():
            grid = Grid.objects.get(pk=self.grid1.pk)
            self.assertEqual((grid.code, grid.name), ("g1", "第一网格"))
            self.assertEqual(list(grid.workers.all()), [self.alice])
            self.assertEqual(Building.objects.get(pk=self.unit_b.building_id).grid, None)


class OpenApiTests(ApiTestCase):
    def test_it_publishes_an_openapi_document_of_every_path(self) -> None:
        response = self.client.get("/api/v1/openapi.json")
        self.assertEqual(response.status_code, 200)
        document = json.loads(response.content)
        self.assertTrue(document["openapi"].startswith("3."))
        self.assertEqual(document["info"]["title"], "邻里 Linli API")
        paths = document["paths"]
        for path, method in (
            ("/api/v1/auth/token", "post"),
            ("/api/v1/auth/token", "delete"),
            ("/api/v1/me", "get"),
            ("/api/v1/streets", "get"),
            ("/api/v1/communities/{community_id}", "patch"),
            ("/api/v1/compounds", "post"),
            ("/api/v1/buildings/{building_id}", "get"),
            ("/api/v1/units", "get"),
            ("/api/v1/grids/{grid_id}", "patch"),
            ("/api/v1/households", "post"),
            ("/api/v1/residents", "get"),
            ("/api/v1/residents/{resident_id}", "patch"),
            ("/api/v1/residents/{resident_id}/reveal", "post"),
            ("/api/v1/residents/{resident_id}/care", "put"),
        ):
            self.assertIn(method, paths.get(path, {}), path)
        references = set(
            re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', response.content.decode())
        )
        self.assertTrue(references)
        self.assertLessEqual(references, set(document["components"]["schemas"]))
        operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
        self.assertEqual(len(operation_ids), len(set(operation_ids)))
        schemes = document["components"]["securitySchemes"]
        self.assertIn({"type": "http", "scheme": "bearer"}, schemes.values())
        resident = document["components"]["schemas"]["ResidentOut"]["properties"]
        self.assertIn("id_number_masked", resident)
        self.assertNotIn("id_number", resident)

    def test_it_serves_no_docs_page_that_would_load_from_a_cdn(self) -> None:
        response = self.client.get("/api/v1/docs")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response["Content-Type"], "application/json")


class SearchRateLimitTests(ApiTestCase):
    def test_it_answers_429_in_chinese_past_the_search_rate(self) -> None:
        from django.core.cache import cache
        from django.test import override_settings

        cache.clear()
        with override_settings(LINLI_SEARCH_RATE="2/m"):
            for _ in range(2):
                self.assertEqual(self.get(self.alice, "/api/v1/residents?q=zxm").status_code, 200)
            response = self.get(self.alice, "/api/v1/residents?q=zxm")
            self.assertEqual(response.status_code, 429)
            self.assertIn("操作过于频繁", response.json()["detail"])
            self.assertNotIn("曾小明", response.content.decode())
            self.assertEqual(self.get(self.carol, "/api/v1/residents?q=zxm").status_code, 200)
        cache.clear()


class ConditionsRevealTests(ApiTestCase):
    def test_it_reveals_health_text_only_on_purpose_and_audits_it(self) -> None:
        from auditlog.models import LogEntry

        url = f"/api/v1/residents/{self.zhang.pk}/reveal"
        response = self.call(self.alice, "POST", url, {"field": "conditions", "reason": "送药核对"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["value"], "高血压")
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.additional_data["field"], "conditions")

    def test_it_keeps_the_health_text_when_an_update_leaves_it_out(self) -> None:
        url = f"/api/v1/residents/{self.zhang.pk}/care"
        response = self.call(self.alice, "PUT", url, {"tags": ["lives_alone"], "hobbies": "下棋"})
        self.assertEqual(response.status_code, 200, response.content)
        with scopes_disabled():
            profile = CareProfile.objects.get(resident=self.zhang)
        self.assertEqual(profile.conditions, "高血压")
        self.assertEqual(profile.hobbies, "下棋")
