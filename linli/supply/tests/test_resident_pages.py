"""The resident's phone page: signing in with phone + SMS code (read from the message log), the
open rounds serving their household, their own order only, and where each order is."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.notify.models import Message
from linli.registry.models import Resident
from linli.supply import actions
from linli.supply.actions import ItemInput
from linli.supply.choices import Channel, DeliveryStatus, Intake, OrderStatus, Payment
from linli.supply.models import Order
from linli.supply.tests.base import SupplyTestCase

ZHANG_PHONE = "13812348000"  # 张建国, no account yet
ZENG_PHONE = "13912341234"  # 曾小明, linked to rita's account


class SmsLoginTest(SupplyTestCase):
    def setUp(self) -> None:
        cache.clear()  # the rate limits count in the cache

    def codes(self) -> list[str]:
        with scopes_disabled():
            bodies = Message.objects.filter(kind="login.sms_code").values_list("body", flat=True)
            return [re.search(r"\d{6}", body).group() for body in bodies]  # type: ignore[union-attr]

    def ask_code(self, phone: str, next_url: str = "") -> str:
        query = f"?next={next_url}" if next_url else ""
        response = self.client.post(f"/login/sms/{query}", {"step": "send", "phone": phone})
        self.assertEqual(response.status_code, 302, response.content.decode())
        return self.codes()[0] if self.codes() else ""

    def enter(self, code: str, next_url: str = "") -> Any:
        return self.client.post("/login/sms/", {"step": "verify", "code": code, "next": next_url})

    def signed_in_as(self) -> User | None:
        user = self.client.get("/my/orders/").wsgi_request.user
        return user if isinstance(user, User) else None

    def test_it_signs_a_resident_in_with_a_code_and_links_a_new_account(self) -> None:
        page = self.client.get("/my/orders/")
        self.assertRedirects(page, "/login/sms/?next=/my/orders/", fetch_redirect_response=False)
        code = self.ask_code(ZHANG_PHONE, "/my/orders/")
        with scopes_disabled():
            message = Message.objects.get(kind="login.sms_code")
        self.assertEqual(message.to_phone, ZHANG_PHONE)
        self.assertIsNone(message.community_id)  # not in any community's message log
        self.assertIn("10 分钟内有效", message.body)
        sent = self.client.get("/login/sms/")
        self.assertContains(sent, "138****8000")
        self.assertNotContains(sent, code)
        response = self.enter(code, "/my/orders/")
        self.assertRedirects(response, "/my/orders/", fetch_redirect_response=False)
        with scopes_disabled():
            zhang = Resident.objects.select_related("user").get(pk=self.zhang.pk)
        assert zhang.user is not None
        self.assertEqual((zhang.user.role, zhang.user.display_name), (Role.RESIDENT, "张建国"))
        self.assertFalse(zhang.user.has_usable_password())
        self.assertEqual(self.signed_in_as(), zhang.user)
        self.assertNotIn("sms_login", self.client.session)

    def test_it_signs_in_the_account_already_linked(self) -> None:
        code = self.ask_code(ZENG_PHONE)
        response = self.enter(code)
        self.assertRedirects(response, "/my/orders/", fetch_redirect_response=False)
        self.assertEqual(self.signed_in_as(), self.rita_user)
        self.assertEqual(User.objects.filter(role=Role.RESIDENT).count(), 1)

    def test_it_refuses_a_wrong_code_and_counts_the_tries(self) -> None:
        code = self.ask_code(ZHANG_PHONE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = self.enter(wrong)
        self.assertContains(response, "验证码错误，还可再试 4 次", status_code=400)
        for _try in range(3):
            self.enter(wrong)
        response = self.enter(wrong)
        self.assertContains(response, "验证码错误次数过多，请重新获取", status_code=400)
        response = self.enter(code)  # the right one, too late
        self.assertContains(response, "请先获取验证码", status_code=400)
        self.assertIsNone(self.signed_in_as())
        with scopes_disabled():
            self.assertIsNone(Resident.objects.get(pk=self.zhang.pk).user_id)

    def test_it_refuses_an_expired_code(self) -> None:
        code = self.ask_code(ZHANG_PHONE)
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
            response = self.enter(code)
        self.assertContains(response, "验证码已过期，请重新获取", status_code=400)
        self.assertIsNone(self.signed_in_as())

    def test_it_sends_nothing_to_an_unregistered_number_and_says_the_same(self) -> None:
        self.ask_code("13000000000")
        self.assertEqual(self.codes(), [])
        page = self.client.get("/login/sms/")
        self.assertContains(page, "130****0000")
        response = self.enter("123456")
        self.assertContains(response, "验证码错误", status_code=400)
        self.assertIsNone(self.signed_in_as())

    def test_it_refuses_a_bad_number(self) -> None:
        response = self.client.post("/login/sms/", {"step": "send", "phone": "12345"})
        self.assertContains(response, "手机号：", status_code=400)
        response = self.client.post("/login/sms/", {"step": "send", "phone": ""})
        self.assertContains(response, "请填写手机号", status_code=400)

    @override_settings(LINLI_SMS_PHONE_RATE="2/h")
    def test_it_limits_codes_per_number(self) -> None:
        self.ask_code(ZHANG_PHONE)
        self.ask_code(ZHANG_PHONE)
        response = self.client.post("/login/sms/", {"step": "send", "phone": ZHANG_PHONE})
        self.assertContains(response, "验证码发送过于频繁", status_code=429)
        self.assertEqual(len(self.codes()), 2)

    @override_settings(LINLI_SMS_IP_RATE="1/h")
    def test_it_limits_codes_per_address(self) -> None:
        self.ask_code(ZHANG_PHONE)
        response = self.client.post("/login/sms/", {"step": "send", "phone": ZENG_PHONE})
        self.assertEqual(response.status_code, 429)
        self.assertEqual(len(self.codes()), 1)

    def test_it_never_signs_a_staff_account_in_by_code(self) -> None:
        with scopes_disabled():
            Resident.objects.filter(pk=self.zhang.pk).update(user=self.alice)
        response = self.enter(self.ask_code(ZHANG_PHONE))
        self.assertContains(response, "请用用户名和密码登录", status_code=400)
        self.assertIsNone(self.signed_in_as())

    def test_it_ignores_a_next_address_on_another_site(self) -> None:
        code = self.ask_code(ZENG_PHONE)
        response = self.enter(code, "https://evil.example/")
        self.assertRedirects(response, "/my/orders/", fetch_redirect_response=False)


class ResidentOrderPageTest(SupplyTestCase):
    def test_it_places_changes_and_cancels_the_households_own_order(self) -> None:
        round, veg, rice = self.open_round(stock=5)
        self.login(self.rita_user)
        page = self.client.get("/my/orders/")
        self.assertContains(page, f"/my/orders/{round.pk}/")
        response = self.client.post(
            f"/my/orders/{round.pk}/", {"payment": "on_delivery", f"q_{veg.pk}": 2}
        )
        self.assertRedirects(response, "/my/orders/", fetch_redirect_response=False)
        with scopes_disabled():
            order = Order.objects.get()
            self.assertEqual(order.household_id, self.zeng.household_id)
            self.assertEqual((order.channel, order.placed_by), (Channel.RESIDENT, self.rita_user))
            self.client.post(
                f"/my/orders/{round.pk}/",
                {"payment": "on_delivery", f"q_{veg.pk}": 1, f"q_{rice.pk}": 1},
            )
            self.assertEqual(
                sorted(order.items.values_list("offer__package__name", "quantity")),
                [("米面油套餐", 1), ("蔬菜包", 1)],
            )
            self.client.post(f"/my/orders/{round.pk}/cancel/")
            order.refresh_from_db()
        self.assertEqual(order.status, OrderStatus.CANCELLED)

    def test_it_does_not_let_a_resident_mark_their_order_paid(self) -> None:
        round, veg, _rice = self.open_round()
        self.login(self.rita_user)
        response = self.client.post(
            f"/my/orders/{round.pk}/", {"payment": "free", f"q_{veg.pk}": 1}
        )
        self.assertContains(response, "请选择付款方式", status_code=400)
        with scopes_disabled():
            self.assertFalse(Order.objects.exists())

    def test_it_shows_the_actions_errors_in_chinese(self) -> None:
        round, veg, _rice = self.open_round(stock=1, limit=1)
        with scopes_disabled():
            actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
        self.login(self.rita_user)
        response = self.client.post(
            f"/my/orders/{round.pk}/", {"payment": "on_delivery", f"q_{veg.pk}": 1}
        )
        self.assertContains(response, "蔬菜包 已售罄", status_code=400)
        response = self.client.post(
            f"/my/orders/{round.pk}/", {"payment": "on_delivery", f"q_{veg.pk}": 2}
        )
        self.assertContains(response, "蔬菜包 超过每户限购 1 份", status_code=400)

    def test_it_shows_where_the_order_is(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zeng"),
                items=[ItemInput(veg, 1)],
            )
            at = dt.datetime(2024, 4, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
            Order.objects.filter(pk=order.pk).update(
                delivery_status=DeliveryStatus.AT_CHECKPOINT, delivery_status_at=at
            )
        self.login(self.rita_user)
        page = self.client.get("/my/orders/")
        self.assertContains(page, "已到卡口，消杀静置中")
        self.assertContains(page, "04-20 09:30")
        self.assertContains(page, order.pickup_code)

    def test_it_explains_a_fair_allocation(self) -> None:
        round, veg, _rice = self.open_round(intake=Intake.FAIR, stock=1, limit=2)
        with scopes_disabled():
            for attr in ("zhang", "zeng"):
                actions.order_place(
                    actor=self.carol,
                    round=round,
                    household=self.home(attr),
                    items=[ItemInput(veg, 2)],
                )
            actions.round_close(actor=self.carol, round=round)
            note = (
                Order.objects.get(household_id=self.zeng.household_id).items.get().allocation_note
            )
        self.assertTrue(note)
        self.login(self.rita_user)
        page = self.client.get("/my/orders/")
        self.assertContains(page, note)
        self.assertContains(page, "分到 0 份")

    def test_it_hides_other_households_and_rounds_not_serving_theirs(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            other = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zhang"),
                items=[ItemInput(veg, 1)],
            )
        self.login(self.rita_user)
        page = self.client.get("/my/orders/")
        self.assertNotContains(page, other.pickup_code)
        self.assertNotContains(page, "1单元101")
        with scopes_disabled():
            far = actions.round_create(
                actor=self.dave,
                street_id=self.street.pk,
                data=actions.RoundInput(
                    title="星河社区专场",
                    scope="community",
                    community_id=self.community_b.pk,
                    opens_at=round.opens_at,
                    closes_at=round.closes_at,
                    delivery_date=round.delivery_date,
                    intake=Intake.FIRST_COME,
                ),
            )
        self.assertEqual(self.client.get(f"/my/orders/{far.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/my/orders/"), "星河社区专场")

    def test_it_is_for_residents_only(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get("/my/orders/").status_code, 403)

    def test_it_tells_a_resident_without_a_household_to_ask_the_community(self) -> None:
        lone = User.objects.create_user("lone", role=Role.RESIDENT)
        self.login(lone)
        self.assertContains(self.client.get("/my/orders/"), "还没有关联到住户")

    def test_it_keeps_the_payment_a_proxy_chose(self) -> None:
        round, veg, _rice = self.open_round()
        with scopes_disabled():
            order = actions.order_place(
                actor=self.alice,
                round=round,
                household=self.home("zeng"),
                items=[ItemInput(veg, 1)],
                payment=Payment.FREE,
            )
        self.login(self.rita_user)
        self.client.post(f"/my/orders/{round.pk}/", {"payment": "free", f"q_{veg.pk}": 2})
        with scopes_disabled():
            order.refresh_from_db()
            self.assertEqual(order.payment, Payment.FREE)
            self.assertEqual(order.items.get().quantity, 2)
