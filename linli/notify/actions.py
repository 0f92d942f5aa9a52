"""Sending a message: one row in the log per recipient, whatever the backend does."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.notify.backends import SendError, get_backend
from linli.notify.choices import Channel, MessageStatus
from linli.notify.models import Message

logger = logging.getLogger("linli.notify")


def message_send(
    *,
    kind: str,
    body: str,
    to_phone: str = "",
    to_user: User | None = None,
    channel: str = Channel.SMS,
    community_id: int | None = None,
    actor: User | None = None,
) -> Message:
    """Send one message and log it. A gateway failure is logged as a failed message, never
    raised: the delivery or change that caused the message has happened and must stand."""
    if not to_phone and to_user is None:
        raise ValueError("a message needs a phone number or an account")
    backend = get_backend()
    message = Message(
        kind=kind,
        body=body,
        to_phone=to_phone,
        to_user=to_user,
        channel=channel,
        community_id=community_id,
        sent_by=actor,
        backend=f"{type(backend).__module__}.{type(backend).__name__}",
        status=MessageStatus.SENT,
    )
    try:
        backend.send(message)
    except SendError as exc:
        message.status = MessageStatus.FAILED
        message.error = str(exc)[:300] or _("发送失败")
        logger.warning("message %s failed: %s", kind, message.error)
    message.save()
    return message
