"""The message log page: staff only, phones masked, scoped to the reader's communities."""

from __future__ import annotations

from django.test import override_settings
from django_scopes import scopes_disabled

from linli.notify.actions import message_send
from linli.notify.models import Message
from linli.test import BaseTestCase


class MessageLogPageTest(BaseTestCase):
    @classmethod
    def build_world(cls) -> None:
        super().build_world()
        message_send(
            kind="task.left_at_door",
            body="您的物资已放在门口",
            to_phone="13812348000",
            community_id=cls.community.pk,
        )
        message_send(
            kind="goods.released",
            body="星河社区的消息",
            to_phone="13512340000",
            community_id=cls.community_b.pk,
        )
        message_send(
            kind="goods.released",
            body="远方社区的消息",
            to_phone="13412347777",
            community_id=cls.community_far.pk,
        )
        message_send(kind="system", body="不属于任何社区", to_phone="13600000000")
        with override_settings(LINLI_NOTIFY_BACKEND="linli.notify.backends.FailingBackend"):
            message_send(
                kind="task.door_code",
                body="门口取件码 1234",
                to_phone="13712345678",
                community_id=cls.community.pk,
            )

    def test_it_shows_carol_her_community_with_phones_masked(self) -> None:
        self.login(self.carol)
        response = self.client.get("/messages/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "您的物资已放在门口")
        self.assertContains(response, "138****8000")
        self.assertNotContains(response, "13812348000")
        self.assertNotContains(response, "13712345678")
        self.assertNotContains(response, "星河社区的消息")
        self.assertNotContains(response, "远方社区的消息")
        self.assertNotContains(response, "不属于任何社区")
        self.assertContains(response, "发送失败")
        self.assertContains(response, "gateway unavailable")
        self.assertContains(response, "共 2 条")

    def test_it_shows_a_street_admin_the_communities_of_the_street(self) -> None:
        self.login(self.dave)
        response = self.client.get("/messages/")
        self.assertContains(response, "您的物资已放在门口")
        self.assertContains(response, "星河社区的消息")
        self.assertNotContains(response, "远方社区的消息")

    def test_it_shows_a_superuser_everything(self) -> None:
        self.login(self.root)
        response = self.client.get("/messages/")
        self.assertContains(response, "共 5 条")
        self.assertContains(response, "不属于任何社区")

    def test_it_refuses_everyone_else(self) -> None:
        for user in (
            self.alice,
            self.olivia,
            self.kate,
            self.victor,
            self.sam,
            self.rita_user,
            self.oscar,
        ):
            self.login(user)
            self.assertEqual(self.client.get("/messages/").status_code, 403, user)

    def test_it_filters_by_kind_and_status(self) -> None:
        self.login(self.carol)
        response = self.client.get("/messages/?status=failed")
        self.assertContains(response, "门口取件码")
        self.assertNotContains(response, "您的物资已放在门口")
        response = self.client.get("/messages/?kind=task.left_at_door")
        self.assertContains(response, "您的物资已放在门口")
        self.assertNotContains(response, "门口取件码")
        response = self.client.get("/messages/?status=lost")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, 'class="errorlist"', status_code=400)

    def test_it_does_not_offer_kinds_of_other_communities(self) -> None:
        self.login(self.carol)
        response = self.client.get("/messages/")
        self.assertContains(response, 'value="task.left_at_door"')
        self.assertNotContains(response, 'value="goods.released"')
        response = self.client.get("/messages/?kind=goods.released")
        self.assertEqual(response.status_code, 400)
        self.assertNotContains(response, "星河社区的消息", status_code=400)

    @override_settings(LINLI_PAGE_SIZE=2)
    def test_it_pages_the_log(self) -> None:
        with scopes_disabled():
            for n in range(3):
                message_send(
                    kind="bulk",
                    body=f"批量消息{n}",
                    to_phone="13800000000",
                    community_id=self.community.pk,
                )
            self.assertEqual(Message.objects.filter(community_id=self.community.pk).count(), 5)
        self.login(self.carol)
        response = self.client.get("/messages/?kind=bulk")
        self.assertContains(response, "第 1 / 2 页")
        self.assertContains(response, "批量消息2")
        self.assertNotContains(response, "批量消息0")
        response = self.client.get("/messages/?kind=bulk&page=2")
        self.assertContains(response, "批量消息0")
        self.assertContains(response, "page=1")
