"""Encrypted model fields and the keyed blind index used to find and dedupe them."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils.functional import cached_property
from encrypted_fields import fields as encrypted


class LinliKeys:
    """Fernet keys from LINLI_FIELD_KEYS rather than derived from SECRET_KEY.

    The library derives its keys from SECRET_KEY; tying personal data to the session
    secret would make rotating that secret destroy the data, so the keys are our own.
    """

    @cached_property
    def keys(self) -> list[bytes]:
        return [k.encode() for k in settings.LINLI_FIELD_KEYS]

    def get_prep_value(self, value: Any) -> Any:
        # Blank stays blank (not NULL), so "no phone" needs no nullable column.
        if value is None or value == "":
            return ""
        return super().get_prep_value(value)  # type: ignore[misc]


# models.CharField / TextField are named again after the library's classes (which already
# derive from them) so that type checkers see what the fields hold.
class EncryptedCharField(LinliKeys, encrypted.EncryptedCharField, models.CharField[str, str]):  # type: ignore[misc]
    """Encrypted short text (ID and phone numbers)."""


class EncryptedTextField(LinliKeys, encrypted.EncryptedTextField, models.TextField[str, str]):  # type: ignore[misc]
    """Encrypted free text (health conditions)."""


def encrypted_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, LinliKeys)]


@receiver(setting_changed)
def forget_keys(*, setting: str, **kwargs: Any) -> None:
    """Fields cache their Fernet keys; a change of LINLI_FIELD_KEYS (tests) must reach them."""
    if setting != "LINLI_FIELD_KEYS":
        return
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, LinliKeys):
                field.__dict__.pop("keys", None)
                field.__dict__.pop("f", None)


def blind_index(value: str, *, purpose: str) -> str:
    """An HMAC of a normalised value: equal inputs give equal digests, nothing else leaks.

    `purpose` separates the indexes (an ID number and a phone with the same digits must
    not collide).
    """
    if not value:
        return ""
    key = f"{settings.LINLI_INDEX_KEY}:{purpose}".encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()[:40]
