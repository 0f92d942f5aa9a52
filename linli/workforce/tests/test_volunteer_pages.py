"""Staff pages for volunteers: the list, one volunteer's record with review and audited
reveal, and the community's rules."""

from __future__ import annotations

import datetime as dt

import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django_scopes import scopes_disabled

from linli.lib.identity import compose_id_number
from linli.registry.models import Community
from linli.test import BaseTestCase
from linli.workforce import actions
from linli.workforce.choices import TaskKind, VolunteerStatus
from linli.workforce.models import Task, Volunteer

NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai

_numbers = iter(range(5000, 9999))


class StaffPagesTestCase(BaseTestCase):
    """BaseTestCase plus volunteers and tasks built through the real actions."""

    def make_volunteer(
        self,
        name: str = "吴志强",
        *,
        status: str = VolunteerStatus.VERIFIED,
        community: Community | None = None,
        **fields: object,
    ) -> Volunteer:
        n = next(_numbers)
        data = actions.SignupInput(
            name=name,
            phone=f"1390000{n:04d}",
            id_number=compose_id_number("110101", dt.date(1990, 5, 17), n % 1000),
            password="volunteer pass 2026",
            **fields,  # type: ignore[arg-type]
        )
        with scopes_disabled():
            volunteer = actions.volunteer_signup(community=community or self.community, data=data)
            if status != VolunteerStatus.PENDING:
                actions.volunteer_review(
                    actor=self.carol, volunteer=volunteer, status=status, reason="核查"
                )
            return Volunteer.objects.select_related("user", "community").get(pk=volunteer.pk)

    def make_task(
        self, title: str = "卡口值守", *, kind: str = TaskKind.DUTY_SHIFT, **fields: object
    ) -> Task:
        with scopes_disabled():
            return actions.task_create(
                actor=self.carol,
                community=self.community,
                kind=kind,
                title=title,
                **fields,  # type: ignore[arg-type]
            )

    def reload(self, volunteer: Volunteer) -> Volunteer:
        with scopes_disabled():
            return Volunteer.objects.select_related("user").get(pk=volunteer.pk)


class VolunteerListTest(StaffPagesTestCase):
    def test_it_shows_the_list_to_staff_grid_workers_and_the_street(self) -> None:
        self.make_volunteer("吴志强")
        self.make_volunteer("钱报名", status=VolunteerStatus.PENDING)
        for user in (self.carol, self.dave, self.alice, self.olivia):
            self.login(user)
            response = self.client.get(reverse("workforce:volunteer_list"))
            self.assertEqual(response.status_code, 200, user)
            content = response.content.decode()
            self.assertIn("吴志强", content)
            # Pending sign-ups come first, and the badge counts them.
            self.assertLess(content.index("钱报名"), content.index("吴志强"))
            self.assertContains(response, "1 人待审核")

    def test_it_refuses_roles_that_do_not_dispatch(self) -> None:
        volunteer = self.make_volunteer()
        for user in (self.victor, self.sam, self.rita_user, self.oscar, self.kate):
            self.login(user)
            for url in (
                reverse("workforce:volunteer_list"),
                reverse("workforce:volunteer_detail", args=[volunteer.pk]),
            ):
                self.assertEqual(self.client.get(url).status_code, 403, (user, url))

    def test_it_asks_visitors_to_sign_in(self) -> None:
        response = self.client.get(reverse("workforce:volunteer_list"))
        self.assertEqual(response.status_code, 302)

    def test_it_keeps_other_communities_out(self) -> None:
        elsewhere = self.make_volunteer("星河志愿者", community=self.community_b)
        self.login(self.carol)
        response = self.client.get(reverse("workforce:volunteer_list"))
        self.assertNotContains(response, "星河志愿者")
        url = reverse("workforce:volunteer_detail", args=[elsewhere.pk])
        self.assertEqual(self.client.get(url).status_code, 404)
        self.login(self.dave)
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_it_filters_by_status_skill_party_and_name(self) -> None:
        self.make_volunteer("司机甲", skills=["driver"])
        self.make_volunteer("党员乙", is_party_member=True, work_unit="区税务局")
        self.make_volunteer("待审丙", status=VolunteerStatus.PENDING)
        self.login(self.carol)
        url = reverse("workforce:volunteer_list")

        def names(**params: str) -> set[str]:
            content = self.client.get(url, params).content.decode()
            return {n for n in ("司机甲", "党员乙", "待审丙") if n in content}

        self.assertEqual(names(skill="driver"), {"司机甲"})
        self.assertEqual(names(party="yes"), {"党员乙"})
        self.assertEqual(names(status="pending"), {"待审丙"})
        self.assertEqual(names(q="乙"), {"党员乙"})
        self.assertEqual(names(), {"司机甲", "党员乙", "待审丙"})
        self.assertContains(self.client.get(url, {"party": "yes"}), "区税务局")

    def test_it_answers_htmx_with_the_rows_only(self) -> None:
        self.make_volunteer()
        self.login(self.carol)
        response = self.client.get(
            reverse("workforce:volunteer_list"), headers={"HX-Request": "true"}
        )
        self.assertContains(response, 'id="volunteer-table"')
        self.assertNotContains(response, "<html")

    def test_it_masks_phones(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.carol)
        response = self.client.get(reverse("workforce:volunteer_list"))
        self.assertNotContains(response, volunteer.phone)
        self.assertContains(response, volunteer.masked_phone)

    def test_it_marks_a_test_older_than_the_community_rule(self) -> None:
        with scopes_disabled():
            Community.objects.filter(pk=self.community.pk).update(
                volunteer_test_required=True, volunteer_test_hours=48
            )
        with time_machine.travel(NOON, tick=False):
            fresh = self.make_volunteer(
                "新检测", last_negative_test_at=NOON - dt.timedelta(hours=10)
            )
            stale = self.make_volunteer(
                "旧检测", last_negative_test_at=NOON - dt.timedelta(hours=50)
            )
            self.login(self.carol)
            content = self.client.get(reverse("workforce:volunteer_list")).content.decode()
        stale_row = content[content.index(f'id="volunteer-{stale.pk}"') :].split("</tr>")[0]
        fresh_row = content[content.index(f'id="volunteer-{fresh.pk}"') :].split("</tr>")[0]
        self.assertIn("test-stale", stale_row)
        self.assertNotIn("test-stale", fresh_row)

    def test_it_shows_hours_done(self) -> None:
        volunteer = self.make_volunteer()
        task = self.make_task()
        with scopes_disabled():
            actions.task_assign(actor=self.carol, task=task, volunteer=volunteer)
            actions.task_accept(actor=volunteer.user, task=task)
            actions.task_start(actor=volunteer.user, task=task)
            actions.task_finish(actor=volunteer.user, task=task)
            actions.task_set_minutes(actor=self.carol, task=task, minutes=90)
        self.login(self.carol)
        self.assertContains(self.client.get(reverse("workforce:volunteer_list")), "1.5 小时")


