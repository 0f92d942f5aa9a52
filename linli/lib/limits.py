"""Rate limits on expensive or sensitive views (search, export), read from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit

V = TypeVar("V", bound=Callable[..., Any])


def limited(setting: str) -> Callable[[V], V]:
    """Allow each user (or address, when signed out) the rate in `settings.<setting>`.

    Over it, django-ratelimit raises and RATELIMIT_VIEW answers 429.
    """

    def rate(group: str, request: HttpRequest) -> str:
        value: str = getattr(settings, setting)
        return value

    decorator: Callable[[V], V] = ratelimit(key="user_or_ip", rate=rate, block=True)
    return decorator


def over_limit(request: HttpRequest, *, group: str, setting: str) -> bool:
    """Count one use for the API, which answers 429 itself when this says True."""
    limited_now: bool = is_ratelimited(
        request, group=group, key="user_or_ip", rate=getattr(settings, setting), increment=True
    )
    return limited_now


def over_limit_by(request: HttpRequest, *, group: str, setting: str, key: str) -> bool:
    """Count one use against an explicit key (a phone number's blind index, say) rather than
    the user or address: a code sent to one number from many addresses is still counted."""
    limited_now: bool = is_ratelimited(
        request,
        group=group,
        key=lambda _group, _request: key,
        rate=getattr(settings, setting),
        increment=True,
    )
    return limited_now
