"""The wish lifecycle through the actions: collect, approve, publish, claim, limit, release,
fulfil at the centre or at the door (the task board's code flow), thanks, withdraw, close."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from linli.lib.identity import compose_id_number
from linli.notify.models import Message
from linli.registry.models import Household
from linli.wishes import actions
from linli.wishes.choices import BatchStatus, DeliveryMode, WishStatus
from linli.wishes.models import Claimer, Wish, WishClaim, WishEvent, token_digest
from linli.wishes.tests.base import WishTestCase
from linli.workforce import actions as workforce
from linli.workforce.choices import StopStatus, TaskKind, VolunteerStatus
from linli.workforce.models import TaskStop


class WishActionTests(WishTestCase):
    def test_it_refuses_a_public_description_with_a_name_or_a_number(self) -> None:
        with scopes_disabled():
            household = Household.objects.get(pk=self.zhang.household_id)
            for recipient in ("张建国老人", "一位老人 13812348000", ""):
                with self.assertRaises(ValidationError) as caught:
                    actions.wish_collect(
                        actor=self.carol,
                        data=actions.WishInput(
                            household=household, recipient=recipient, item="围巾"
                        ),
                    )
                self.assertIn("recipient", caught.exception.message_dict)
            self.assertEqual(Wish.objects.filter(household=household).count(), 2)

    def test_it_publishes_every_wish_of_the_batch_with_numbers_and_events(self) -> None:
        with scopes_disabled():
            numbers = list(
                Wish.objects.filter(batch=self.batch)
                .order_by("number")
                .values_list("number", "status")
            )
            self.assertEqual(numbers, [(n, WishStatus.PUBLISHED) for n in (1, 2, 3, 4)])
            steps = list(
                WishEvent.objects.filter(wish=self.scarf).values_list("from_status", "to_status")
            )
        self.assertEqual(
            steps,
            [
                ("", WishStatus.COLLECTED),
                (WishStatus.COLLECTED, WishStatus.APPROVED),
                (WishStatus.APPROVED, WishStatus.APPROVED),
                (WishStatus.APPROVED, WishStatus.PUBLISHED),
            ],
        )
        self.assertEqual(self.batch.status, BatchStatus.PUBLISHED)

    def test_it_claims_once_keeps_the_phone_encrypted_and_texts_the_link(self) -> None:
        token = self.claim(self.scarf)
        with scopes_disabled():
            wish = self.wish(self.scarf)
            self.assertEqual(wish.status, WishStatus.CLAIMED)
            claimer = Claimer.objects.get()
            self.assertEqual(claimer.phone, "13800001111")
            self.assertEqual(claimer.claim_count, 1)
            claim = WishClaim.objects.get()
            self.assertEqual(claim.token_digest, token_digest(token))
            message = Message.objects.get(kind="wish.claimed")
            self.assertIn("1号 围巾和手套×1", message.body)
            with self.assertRaises(ValidationError) as caught:
                self.claim(self.scarf, phone="13900002222")
        self.assertEqual(
            caught.exception.message_dict["wish"], ["这个心愿已被他人认领，请选择其他心愿"]
        )

    def test_it_stops_a_phone_at_the_batch_limit_and_counts_a_release(self) -> None:
        self.claim(self.scarf)
        self.claim(self.diapers)
        with scopes_disabled(), self.assertRaises(ValidationError) as caught:
            self.claim(self.schoolbag)
        self.assertIn("每人最多认领 2 个心愿", caught.exception.message_dict["phone"][0])
        with scopes_disabled():
            self.assertEqual(self.wish(self.schoolbag).status, WishStatus.PUBLISHED)
            actions.claim_release(actor=self.carol, wish=self.wish(self.diapers), reason="出差")
            self.assertEqual(Claimer.objects.get().claim_count, 1)
        self.claim(self.schoolbag)
        self.assertEqual(self.wish(self.schoolbag).status, WishStatus.CLAIMED)

    def test_it_lets_the_claimer_release_by_their_link_once(self) -> None:
        token = self.claim(self.scarf)
        with scopes_disabled():
            wish = actions.claim_release_by_token(token=token, reason="买不到")
            self.assertEqual(wish.status, WishStatus.PUBLISHED)
            self.assertIsNone(wish.claimer_id)
            self.assertEqual(Claimer.objects.get().claim_count, 0)
            with self.assertRaises(ValidationError):
                actions.claim_release_by_token(token=token)
            with self.assertRaises(ValidationError):
                actions.claim_release_by_token(token="not-a-token")

    def test_it_fulfils_at_the_centre_and_tells_the_claimer_the_thanks(self) -> None:
        self.claim(self.scarf)
        with scopes_disabled():
            wish = actions.wish_receive(actor=self.carol, wish=self.wish(self.scarf), note="已收")
            self.assertEqual(wish.status, WishStatus.FULFILLED)
            self.assertEqual(wish.delivery_mode, DeliveryMode.CENTRE)
            self.assertEqual(wish.fulfilled_by_id, self.carol.pk)
            wish = actions.wish_thank(actor=self.alice, wish=wish, thanks="谢谢，围巾很暖和")
            self.assertEqual(wish.status, WishStatus.THANKED)
            told = Message.objects.get(kind="wish.thanked")
            self.assertEqual(told.to_phone, "13800001111")
            self.assertIn("围巾很暖和", told.body)

    def test_it_delivers_to_the_door_through_the_task_board_with_the_households_code(
        self,
    ) -> None:
        self.claim(self.scarf)
        self.claim(self.diapers, phone="13900002222")
        with scopes_disabled():
            task = actions.wish_send_to_door(
                actor=self.carol, wishes=[self.wish(self.scarf), self.wish(self.diapers)]
            )
            self.assertEqual(task.kind, TaskKind.WISH_DELIVERY)
            stop = TaskStop.objects.get(task=task)
            self.assertEqual(stop.household_id, self.zhang.household_id)
            self.assertEqual(stop.items, "1号 围巾和手套×1、2号 成人纸尿裤×1")
            with self.assertRaises(ValidationError):
                actions.claim_release(actor=self.carol, wish=self.wish(self.scarf), reason="x")
            volunteer = workforce.volunteer_signup(
                community=self.community,
                data=workforce.SignupInput(
                    name="周志愿",
                    phone="13700001111",
                    id_number=compose_id_number("110101", dt.date(1988, 4, 9), 321),
                    password="lanterns and kites",
                ),
            )
            workforce.volunteer_review(
                actor=self.carol, volunteer=volunteer, status=VolunteerStatus.VERIFIED
            )
            workforce.task_take(volunteer=volunteer, task=task)
            workforce.task_start(actor=volunteer.user, task=task)
            told = Message.objects.get(kind="task.on_the_way")
            code = re.search(r"收货码 (\d{4})", told.body)
            assert code is not None
            workforce.stop_deliver(actor=volunteer.user, stop=stop, code=code.group(1))
            self.assertEqual(self.wish(self.scarf).status, WishStatus.CLAIMED)
            self.assertEqual(actions.wishes_settle(community_ids=[self.community.pk]), 2)
            self.assertEqual(actions.wishes_settle(), 0)
            wish = self.wish(self.scarf)
            self.assertEqual(wish.status, WishStatus.FULFILLED)
            self.assertEqual(wish.fulfilled_by_id, volunteer.user_id)
            self.assertEqual(TaskStop.objects.get(pk=stop.pk).status, StopStatus.DELIVERED)

    def test_it_withdraws_a_claimed_wish_freeing_the_claimer(self) -> None:
        self.claim(self.scarf)
        with scopes_disabled():
            with self.assertRaises(ValidationError):
                actions.wish_withdraw(actor=self.carol, wish=self.wish(self.scarf), reason=" ")
            wish = actions.wish_withdraw(
                actor=self.carol, wish=self.wish(self.scarf), reason="家庭已搬走"
            )
            self.assertEqual(wish.status, WishStatus.WITHDRAWN)
            self.assertIsNone(wish.claimer_id)
            self.assertEqual(Claimer.objects.get().claim_count, 0)
            self.assertTrue(Message.objects.filter(kind="wish.withdrawn").exists())

    def test_it_closes_a_batch_returning_unclaimed_wishes_for_a_later_one(self) -> None:
        self.claim(self.scarf)
        with scopes_disabled():
            actions.batch_close(actor=self.carol, batch=self.batch)
            self.assertEqual(self.wish(self.scarf).status, WishStatus.CLAIMED)
            blanket = self.wish(self.blanket)
            self.assertEqual((blanket.status, blanket.batch_id), (WishStatus.APPROVED, None))
            with self.assertRaises(ValidationError):
                self.claim(self.diapers)
            actions.batch_add(actor=self.carol, batch=self.draft, wishes=[blanket])
            self.assertEqual(self.wish(self.blanket).number, 1)

    def test_it_refuses_to_publish_an_empty_batch_or_twice(self) -> None:
        with scopes_disabled():
            with self.assertRaises(ValidationError) as caught:
                actions.batch_publish(actor=self.carol, batch=self.draft)
            self.assertIn("wishes", caught.exception.message_dict)
            with self.assertRaises(ValidationError):
                actions.batch_publish(actor=self.carol, batch=self.batch)