class VolunteerDetailTest(StaffPagesTestCase):
    def test_it_shows_the_record_with_numbers_masked(self) -> None:
        volunteer = self.make_volunteer(
            skills=["medical"], availability=["1-am", "3-eve"], status=VolunteerStatus.PENDING
        )
        self.login(self.carol)
        response = self.client.get(reverse("workforce:volunteer_detail", args=[volunteer.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "医护")
        self.assertContains(response, volunteer.masked_id_number)
        self.assertNotContains(response, volunteer.id_number)
        self.assertNotContains(response, volunteer.phone)
        self.assertContains(response, "审核通过后才能接任务")  # why not eligible now
        self.assertEqual(response.content.decode().count('class="slot-on"'), 2)

    def test_it_verifies_a_volunteer(self) -> None:
        volunteer = self.make_volunteer(status=VolunteerStatus.PENDING)
        self.login(self.carol)
        url = reverse("workforce:volunteer_review", args=[volunteer.pk])
        response = self.client.post(url, {"status": "verified"})
        self.assertRedirects(response, reverse("workforce:volunteer_detail", args=[volunteer.pk]))
        volunteer = self.reload(volunteer)
        self.assertEqual(volunteer.status, VolunteerStatus.VERIFIED)
        self.assertEqual(volunteer.reviewed_by, self.carol)
        self.assertTrue(volunteer.user.is_active)

    def test_it_requires_a_reason_to_reject_or_suspend(self) -> None:
        volunteer = self.make_volunteer(status=VolunteerStatus.PENDING)
        self.login(self.carol)
        url = reverse("workforce:volunteer_review", args=[volunteer.pk])
        for status in ("rejected", "suspended"):
            response = self.client.post(url, {"status": status, "reason": "  "})
            self.assertEqual(response.status_code, 400)
            self.assertContains(response, "请填写原因", status_code=400)
            volunteer = self.reload(volunteer)
            self.assertEqual(volunteer.status, VolunteerStatus.PENDING)
            self.assertIsNone(volunteer.reviewed_at)

    def test_it_rejects_and_suspends_with_a_reason_in_place(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.carol)
        url = reverse("workforce:volunteer_review", args=[volunteer.pk])
        response = self.client.post(
            url, {"status": "suspended", "reason": "核酸过期"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="volunteer-review"')
        self.assertNotContains(response, "<html")
        volunteer = self.reload(volunteer)
        self.assertEqual(volunteer.status, VolunteerStatus.SUSPENDED)
        self.assertEqual(volunteer.status_reason, "核酸过期")
        self.assertFalse(volunteer.user.is_active)

    def test_it_refuses_an_unknown_review_status(self) -> None:
        volunteer = self.make_volunteer(status=VolunteerStatus.PENDING)
        self.login(self.carol)
        url = reverse("workforce:volunteer_review", args=[volunteer.pk])
        response = self.client.post(url, {"status": "pending"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.reload(volunteer).status, VolunteerStatus.PENDING)

    def test_it_lets_only_managers_review(self) -> None:
        volunteer = self.make_volunteer(status=VolunteerStatus.PENDING)
        url = reverse("workforce:volunteer_review", args=[volunteer.pk])
        for user in (self.alice, self.olivia, self.kate, self.victor):
            self.login(user)
            self.assertEqual(self.client.post(url, {"status": "verified"}).status_code, 403)
        self.assertEqual(self.reload(volunteer).status, VolunteerStatus.PENDING)
        self.login(self.carol)
        self.client.get(reverse("workforce:volunteer_detail", args=[volunteer.pk]))
        self.login(self.alice)
        response = self.client.get(reverse("workforce:volunteer_detail", args=[volunteer.pk]))
        self.assertNotContains(response, reverse("workforce:volunteer_review", args=[volunteer.pk]))

    def test_it_reveals_a_number_with_a_reason_and_audits_it(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.carol)
        url = reverse("workforce:volunteer_reveal", args=[volunteer.pk])
        response = self.client.post(url, {"field": "phone", "reason": "电话联系排班"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, volunteer.phone)
        entry = LogEntry.objects.get_for_object(volunteer).get(action=LogEntry.Action.ACCESS)
        self.assertEqual(entry.actor, self.carol)
        self.assertEqual(entry.additional_data["reason"], "电话联系排班")
        self.assertEqual(entry.additional_data["field"], "phone")

    def test_it_reveals_nothing_without_a_reason(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.carol)
        url = reverse("workforce:volunteer_reveal", args=[volunteer.pk])
        response = self.client.post(url, {"field": "id_number", "reason": ""})
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, volunteer.id_number, status_code=400)
        self.assertFalse(
            LogEntry.objects.get_for_object(volunteer).filter(action=LogEntry.Action.ACCESS)
        )

    def test_it_lets_only_managers_reveal(self) -> None:
        volunteer = self.make_volunteer()
        self.login(self.alice)
        url = reverse("workforce:volunteer_reveal", args=[volunteer.pk])
        response = self.client.post(url, {"field": "phone", "reason": "想看看"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(LogEntry.objects.get_for_object(volunteer).exists())


class CommunityRulesTest(StaffPagesTestCase):
    def url(self, code: str = "yangguang") -> str:
        return reverse("workforce:volunteer_rules", args=[code])

    def community_now(self) -> Community:
        with scopes_disabled():
            return Community.objects.get(pk=self.community.pk)

    def test_it_saves_the_rules_and_audits_the_change(self) -> None:
        self.login(self.carol)
        self.assertEqual(self.client.get(self.url()).status_code, 200)
        response = self.client.post(
            self.url(),
            {
                "volunteer_test_required": "on",
                "volunteer_test_hours": "72",
                "goods_hold_minutes": "180",
            },
        )
        self.assertRedirects(response, self.url())
        community = self.community_now()
        self.assertTrue(community.volunteer_test_required)
        self.assertEqual(community.volunteer_test_hours, 72)
        self.assertEqual(community.goods_hold_minutes, 180)
        entry = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Community),
            object_pk=str(community.pk),
            action=LogEntry.Action.UPDATE,
        ).get()
        self.assertEqual(entry.actor, self.carol)
        self.assertEqual(entry.changes_dict["volunteer_test_hours"], ["48", "72"])

    def test_it_refuses_values_out_of_range(self) -> None:
        self.login(self.carol)
        for hours, minutes, message in (
            ("0", "120", "1 到 336 小时"),
            ("337", "120", "1 到 336 小时"),
            ("48", "-1", "0 到 1440 分钟"),
            ("48", "1441", "0 到 1440 分钟"),
            ("abc", "120", "输入整数"),
        ):
            response = self.client.post(
                self.url(),
                {
                    "volunteer_test_required": "on",
                    "volunteer_test_hours": hours,
                    "goods_hold_minutes": minutes,
                },
            )
            self.assertContains(response, message, status_code=400)
        community = self.community_now()
        self.assertFalse(community.volunteer_test_required)
        self.assertEqual(community.volunteer_test_hours, 48)
        self.assertEqual(community.goods_hold_minutes, 120)

    def test_it_lets_only_managers_of_the_community_in(self) -> None:
        for user in (self.alice, self.olivia, self.kate, self.victor, self.oscar):
            self.login(user)
            self.assertEqual(self.client.get(self.url()).status_code, 403, user)
        self.login(self.carol)
        self.assertEqual(self.client.get(self.url("xinghe")).status_code, 404)
        self.assertEqual(self.client.get(self.url("yuanfang")).status_code, 404)
        self.login(self.dave)
        self.assertEqual(self.client.get(self.url("xinghe")).status_code, 200)
        self.assertEqual(self.client.get(self.url("yuanfang")).status_code, 404)
