"""Channels and outcomes of the messages Linli sends."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信消息")


class MessageStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
