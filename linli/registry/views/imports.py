"""Import of residents from a spreadsheet (preview, then commit), export of the register."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def register_export(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def import_upload(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def import_template(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    raise NotImplementedError
