"""The message log in the REST API (errors: linli/api.py): what was sent, to whom (masked), how.

Community staff see their community's messages, a street admin their street's; the scope
every query runs in holds them to it. notify imports no app, so the roles are named here.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.rest import ERRORS, Page, PageQuery, aware, page_of
from linli.notify.choices import Channel, MessageStatus
from linli.notify.models import Message

router = Router(tags=["消息记录"])

READERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})


def can_read_messages(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in READERS)


class MessageOut(Schema):
    id: int
    created_at: dt.datetime
    channel: str
    channel_label: str
    kind: str = Field(description="消息类型，如 task.left_at_door")
    to_phone_masked: str = Field(description="收件手机号（已隐藏）")
    to_user: str = Field(description="收件账号（用户名），发往手机号时为空")
    body: str
    status: str
    status_label: str
    error: str = Field(description="发送失败的原因")
    backend: str
    community_id: int | None
    sent_by: str = Field(description="触发发送的人")


class MessageQuery(PageQuery):
    kind: str | None = Field(None, max_length=64, description="消息类型")
    status: MessageStatus | None = Field(None, description="sent 或 failed")
    channel: Channel | None = Field(None, description="sms 或 wechat")
    since: dt.datetime | None = Field(None, description="此时以后的消息")


def _message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.pk,
        created_at=timezone.localtime(message.created_at),
        channel=message.channel,
        channel_label=message.get_channel_display(),
        kind=message.kind,
        to_phone_masked=message.masked_phone,
        to_user=message.to_user.username if message.to_user else "",
        body=message.body,
        status=message.status,
        status_label=message.get_status_display(),
        error=message.error,
        backend=message.backend,
        community_id=message.community_id,
        sent_by=(message.sent_by.display_name or message.sent_by.username)
        if message.sent_by
        else "",
    )


@router.get("/messages", response={200: Page[MessageOut], **ERRORS})
def message_list(request: HttpRequest, query: Query[MessageQuery]) -> Page[MessageOut]:
    """Every message sent in the user's area, newest first (phones masked)."""
    user = api_user(request)
    if not can_read_messages(user):
        raise PermissionDenied(_("您的角色无权查看消息记录"))
    messages = Message.objects.select_related("to_user", "sent_by")
    if query.kind:
        messages = messages.filter(kind=query.kind.strip())
    if query.status is not None:
        messages = messages.filter(status=query.status.value)
    if query.channel is not None:
        messages = messages.filter(channel=query.channel.value)
    if query.since is not None:
        messages = messages.filter(created_at__gte=aware(query.since))
    return page_of(messages, query, _message_out)
