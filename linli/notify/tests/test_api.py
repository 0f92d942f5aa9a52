"""The message log in the REST API: staff see their area's messages, phones masked."""

from __future__ import annotations

from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.notify.actions import message_send
from linli.notify.models import Message
from linli.registry.tests.test_api import ApiTestCase
from linli.test import make_user


class MessageLogTests(ApiTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            message_send(
                kind="task.left_at_door",
                body="【邻里】您的蔬菜包已放在家门口。",
                to_phone="13812348000",
                community_id=cls.community.pk,
                actor=cls.carol,
            )
            message_send(
                kind="task.on_the_way",
                body="【邻里】志愿者正在为您送达。",
                to_phone="13512340000",
                community_id=cls.community_b.pk,
            )
            message_send(
                kind="task.on_the_way",
                body="【邻里】远方的消息。",
                to_phone="13412347777",
                community_id=cls.community_far.pk,
            )

    def kinds(self, path: str, user: User) -> list[str]:
        response = self.get(user, path)
        self.assertEqual(response.status_code, 200, response.content)
        return [m["kind"] for m in response.json()["items"]]

    def test_it_shows_staff_their_communitys_messages_with_masked_phones(self) -> None:
        response = self.get(self.carol, "/api/v1/messages")
        self.assertEqual(response.status_code, 200, response.content)
        items = response.json()["items"]
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["to_phone_masked"], "138****8000")
        self.assertEqual(items[0]["sent_by"], "carol")
        self.assertEqual(items[0]["status"], "sent")
        self.assertTrue(items[0]["created_at"].endswith("+08:00"))
        self.assertNotIn("13812348000", response.content.decode())
        with scopes_disabled():
            self.assertEqual(Message.objects.count(), 3)

    def test_it_shows_a_street_admin_their_street(self) -> None:
        self.assertEqual(
            sorted(self.kinds("/api/v1/messages", self.dave)),
            ["task.left_at_door", "task.on_the_way"],
        )
        self.assertEqual(
            self.kinds("/api/v1/messages?kind=task.on_the_way", self.dave), ["task.on_the_way"]
        )
        self.assertEqual(self.kinds("/api/v1/messages?status=failed", self.dave), [])

    def test_it_refuses_the_log_to_other_roles(self) -> None:
        volunteer = make_user("vic", Role.VOLUNTEER, community=self.community)
        for user in (self.alice, self.olivia, self.kate, self.sam, self.rita_user, volunteer):
            with self.subTest(user=user.username):
                response = self.get(user, "/api/v1/messages")
                self.assertEqual(response.status_code, 403, response.content)
                self.assertNotIn("【邻里】", response.content.decode())
        self.assertEqual(self.get(None, "/api/v1/messages").status_code, 401)

    def test_it_names_a_bad_filter(self) -> None:
        response = self.get(self.carol, "/api/v1/messages?status=lost")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"][0]["field"], "status")
        self.assertIn("取值无效", response.json()["errors"][0]["message"])
        self.assert_error(self.get(self.carol, "/api/v1/messages?limit=0"), 400, limit="不能小于")
