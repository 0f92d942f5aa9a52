"""A batch of wishes on top of the base test world, built through the real actions."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_scopes import scopes_disabled

from linli.registry.models import Household
from linli.test import BaseTestCase
from linli.wishes import actions
from linli.wishes.models import Wish, WishBatch


class WishTestCase(BaseTestCase):
    """Four approved wishes of 阳光社区 in a published batch (limit 2): 张建国's household
    (grid 1, two wishes), 李秀英's (grid 2) and 王芳's (no grid); one collected wish of
    赵磊's household in 星河社区; and a draft batch."""

    batch: WishBatch
    draft: WishBatch
    scarf: Wish
    diapers: Wish
    schoolbag: Wish
    blanket: Wish
    far_wish: Wish

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        with scopes_disabled():
            cls.build_wishes()

    @classmethod
    def collect(cls, household_id: int, item: str, recipient: str = "一位低保户老人") -> Wish:
        return actions.wish_collect(
            actor=cls.carol,
            data=actions.WishInput(
                household=Household.objects.get(pk=household_id),
                recipient=recipient,
                item=item,
                value_fen=8000,
            ),
        )

    @classmethod
    def build_wishes(cls) -> None:
        carol = cls.carol
        cls.scarf = cls.collect(cls.zhang.household_id, "围巾和手套")
        cls.diapers = cls.collect(cls.zhang.household_id, "成人纸尿裤")
        cls.schoolbag = cls.collect(cls.li.household_id, "书包", "一名小学生")
        cls.blanket = cls.collect(cls.wang.household_id, "电热毯")
        wishes = [
            actions.wish_approve(actor=carol, wish=w)
            for w in (cls.scarf, cls.diapers, cls.schoolbag, cls.blanket)
        ]
        cls.batch = actions.batch_create(
            actor=carol,
            community=cls.community,
            title="冬日微心愿",
            deliver_by=timezone.localdate() + dt.timedelta(days=7),
            per_claimer_limit=2,
            note="请送到阳光社区党群服务中心",
        )
        actions.batch_add(actor=carol, batch=cls.batch, wishes=wishes)
        actions.batch_publish(actor=carol, batch=cls.batch)
        cls.draft = actions.batch_create(
            actor=carol, community=cls.community, title="下一批", deliver_by=cls.batch.deliver_by
        )
        cls.far_wish = actions.wish_collect(
            actor=cls.root,
            data=actions.WishInput(
                household=Household.objects.get(pk=cls.zhao.household_id),
                recipient="一位独居老人",
                item="保温杯",
            ),
        )
        for wish in (cls.scarf, cls.diapers, cls.schoolbag, cls.blanket):
            wish.refresh_from_db()

    def claim(self, wish: Wish, phone: str = "13800001111", name: str = "王建军") -> str:
        with scopes_disabled():
            claimed = actions.wish_claim(
                batch=self.batch,
                wish_id=wish.pk,
                data=actions.ClaimInput(name=name, phone=phone, work_unit="区税务局"),
            )
            wish.refresh_from_db()
        return claimed.token

    def wish(self, wish: Wish) -> Wish:
        with scopes_disabled():
            return Wish.objects.select_related("claimer", "task_stop").get(pk=wish.pk)
