"""Wish and batch states, the allowed wish transitions, and how a gift reaches the household."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WishStatus(models.TextChoices):
    COLLECTED = "collected", _("已收集")
    APPROVED = "approved", _("已审核")
    PUBLISHED = "published", _("已发布")
    CLAIMED = "claimed", _("已认领")
    FULFILLED = "fulfilled", _("已送达")
    THANKED = "thanked", _("已致谢")
    WITHDRAWN = "withdrawn", _("已撤回")


# The one place that says which status may follow which. published ⇄ claimed: a claim can
# be released; published → approved: the batch closed (or the wish was taken off it).
WISH_TRANSITIONS: dict[str, frozenset[str]] = {
    WishStatus.COLLECTED: frozenset({WishStatus.APPROVED, WishStatus.WITHDRAWN}),
    WishStatus.APPROVED: frozenset({WishStatus.PUBLISHED, WishStatus.WITHDRAWN}),
    WishStatus.PUBLISHED: frozenset(
        {WishStatus.CLAIMED, WishStatus.APPROVED, WishStatus.WITHDRAWN}
    ),
    WishStatus.CLAIMED: frozenset(
        {WishStatus.FULFILLED, WishStatus.PUBLISHED, WishStatus.WITHDRAWN}
    ),
    WishStatus.FULFILLED: frozenset({WishStatus.THANKED}),
    WishStatus.THANKED: frozenset(),
    WishStatus.WITHDRAWN: frozenset(),
}

# Still open to change by staff (item, quantity, value, the public description).
EDITABLE = frozenset({WishStatus.COLLECTED, WishStatus.APPROVED})


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("未发布")
    PUBLISHED = "published", _("认领中")
    CLOSED = "closed", _("已结束")


class DeliveryMode(models.TextChoices):
    CENTRE = "centre", _("送到社区服务中心")
    DOOR = "door", _("志愿者送上门")


class ClaimerKind(models.TextChoices):
    PARTY_MEMBER = "party_member", _("在职党员")
    VOLUNTEER = "volunteer", _("志愿者")
