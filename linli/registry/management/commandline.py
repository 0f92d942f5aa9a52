"""What the registry's management commands share: finding a community by its code."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.registry.models import Community


def community_by_code(code: str) -> Community:
    with scopes_disabled():
        community = Community.objects.filter(code=code).first()
    if community is None:
        raise CommandError(_("没有编码为 %(code)s 的社区") % {"code": code})
    return community
