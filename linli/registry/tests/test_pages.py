"""The registry's pages through the real stack: search, detail, reveal, edit, drill-down."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.registry.models import (
    CareProfile,
    CareTagAssignment,
    EmergencyContact,
    Household,
    Resident,
)
from linli.test import BaseTestCase


class ResidentListTests(BaseTestCase):
    def test_it_finds_by_pinyin_initials_for_every_reading(self) -> None:
        self.login(self.alice)
        for query in ("zxm", "cxm", "zengxiaoming", "cengxiaoming", "曾小"):
            response = self.client.get(reverse("registry:resident_list"), {"q": query})
            self.assertContains(response, "曾小明", msg_prefix=query)
            self.assertNotContains(response, "张建国", msg_prefix=query)

    def test_it_finds_by_phone_tail_and_address(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:resident_list"), {"q": "8000"})
        self.assertContains(response, "张建国")
        self.assertNotContains(response, "李秀英")
        response = self.client.get(reverse("registry:resident_list"), {"q": "2号楼"})
        self.assertContains(response, "李秀英")
        self.assertNotContains(response, "张建国")

    def test_it_shows_a_grid_worker_only_their_grid(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_list"))
        self.assertContains(response, "张建国")
        self.assertNotContains(response, "李秀英")
        self.assertNotContains(response, "王芳")  # no grid: community level only
        self.assertNotContains(response, "赵磊")

    def test_it_shows_community_staff_the_ungridded_too(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:resident_list"))
        for name in ("张建国", "李秀英", "王芳"):
            self.assertContains(response, name)
        self.assertNotContains(response, "赵磊")

    def test_it_filters_by_care_tag(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("registry:resident_list"), {"tag": "lives_alone"})
        self.assertContains(response, "张建国")
        self.assertNotContains(response, "曾小明")

    def test_it_masks_phones_in_the_list(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_list"))
        self.assertContains(response, "138****8000")
        self.assertNotContains(response, "13812348000")

    def test_it_returns_only_rows_to_htmx(self) -> None:
        self.login(self.alice)
        response = self.client.get(
            reverse("registry:resident_list"), {"q": "zxm"}, headers={"HX-Request": "true"}
        )
        self.assertContains(response, "曾小明")
        self.assertNotContains(response, "<html")

    def test_it_refuses_volunteers_and_suppliers(self) -> None:
        for user in (self.victor, self.sam, self.kate, self.oscar):
            self.login(user)
            response = self.client.get(reverse("registry:resident_list"))
            self.assertEqual(response.status_code, 403, user.username)


class ResidentDetailTests(BaseTestCase):
    def test_it_shows_masked_numbers(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_detail", args=[self.zhang.pk]))
        self.assertContains(response, self.zhang.masked_id_number)
        self.assertNotContains(response, self.zhang.id_number)
        self.assertNotContains(response, "13812348000")

    def test_it_refuses_a_resident_of_another_grid(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:resident_detail", args=[self.li.pk]))
        self.assertEqual(response.status_code, 404)

    def test_it_reveals_with_a_reason_and_audits_it(self) -> None:
        self.login(self.alice)
        url = reverse("registry:resident_reveal", args=[self.zhang.pk])
        response = self.client.post(url, {"field": "id_number", "reason": "核对配药信息"})
        self.assertContains(response, self.zhang.id_number)
        entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.object_pk, str(self.zhang.pk))
        self.assertEqual(entry.additional_data["reason"], "核对配药信息")
        self.assertEqual(entry.additional_data["field"], "id_number")

    def test_it_refuses_to_reveal_without_a_reason(self) -> None:
        self.login(self.alice)
        url = reverse("registry:resident_reveal", args=[self.zhang.pk])
        response = self.client.post(url, {"field": "id_number", "reason": ""})
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, self.zhang.id_number, status_code=400)
        self.assertFalse(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists())

    def test_it_refuses_to_reveal_outside_the_grid(self) -> None:
        self.login(self.alice)
        url = reverse("registry:resident_reveal", args=[self.li.pk])
        response = self.client.post(url, {"field": "phone", "reason": "test"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists())


class ConditionsTests(BaseTestCase):
    def test_it_hides_health_text_until_revealed_with_a_reason(self) -> None:
        self.login(self.alice)
        detail = self.client.get(reverse("registry:resident_detail", args=[self.zhang.pk]))
        self.assertNotContains(detail, "高血压")
        self.assertContains(detail, "******")
        edit = self.client.get(reverse("registry:care_edit", args=[self.zhang.pk]))
        self.assertNotContains(edit, "高血压")
        url = reverse("registry:resident_reveal", args=[self.zhang.pk])
        response = self.client.post(url, {"field": "conditions", "reason": "上门探访前了解"})
        self.assertContains(response, "高血压")
        entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
        self.assertEqual(entry.additional_data["field"], "conditions")
        self.assertEqual(entry.actor, self.alice)

    def test_it_keeps_health_text_when_the_care_form_leaves_it_blank(self) -> None:
        self.login(self.alice)
        url = reverse("registry:care_edit", args=[self.zhang.pk])
        self.client.post(url, {"tags": ["lives_alone"], "hobbies": "下棋"})
        with scopes_disabled():
            self.assertEqual(CareProfile.objects.get(resident=self.zhang).conditions, "高血压")
        self.client.post(url, {"tags": ["lives_alone"], "clear_conditions": "on"})
        with scopes_disabled():
            self.assertEqual(CareProfile.objects.get(resident=self.zhang).conditions, "")


class ResidentEditTests(BaseTestCase):
    def _form(self, **changes: str) -> dict[str, str]:
        data = {
            "name": "张建国",
            "sex": "male",
            "birth_date": "",
            "id_number": "",
            "phone": "",
            "relation": "head",
            "living_status": "living_here",
            "notes": "",
        }
        data.update(changes)
        return data

    def test_it_rejects_a_bad_check_digit_in_chinese_and_changes_nothing(self) -> None:
        self.login(self.alice)
        before = self.zhang.id_number
        bad = before[:17] + ("0" if before[17] != "0" else "1")
        url = reverse("registry:resident_edit", args=[self.zhang.pk])
        response = self.client.post(url, self._form(id_number=bad, name="张建军"))
        self.assertContains(response, "身份证校验位错误", status_code=400)
        with scopes_disabled():
            zhang = Resident.objects.get(pk=self.zhang.pk)
        self.assertEqual(zhang.id_number, before)
        self.assertEqual(zhang.name, "张建国")

    def test_it_keeps_numbers_when_left_blank_and_records_who(self) -> None:
        self.login(self.alice)
        url = reverse("registry:resident_edit", args=[self.zhang.pk])
        response = self.client.post(url, self._form(notes="行动不便", living_status="in_hospital"))
        self.assertRedirects(response, reverse("registry:resident_detail", args=[self.zhang.pk]))
        with scopes_disabled():
            zhang = Resident.objects.get(pk=self.zhang.pk)
        self.assertEqual(zhang.id_number, self.zhang.id_number)
        self.assertEqual(zhang.phone, "13812348000")
        self.assertEqual(zhang.living_status, "in_hospital")
        self.assertEqual(zhang.updated_by, self.alice)
        entry = LogEntry.objects.get_for_object(zhang).filter(action=LogEntry.Action.UPDATE).get()
        self.assertEqual(entry.actor, self.alice)
        self.assertNotIn("13812348000", str(entry.changes))

    def test_it_rejects_a_duplicate_id_number(self) -> None:
        self.login(self.alice)
        url = reverse("registry:resident_edit", args=[self.zeng.pk])
        response = self.client.post(url, self._form(name="曾小明", id_number=self.li.id_number))
        self.assertContains(response, "身份证号已登记", status_code=400)

    def test_it_adds_a_resident_with_a_retired_region_code_as_a_warning(self) -> None:
        self.login(self.alice)
        household = self.zhang.household
        url = reverse("registry:resident_new", args=[household.pk])
        import datetime as dt

        from linli.lib.identity import compose_id_number

        old_id = compose_id_number("440307", dt.date(1940, 5, 1), 11)
        response = self.client.post(
            url, self._form(name="单桂兰", id_number=old_id, relation="spouse"), follow=True
        )
        self.assertContains(response, "未收录")
        with scopes_disabled():
            added = Resident.objects.get(name="单桂兰")
        self.assertEqual(added.birth_date, dt.date(1940, 5, 1))
        self.assertEqual(added.household, household)
        self.assertEqual(added.created_by, self.alice)
        self.assertIn("dgl", added.name_search)
        self.assertIn("sgl", added.name_search)

    def test_it_refuses_editing_to_read_only_roles(self) -> None:
        for user in (self.olivia, self.dave):
            self.login(user)
            url = reverse("registry:resident_edit", args=[self.zhang.pk])
            response = self.client.post(url, self._form(name="改名"))
            self.assertEqual(response.status_code, 403)
        with scopes_disabled():
            self.assertEqual(Resident.objects.get(pk=self.zhang.pk).name, "张建国")


class CareProfileTests(BaseTestCase):
    def test_it_saves_tags_and_contacts_with_who(self) -> None:
        self.login(self.alice)
        url = reverse("registry:care_edit", args=[self.zeng.pk])
        response = self.client.post(
            url,
            {
                "tags": ["dialysis", "empty_nest"],
                "conditions": "尿毒症，每周三次透析",
                "ltc_level": "3",
                "contact_0_name": "曾大明",
                "contact_0_relation": "儿子",
                "contact_0_phone": "13900001111",
            },
        )
        self.assertEqual(response.status_code, 302)
        with scopes_disabled():
            tags = set(
                CareTagAssignment.objects.filter(resident=self.zeng).values_list("tag", flat=True)
            )
            contact = EmergencyContact.objects.get(resident=self.zeng)
            self.assertEqual(tags, {"dialysis", "empty_nest"})
            self.assertEqual(contact.phone, "13900001111")
            profile = CareProfile.objects.get(resident=self.zeng)
            self.assertEqual(profile.ltc_level, 3)
            self.assertEqual(profile.recorded_by, self.alice)
            self.assertEqual(profile.conditions, "尿毒症，每周三次透析")

    def test_it_rejects_a_bad_contact_phone_and_keeps_the_old_profile(self) -> None:
        self.login(self.alice)
        url = reverse("registry:care_edit", args=[self.zhang.pk])
        response = self.client.post(
            url, {"tags": ["dibao"], "contact_0_name": "某人", "contact_0_phone": "12345"}
        )
        self.assertContains(response, "紧急联系人电话无效", status_code=400)
        with scopes_disabled():
            tags = set(
                CareTagAssignment.objects.filter(resident=self.zhang).values_list("tag", flat=True)
            )
        self.assertEqual(tags, {"lives_alone"})


class PlaceTests(BaseTestCase):
    def test_it_drills_down_building_unit_household(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("registry:place_list"))
        self.assertContains(response, "1号楼")
        self.assertNotContains(response, "2号楼")
        building = self.unit1.building
        response = self.client.get(reverse("registry:building_detail", args=[building.pk]))
        self.assertContains(response, "1单元")
        response = self.client.get(reverse("registry:unit_detail", args=[self.unit1.pk]))
        self.assertContains(response, "张建国")
        response = self.client.get(
            reverse("registry:household_detail", args=[self.zhang.household_id])
        )
        self.assertContains(response, "阳光小区1号楼1单元101")

    def test_it_refuses_another_grids_building(self) -> None:
        self.login(self.alice)
        response = self.client.get(
            reverse("registry:building_detail", args=[self.unit2.building.pk])
        )
        self.assertEqual(response.status_code, 404)

    def test_it_adds_a_household_and_rejects_a_duplicate_room(self) -> None:
        self.login(self.alice)
        url = reverse("registry:household_new", args=[self.unit1.pk])
        response = self.client.post(url, {"room": "501"})
        self.assertEqual(response.status_code, 302)
        response = self.client.post(url, {"room": "501"})
        self.assertContains(response, "该单元已有房号 501", status_code=400)
        with scopes_disabled():
            self.assertEqual(Household.objects.filter(unit=self.unit1, room="501").count(), 1)
            self.assertEqual(Household.objects.get(unit=self.unit1, room="501").grid, self.grid1)


class HomeTests(BaseTestCase):
    def test_it_greets_each_role(self) -> None:
        for user in (
            self.alice,
            self.carol,
            self.dave,
            self.olivia,
            self.sam,
            self.rita_user,
            self.oscar,
        ):
            self.login(user)
            response = self.client.get(reverse("home"))
            self.assertEqual(response.status_code, 200, user.username)

    def test_it_sends_field_roles_to_their_own_start_page(self) -> None:
        for user, page in ((self.victor, "/my/"), (self.kate, "/goods/held/")):
            self.login(user)
            self.assertRedirects(
                self.client.get(reverse("home")), page, fetch_redirect_response=False
            )

    def test_it_shows_a_resident_their_own_household(self) -> None:
        self.login(self.rita_user)
        response = self.client.get(reverse("home"))
        self.assertContains(response, "阳光小区1号楼1单元102")
        self.assertNotContains(response, "张建国")


class RateLimitTests(BaseTestCase):
    def test_it_slows_down_a_flood_of_searches_with_a_chinese_429(self) -> None:
        from django.core.cache import cache
        from django.test import override_settings

        cache.clear()
        self.login(self.alice)
        with override_settings(LINLI_SEARCH_RATE="3/m"):
            for _ in range(3):
                response = self.client.get(reverse("registry:resident_list"), {"q": "zxm"})
                self.assertEqual(response.status_code, 200)
            response = self.client.get(reverse("registry:resident_list"), {"q": "zxm"})
        self.assertContains(response, "操作过于频繁", status_code=429)
        self.assertNotContains(response, "曾小明", status_code=429)
        # Another user has their own allowance.
        self.login(self.carol)
        with override_settings(LINLI_SEARCH_RATE="3/m"):
            response = self.client.get(reverse("registry:resident_list"), {"q": "zxm"})
        self.assertEqual(response.status_code, 200)
        cache.clear()


class RegisterPrintTests(BaseTestCase):
    def test_it_prints_the_whole_register_not_just_one_page(self) -> None:
        from linli.registry.choices import CareTag
        from linli.registry.views.residents import PRINT_LIMIT
        from linli.test import make_resident

        with scopes_disabled():
            from linli.registry import actions

            for i in range(55):
                extra = make_resident(self.unit1, f"9{i:02d}", f"测试{i:02d}")
                actions.care_profile_save(
                    actor=self.root, resident=extra, care=actions.CareInput(tags=[CareTag.DIBAO])
                )
        self.login(self.carol)
        screen = self.client.get(reverse("registry:register"))
        self.assertEqual(len(screen.context["page"].object_list), 50)
        printed = self.client.get(reverse("registry:register"), {"print": "1"})
        self.assertEqual(len(printed.context["page"].object_list), 56)
        self.assertGreater(PRINT_LIMIT, 56)
        self.assertContains(printed, "window.print()")
        self.assertContains(printed, "号码已隐去")
        self.assertNotContains(printed, "下一页")
