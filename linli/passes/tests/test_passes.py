"""Medical exit passes: issued by staff, printed with a QR, checked at the gate (valid, not
yet valid, expired, revoked, forged code, forged QR, another community's keeper), logged."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.passes import actions
from linli.passes.choices import PassStatus, VerifyResult, VerifyVia
from linli.passes.models import CODE_ALPHABET, MedicalPass, PassVerification, sign_code
from linli.registry.tests.test_api import ApiTestCase
from linli.test import make_user, pdf_text


def all_passes() -> QuerySet[MedicalPass]:
    with scopes_disabled():
        return MedicalPass.objects.all()


NOW = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class PassTestCase(ApiTestCase):
    kim: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.kim = make_user("kim", Role.CHECKPOINT_KEEPER, community=cls.community_b)

    def issue(self, *, hours: int = 24, start: dt.datetime | None = None) -> MedicalPass:
        start = start or timezone.now()
        with scopes_disabled():
            return actions.pass_issue(
                actor=self.carol,
                data=actions.PassInput(
                    resident=self.zhang,
                    reason="dialysis",
                    destination="瑞金医院",
                    valid_from=start,
                    valid_until=start + dt.timedelta(hours=hours),
                    companion_name="张小红",
                    companion_phone="13800001111",
                ),
            )

    def check(self, user: User, path: str) -> str:
        self.login(user)
        response = self.client.get(path)
        self.assertEqual(response.status_code, 200, response.content)
        return response.content.decode()


@time_machine.travel(NOW, tick=False)
class VerificationTests(PassTestCase):
    def test_a_valid_pass_scanned_shows_green_with_the_masked_name_and_is_logged(self) -> None:
        p = self.issue()
        page = self.check(self.kate, f"/passes/v/{p.qr_payload}/")
        self.assertIn("有效，可放行", page)
        self.assertIn("张**", page)
        self.assertNotIn("张建国", page)
        self.assertIn("瑞金医院", page)
        log = PassVerification.objects.get()
        self.assertEqual(
            (log.medical_pass, log.checked_by, log.result, log.via),
            (p, self.kate, VerifyResult.VALID, VerifyVia.QR),
        )

    def test_a_typed_code_is_read_in_any_case_and_with_spaces(self) -> None:
        p = self.issue()
        self.login(self.kate)
        typed = f"{p.code[:4].lower()} {p.code[4:]}"
        response = self.client.post("/passes/verify/", {"code": typed})
        self.assertContains(response, "有效，可放行")
        self.assertEqual(PassVerification.objects.get().via, VerifyVia.CODE)

    def test_an_expired_pass_shows_expired(self) -> None:
        p = self.issue(hours=2)
        with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
            page = self.check(self.kate, f"/passes/v/{p.qr_payload}/")
        self.assertIn("已过期", page)
        self.assertEqual(PassVerification.objects.get().result, VerifyResult.EXPIRED)

    def test_a_pass_before_its_window_shows_not_yet_valid(self) -> None:
        p = self.issue(start=timezone.now() + dt.timedelta(hours=5))
        self.assertIn("未到有效时间", self.check(self.kate, f"/passes/v/{p.qr_payload}/"))

    def test_a_revoked_pass_shows_revoked_and_records_who_and_why(self) -> None:
        p = self.issue()
        self.login(self.carol)
        self.client.post(f"/passes/{p.pk}/revoke/", {"reason": "行程取消"})
        p.refresh_from_db()
        self.assertEqual(
            (p.status, p.revoked_by, p.revoke_reason), (PassStatus.REVOKED, self.carol, "行程取消")
        )
        self.assertIn("已作废", self.check(self.kate, f"/passes/v/{p.qr_payload}/"))

    def test_a_forged_code_shows_red_unknown_and_is_logged(self) -> None:
        self.issue()
        self.login(self.kate)
        response = self.client.post("/passes/verify/", {"code": "ABCD2345"})
        self.assertContains(response, "无效：伪造或不存在")
        log = PassVerification.objects.get()
        self.assertEqual((log.medical_pass, log.result), (None, VerifyResult.UNKNOWN))

    def test_a_qr_with_a_forged_signature_fails_even_for_a_real_code(self) -> None:
        p = self.issue()
        forged = p.code + ":" + "A" * 27
        page = self.check(self.kate, f"/passes/v/{forged}/")
        self.assertIn("无效：伪造或不存在", page)
        self.assertNotIn("张**", page)
        other_salt = sign_code(p.code).replace(p.code, "ZZZZZZZZ")
        self.assertIn("无效", self.check(self.kate, f"/passes/v/{other_salt}/"))

    def test_a_keeper_of_another_community_sees_nothing_about_the_holder(self) -> None:
        p = self.issue()
        page = self.check(self.kim, f"/passes/v/{p.qr_payload}/")
        self.assertIn("非本社区证明", page)
        self.assertNotIn("瑞金医院", page)
        log = PassVerification.objects.get()
        self.assertEqual(
            (log.result, log.community), (VerifyResult.OTHER_COMMUNITY, self.community_b)
        )

    def test_codes_are_eight_unambiguous_characters(self) -> None:
        p = self.issue()
        self.assertEqual(len(p.code), 8)
        self.assertTrue(set(p.code) <= set(CODE_ALPHABET))
        self.assertFalse(set("01OIL") & set(CODE_ALPHABET))


@time_machine.travel(NOW, tick=False)
class IssueTests(PassTestCase):
    def test_staff_issue_a_pass_from_the_page_and_print_it_with_a_qr(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            f"/passes/new/?resident={self.zhang.pk}",
            {"reason": "prenatal", "destination": "一妇婴", "valid_from": "2024-05-01T09:00",
             "valid_until": "2024-05-01T18:00", "companion_name": "", "companion_phone": ""},
        )  # fmt: skip
        p = all_passes().get()
        self.assertRedirects(response, f"/passes/{p.pk}/")
        self.assertEqual(
            (p.issued_by, p.community, p.destination), (self.alice, self.community, "一妇婴")
        )
        pdf = self.client.get(f"/passes/{p.pk}/pdf/")
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        text = pdf_text(pdf.content)
        self.assertIn("外出就医证明", text)
        self.assertIn(p.code, text)

    def test_a_window_that_ends_before_it_starts_answers_400_and_saves_nothing(self) -> None:
        self.login(self.carol)
        response = self.client.post(
            f"/passes/new/?resident={self.zhang.pk}",
            {"reason": "medical", "destination": "华山医院", "valid_from": "2024-05-01T09:00",
             "valid_until": "2024-05-01T08:00"},
        )  # fmt: skip
        self.assertContains(response, "结束时间须晚于开始时间", status_code=400)
        self.assertFalse(all_passes().exists())

    def test_a_grid_worker_cannot_issue_for_another_grid_and_a_keeper_not_at_all(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get(f"/passes/new/?resident={self.li.pk}").status_code, 404)
        self.login(self.kate)
        self.assertEqual(self.client.get(f"/passes/new/?resident={self.zhang.pk}").status_code, 403)

    def test_the_companion_phone_is_stored_encrypted_and_shown_masked(self) -> None:
        p = self.issue()
        response = self.call(self.carol, "GET", f"/api/v1/passes/{p.pk}")
        self.assertEqual(response.json()["companion_phone"], "138****1111")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT companion_phone FROM passes_medicalpass")
            self.assertNotIn("13800001111", cursor.fetchone()[0])


@time_machine.travel(NOW, tick=False)
class ApiAndCommandTests(PassTestCase):
    def test_the_api_issues_verifies_and_revokes(self) -> None:
        response = self.call(
            self.olivia,
            "POST",
            "/api/v1/passes",
            {"resident_id": self.zhang.pk, "reason": "emergency", "destination": "中山医院",
             "valid_from": "2024-05-01T08:00", "valid_until": "2024-05-01T20:00"},
        )  # fmt: skip
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(body["resident_name"], "张**")
        checked = self.call(self.kate, "POST", "/api/v1/passes/verify", {"qr": body["qr_payload"]})
        self.assertEqual(checked.json()["result"], "valid")
        revoked = self.call(
            self.olivia, "POST", f"/api/v1/passes/{body['id']}/revoke", {"reason": "已送达"}
        )
        self.assertEqual(revoked.json()["status"], "revoked")
        again = self.call(self.kate, "POST", "/api/v1/passes/verify", {"code": body["code"]})
        self.assertEqual(again.json()["result"], "revoked")
        log = self.call(self.carol, "GET", f"/api/v1/passes/{body['id']}/verifications").json()
        self.assertEqual([v["result"] for v in log], ["revoked", "valid"])

    def test_the_api_refuses_a_keeper_issuing_and_a_volunteer_verifying(self) -> None:
        refused = self.call(
            self.kate,
            "POST",
            "/api/v1/passes",
            {"resident_id": self.zhang.pk, "reason": "medical", "destination": "x",
             "valid_from": "2024-05-01T08:00", "valid_until": "2024-05-01T20:00"},
        )  # fmt: skip
        self.assert_error(refused, 403)
        self.assert_error(
            self.call(self.victor, "POST", "/api/v1/passes/verify", {"code": "ABCDEFGH"}), 403
        )
        self.assertFalse(PassVerification.objects.exists())

    def test_the_command_issues_lists_revokes_and_verifies(self) -> None:
        out = StringIO()
        call_command(
            "passes", "issue", "--actor", "carol", "--resident", str(self.zhang.pk),
            "--reason", "dialysis", "--destination", "瑞金医院", stdout=out,
        )  # fmt: skip
        p = all_passes().get()
        self.assertIn(p.code, out.getvalue())
        out = StringIO()
        call_command("passes", "verify", p.code, "--actor", "kate", stdout=out)
        self.assertIn("有效，可放行", out.getvalue())
        call_command("passes", "revoke", str(p.pk), "--actor", "carol", "--reason", "取消",
                     stdout=StringIO())  # fmt: skip
        with self.assertRaisesMessage(CommandError, "已作废"):
            call_command("passes", "verify", p.code, "--actor", "kate", stdout=StringIO())
        with self.assertRaisesMessage(CommandError, "伪造"):
            call_command("passes", "verify", "ZZZZZZZZ", "--actor", "kate", stdout=StringIO())
        self.assertEqual(PassVerification.objects.count(), 3)
