"""The REST API under /api/v1/: its routers, bearer auth and one JSON error format for every 4xx.

Every error is `{"detail": "<中文说明>", "errors": [{"field": ..., "message": ...}]}`; bad input
is a 400 naming the field, something outside the user's area a 404, a role that may not a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django_scopes.exceptions import ScopeError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

from linli.accounts import api as accounts_api
from linli.campaigns import api as campaigns_api
from linli.care import api as care_api
from linli.checkpoints import api as checkpoints_api
from linli.hotline import api as hotline_api
from linli.lib import rest
from linli.meals import api as meals_api
from linli.notify import api as notify_api
from linli.passes import api as passes_api
from linli.registry import api as registry_api
from linli.supply import api as supply_api
from linli.triage import api as triage_api
from linli.wishes import api as wishes_api
from linli.workforce import api as workforce_api


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 as it is: a person reading a response sees 阳光社区, not \\u9633\\u5149."""

    json_dumps_params = {"ensure_ascii": False}


class LinliAPI(NinjaAPI):
    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        """ninja's URLs, with a JSON 405, a JSON index at the root and a JSON 404 for the rest."""
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                if pattern.name == "api-root":
                    pattern.callback = _index
                else:
                    pattern.callback = _json_method_not_allowed(pattern.callback)
        patterns.append(re_path(r"^", _not_found, name="not-found"))
        return patterns, app_name, namespace


api = LinliAPI(
    title="邻里 Linli API",
    version="1",
    description=(
        "先 POST /api/v1/auth/token 取得令牌，之后每个请求带 `Authorization: Bearer <token>`。"
        "列表以 ?limit=&offset= 分页，返回 {count, items}。"
        "错误一律为 JSON：{detail, errors: [{field, message}]}。"
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,  # the docs page would load Swagger UI from a CDN
    auth=accounts_api.bearer,
    renderer=ChineseJSONRenderer(),
)
api.add_router("", accounts_api.router)
api.add_router("", registry_api.router)
api.add_router("", workforce_api.router)
api.add_router("", checkpoints_api.router)
api.add_router("", notify_api.router)
api.add_router("", supply_api.router)
api.add_router("", triage_api.router)
api.add_router("", hotline_api.router)
api.add_router("", care_api.router)
api.add_router("", passes_api.router)
api.add_router("", campaigns_api.router)
api.add_router("", wishes_api.router)
api.add_router("", meals_api.router)


def _error(request: HttpRequest, status: int, detail: str, errors: Any = ()) -> HttpResponse:
    body = rest.ErrorOut(detail=detail, errors=list(errors))
    return api.create_response(request, body.model_dump(), status=status)


@api.exception_handler(NinjaValidationError)
def _bad_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = rest.field_errors_from_pydantic(exc.errors)
    return _error(request, 400, rest.summary(errors), errors)


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = rest.field_errors_from_django(exc)
    return _error(request, 400, rest.summary(errors), errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("请先登录（Authorization: Bearer <token>）"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # ninja could not parse the body (JSONDecodeError and UnicodeDecodeError are ValueErrors)
        return _error(request, 400, _("请求体不是有效的 JSON"), [_body_error()])
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(Http404)
@api.exception_handler(ScopeError)  # a query outside the user's area: nothing to show
def _not_in_area(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = (
        str(exc) if isinstance(exc, Http404) and str(exc) else _("未找到，或不在您的管辖范围内")
    )
    return _error(request, 404, message)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or _("您的角色无权进行此操作"))


@api.exception_handler(OperationalError)
def _busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # SQLite's write lock not granted within busy_timeout at a rush: nothing was written;
    # the client retries, with the same Idempotency-Key for an order.
    response = _error(request, 503, _("系统繁忙，请稍后重试（下单请用同一请求编号）"))
    response["Retry-After"] = "2"
    return response


@api.exception_handler(IntegrityError)
def _conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A uniqueness race between two writers: the checks before saving passed for both.
    return _error(request, 409, _("与已有记录冲突，请刷新后重试"))


def _body_error() -> rest.FieldError:
    return rest.FieldError(field="__all__", message=_("JSON 格式错误"))


View = Callable[..., HttpResponseBase]


def _json_method_not_allowed(view: View) -> View:
    """ninja answers a wrong method with a plain-text 405; the API answers in JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            json = JsonResponse(
                {
                    "detail": _("不支持 %(method)s 方法，可用：%(allowed)s")
                    % {"method": request.method, "allowed": allowed},
                    "errors": [],
                },
                status=405,
                json_dumps_params={"ensure_ascii": False},
            )
            json["Allow"] = allowed
            return json
        return response

    return wrapped


def _index(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return JsonResponse(
        {"title": api.title, "version": api.version, "openapi": request.path + "openapi.json"},
        json_dumps_params={"ensure_ascii": False},
    )


def _not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return JsonResponse(
        {"detail": _("没有这个接口：%(path)s") % {"path": request.path}, "errors": []},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )
