"""The QR poster, the public sign-up page, and volunteers signing in with their phone."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.cache import cache
from django.http.response import HttpResponseBase
from django.test import override_settings
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.identity import compose_id_number
from linli.registry.models import Building, Compound
from linli.test import PASSWORD, pdf_text
from linli.workforce import actions
from linli.workforce.choices import VolunteerStatus
from linli.workforce.models import Volunteer
from linli.workforce.tests.test_actions import WorkforceTestCase

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
SIGNUP_PASSWORD = "lanterns and kites"
GOOD_ID = compose_id_number("110101", dt.date(1988, 4, 9), 321)


@time_machine.travel(NOW, tick=False)
class SignupPageTest(WorkforceTestCase):
    def setUp(self) -> None:
        cache.clear()  # the sign-up rate limit counts per address in the cache
        with scopes_disabled():
            self.compound = self.unit1.building.compound
            self.building = self.unit1.building
            other = Compound.objects.create(community=self.community, name="阳光二期")
            self.other_building = Building.objects.create(compound=other, name="8号楼")
            self.far_building = self.unit_b.building

    def form(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "name": "周志愿",
            "phone": "13700001111",
            "id_number": GOOD_ID,
            "compound": self.compound.pk,
            "building": self.building.pk,
            "skills": ["driver", "heavy_lifting"],
            "availability": ["1-am", "6-eve"],
            "is_party_member": "on",
            "work_unit": "区卫健委",
            "last_negative_test_at": "2026-11-19T08:30",
            "password": SIGNUP_PASSWORD,
            "password2": SIGNUP_PASSWORD,
        }
        values.update(overrides)
        return values

    def volunteers(self) -> int:
        with scopes_disabled():
            return Volunteer.objects.count()

    def volunteer_accounts(self) -> int:
        return User.objects.filter(role=Role.VOLUNTEER).count()  # victor is one already

    def test_it_shows_the_form_to_anyone(self) -> None:
        r = self.client.get("/join/yangguang/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "阳光社区 志愿者报名")
        self.assertContains(r, "阳光小区")
        self.assertContains(r, "8号楼")  # buildings grouped by compound, without script
        self.assertContains(r, "周一上午")
        self.assertContains(r, "帮老人用手机")
        self.assertContains(r, 'hx-get="/join/yangguang/buildings/"')
        self.assertNotContains(r, "星河湾")
        for label in ("姓名", "手机号", "身份证号", "居住小区", "楼栋", "确认密码"):
            self.assertContains(r, label)

    def test_it_404s_an_unknown_community(self) -> None:
        self.assertEqual(self.client.get("/join/nowhere/").status_code, 404)
        r = self.client.post("/join/nowhere/", self.form())
        self.assertEqual(r.status_code, 404)
        self.assertEqual(self.volunteers(), 0)

    def test_it_signs_up_a_pending_volunteer(self) -> None:
        r = self.client.post("/join/yangguang/", self.form())
        self.assertRedirects(r, "/join/yangguang/thanks/")
        with scopes_disabled():
            volunteer = Volunteer.objects.select_related("user").get()
        self.assertEqual(volunteer.community, self.community)
        self.assertEqual(volunteer.name, "周志愿")
        self.assertEqual(volunteer.phone, "13700001111")
        self.assertEqual(volunteer.id_number, GOOD_ID)
        self.assertEqual(volunteer.compound_id, self.compound.pk)
        self.assertEqual(volunteer.building_id, self.building.pk)
        self.assertEqual(volunteer.skills, ["driver", "heavy_lifting"])
        self.assertEqual(volunteer.availability, ["1-am", "6-eve"])
        self.assertTrue(volunteer.is_party_member)
        self.assertEqual(volunteer.work_unit, "区卫健委")
        # 08:30 typed on a phone in Shanghai is 00:30 UTC.
        self.assertEqual(
            volunteer.last_negative_test_at, dt.datetime(2026, 11, 19, 0, 30, tzinfo=dt.UTC)
        )
        self.assertEqual(volunteer.status, VolunteerStatus.PENDING)
        self.assertFalse(volunteer.user.is_active)
        self.assertEqual(volunteer.user.role, Role.VOLUNTEER)
        self.assertTrue(volunteer.user.check_password(SIGNUP_PASSWORD))

        page = self.client.get(r["Location"])
        self.assertContains(page, "已提交，社区审核通过后即可用手机号和密码登录")

    def test_it_needs_only_the_basic_fields(self) -> None:
        form = self.form(compound="", building="", skills=[], availability=[])
        for optional in ("is_party_member", "work_unit", "last_negative_test_at"):
            form.pop(optional)
        r = self.client.post("/join/yangguang/", form)
        self.assertEqual(r.status_code, 302)
        with scopes_disabled():
            volunteer = Volunteer.objects.get()
        self.assertIsNone(volunteer.building)
        self.assertIsNone(volunteer.last_negative_test_at)
        self.assertFalse(volunteer.is_party_member)

    def assert_refused(self, form: dict[str, object], message: str, field: str) -> None:
        before_accounts = self.volunteer_accounts()
        before = self.volunteers()
        r = self.client.post("/join/yangguang/", form)
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, message, status_code=400)
        self.assertIn(message, " ".join(r.context["form"].errors.get(field, [])))
        self.assertEqual(self.volunteers(), before)
        self.assertEqual(self.volunteer_accounts(), before_accounts)
        # What was typed stays, except the passwords.
        self.assertContains(r, 'value="周志愿"', status_code=400)
        self.assertNotContains(r, SIGNUP_PASSWORD, status_code=400)

    def test_it_refuses_an_id_number_with_a_wrong_check_digit(self) -> None:
        wrong = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
        self.assert_refused(self.form(id_number=wrong), "身份证校验位错误", "id_number")

    def test_it_refuses_a_bad_phone(self) -> None:
        self.assert_refused(self.form(phone="12345"), "手机号应为1开头的11位数字", "phone")

    def test_it_refuses_a_phone_that_signed_up_before(self) -> None:
        self.assertEqual(self.client.post("/join/yangguang/", self.form()).status_code, 302)
        other_id = compose_id_number("110101", dt.date(1991, 1, 1), 222)
        self.assert_refused(self.form(id_number=other_id), "该手机号已报名过志愿者", "phone")
        self.assertEqual(self.volunteers(), 1)

    def test_it_refuses_an_id_number_that_signed_up_before(self) -> None:
        self.assertEqual(self.client.post("/join/yangguang/", self.form()).status_code, 302)
        self.assert_refused(self.form(phone="13700002222"), "该身份证号已报名过志愿者", "id_number")
        self.assertEqual(self.volunteers(), 1)

    def test_it_refuses_passwords_that_differ(self) -> None:
        self.assert_refused(
            self.form(password2="lanterns and kiteZ"), "两次输入的密码不一致", "password2"
        )

    def test_it_refuses_a_short_password(self) -> None:
        form = self.form(password="short1", password2="short1")
        r = self.client.post("/join/yangguang/", form)
        self.assertEqual(r.status_code, 400)
        self.assertTrue(r.context["form"].errors["password"])
        self.assertEqual(self.volunteers(), 0)

    def test_it_refuses_a_test_time_in_the_future(self) -> None:
        self.assert_refused(
            self.form(last_negative_test_at="2026-11-20T13:00"),
            "核酸检测时间不能晚于现在",
            "last_negative_test_at",
        )

    def test_it_refuses_a_building_outside_the_chosen_compound(self) -> None:
        self.assert_refused(
            self.form(building=self.other_building.pk), "所选楼栋不在所选小区内", "building"
        )

    def test_it_refuses_a_building_of_another_community(self) -> None:
        self.assert_refused(
            self.form(building=self.far_building.pk), "所选楼栋不属于本社区", "building"
        )

    def test_it_refuses_a_missing_name(self) -> None:
        form = self.form(name="")
        r = self.client.post("/join/yangguang/", form)
        self.assertContains(r, "请填写姓名", status_code=400)
        self.assertEqual(self.volunteers(), 0)

    def test_it_refuses_an_unknown_time_slot(self) -> None:
        self.assert_refused(self.form(availability=["8-am"]), "8-am", "availability")

    @override_settings(LINLI_SIGNUP_RATE="2/h")
    def test_it_limits_sign_ups_per_address(self) -> None:
        self.client.post("/join/yangguang/", self.form(phone="12"))
        self.client.post("/join/yangguang/", self.form(phone="12"))
        r = self.client.post("/join/yangguang/", self.form())
        self.assertEqual(r.status_code, 429)
        self.assertEqual(self.volunteers(), 0)
        # Reading the page is not counted.
        self.assertEqual(self.client.get("/join/yangguang/").status_code, 200)

    def test_it_lists_the_buildings_of_one_compound(self) -> None:
        r = self.client.get(f"/join/yangguang/buildings/?compound={self.compound.pk}")
        self.assertContains(r, "1号楼")
        self.assertContains(r, "3号楼")
        self.assertNotContains(r, "8号楼")
        with scopes_disabled():
            far_compound = self.far_building.compound_id
        r = self.client.get(f"/join/yangguang/buildings/?compound={far_compound}")
        self.assertNotContains(r, "1号楼")
        r = self.client.get("/join/yangguang/buildings/?compound=abc")
        self.assertEqual(r.status_code, 200)


class PosterTest(WorkforceTestCase):
    def test_it_prints_an_a4_poster_with_chinese_text(self) -> None:
        self.login(self.carol)
        r = self.client.get("/volunteers/poster/yangguang.pdf")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Content-Type"], "application/pdf")
        self.assertIn("inline;", r["Content-Disposition"])
        self.assertIn("filename*=UTF-8''", r["Content-Disposition"])
        self.assertTrue(r.content.startswith(b"%PDF"))
        text = pdf_text(r.content).replace(" ", "")
        self.assertIn("阳光社区志愿者招募", text)
        for words in ("扫码报名", "社区审核", "手机号+密码登录接任务"):
            self.assertIn(words, text)
        # The QR code leads to the absolute address of the sign-up page.
        self.assertIn("http://testserver/join/yangguang/", text)

    def test_it_lets_the_street_admin_print_it(self) -> None:
        self.login(self.dave)
        r = self.client.get("/volunteers/poster/yangguang.pdf")
        self.assertEqual(r.status_code, 200)

    def test_it_refuses_everyone_else(self) -> None:
        for user in (self.alice, self.olivia, self.kate, self.victor, self.sam, self.oscar):
            self.login(user)
            r = self.client.get("/volunteers/poster/yangguang.pdf")
            self.assertEqual(r.status_code, 403, user.username)
        self.client.logout()
        r = self.client.get("/volunteers/poster/yangguang.pdf")
        self.assertEqual(r.status_code, 302)

    def test_it_404s_a_community_outside_the_area(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get("/volunteers/poster/xinghe.pdf").status_code, 404)
        self.assertEqual(self.client.get("/volunteers/poster/nowhere.pdf").status_code, 404)


class PhoneLoginTest(WorkforceTestCase):
    def setUp(self) -> None:
        cache.clear()
        with scopes_disabled():
            self.volunteer = actions.volunteer_signup(
                community=self.community,
                data=actions.SignupInput(
                    name="周志愿", phone="13700001111", id_number=GOOD_ID, password=SIGNUP_PASSWORD
                ),
            )

    def log_in(self, username: str, password: str = SIGNUP_PASSWORD) -> HttpResponseBase:
        return self.client.post("/login/", {"username": username, "password": password})

    def signed_in_as(self) -> int | None:
        value = self.client.session.get("_auth_user_id")
        return int(value) if value else None

    def test_it_refuses_a_volunteer_awaiting_review_and_says_why(self) -> None:
        r = self.log_in("13700001111")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "账号待社区审核")
        self.assertIsNone(self.signed_in_as())

    def test_it_tells_strangers_nothing_about_who_signed_up(self) -> None:
        wrong = self.log_in("13700001111", "not the password")
        unknown = self.log_in("13700009999", "not the password")
        for r in (wrong, unknown):
            self.assertNotContains(r, "审核")
        self.assertIsNone(self.signed_in_as())

    def test_it_signs_in_a_verified_volunteer_with_their_phone(self) -> None:
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=self.volunteer, status=VolunteerStatus.VERIFIED
            )
        r = self.log_in("13700001111")
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        self.assertEqual(self.signed_in_as(), self.volunteer.user_id)
        page = self.client.get("/my/")
        self.assertContains(page, "我的任务")

    def test_it_refuses_a_suspended_volunteer(self) -> None:
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=self.volunteer, status=VolunteerStatus.VERIFIED
            )
            actions.volunteer_review(
                actor=self.carol,
                volunteer=self.volunteer,
                status=VolunteerStatus.SUSPENDED,
                reason="多次未到岗",
            )
        r = self.log_in("13700001111")
        self.assertContains(r, "志愿者账号已暂停")
        self.assertIsNone(self.signed_in_as())

    def test_it_accepts_only_the_plain_eleven_digits(self) -> None:
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=self.volunteer, status=VolunteerStatus.VERIFIED
            )
        for spelling in ("137 0000 1111", "+8613700001111", "137-0000-1111"):
            self.log_in(spelling)
            self.assertIsNone(self.signed_in_as(), spelling)

    def test_it_locks_out_a_phone_after_repeated_failures(self) -> None:
        with scopes_disabled():
            actions.volunteer_review(
                actor=self.carol, volunteer=self.volunteer, status=VolunteerStatus.VERIFIED
            )
        for _ in range(5):
            self.log_in("13700001111", "guess guess guess")
        r = self.log_in("13700001111")
        self.assertEqual(r.status_code, 429)
        self.assertIsNone(self.signed_in_as())

    def test_it_still_signs_staff_in_by_username(self) -> None:
        self.client.post("/login/", {"username": "carol", "password": PASSWORD})
        self.assertEqual(self.signed_in_as(), self.carol.pk)
