"""What the registry's management commands share: a community by its code, an actor by name."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.registry.models import Community


def community_by_code(code: str) -> Community:
    with scopes_disabled():
        community = Community.objects.filter(code=code).first()
    if community is None:
        raise CommandError(_("没有编码为 %(code)s 的社区") % {"code": code})
    return community


def actor_by_username(username: str | None) -> User | None:
    """The active account named with --actor, recorded in the audit log; None if not given."""
    if not username:
        return None
    actor = User.objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise CommandError(_("没有用户名为 %(name)s 的有效账号") % {"name": username})
    return actor
