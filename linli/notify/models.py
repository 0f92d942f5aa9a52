"""The log of every message sent: to whom (phone encrypted), what, through which backend.

notify imports no other app: the community a message belongs to is kept as a plain id,
so that the log can be scoped without the registry knowing about messages.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.lib.encryption import EncryptedCharField
from linli.lib.masking import mask_phone
from linli.notify.choices import Channel, MessageStatus


class Message(models.Model):
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    # What the message is about, for the log and for tests: "task.left_at_door", ...
    kind = models.CharField(_("类型"), max_length=64)
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("收件账号"),
    )
    to_phone = EncryptedCharField(_("收件手机号"), max_length=20, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=16, choices=MessageStatus.choices)
    backend = models.CharField(_("发送方式"), max_length=100)
    error = models.CharField(_("失败原因"), max_length=300, blank=True)
    community_id = models.IntegerField(null=True, blank=True, db_index=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("触发人"),
    )

    objects: ClassVar[models.Manager[Message]] = ScopedManager(community="community_id")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息记录")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.to_phone or "")
