"""Every request runs inside the data scope of its user (see scope.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from linli.registry.scope import activate_for


class ScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with activate_for(request.user) as area:
            request.area = area  # type: ignore[attr-defined]
            return self.get_response(request)
