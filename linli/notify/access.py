"""Who may read the message log and send test messages: community staff and street admins."""

from __future__ import annotations

from linli.accounts.choices import Role
from linli.accounts.models import User

LOG_READERS = frozenset({Role.COMMUNITY_STAFF, Role.STREET_ADMIN})


def can_read_message_log(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in LOG_READERS)
