"""Where messages go: the console by default; a real SMS or WeChat gateway is a subclass
named in LINLI_NOTIFY_BACKEND. A backend raises SendError when the gateway refuses."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from linli.lib.masking import mask_phone
from linli.notify.models import Message

logger = logging.getLogger("linli.notify")


class SendError(Exception):
    pass


class Backend:
    def send(self, message: Message) -> None:
        raise NotImplementedError


class ConsoleBackend(Backend):
    """Writes the message to the log with the phone number masked; sends nothing."""

    def send(self, message: Message) -> None:
        logger.info(
            "[%s] to %s: %s",
            message.channel,
            mask_phone(message.to_phone or "") or f"user:{message.to_user_id}",
            message.body,
        )


class FailingBackend(Backend):
    """A gateway that is down: for trying out what staff see when sending fails."""

    def send(self, message: Message) -> None:
        raise SendError("gateway unavailable")


def get_backend() -> Backend:
    backend: Backend = import_string(settings.LINLI_NOTIFY_BACKEND)()
    return backend
