"""Shared pieces of the REST API: the error body, paging, and field-level reasons in Chinese."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict

MAX_PAGE_SIZE = 200

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class FieldError(Schema):
    field: str = Field(description="出错的字段；__all__ 表示整条记录")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


# For `response=`: the error answers an operation may give, all with the same JSON body.
ERRORS: dict[Any, type[Schema]] = {frozenset({400, 401, 403, 404, 409}): ErrorOut}


class InputSchema(Schema):
    """Request bodies: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Schema):
    limit: int = Field(settings.LINLI_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="每页条数")
    offset: int = Field(0, ge=0, description="从第几条开始（0 起）")


class Page(Schema, Generic[T]):
    count: int = Field(description="符合条件的总条数")
    items: list[T]


def require(allowed: bool, message: str) -> None:
    """A role check in an endpoint: 403 with the reason when it fails."""
    if not allowed:
        raise PermissionDenied(message)


def page_of(queryset: QuerySet[M], query: PageQuery, render: Callable[[M], T]) -> Page[T]:
    """One page of a list: two queries whatever the page size (plus the queryset's prefetches)."""
    count = queryset.count()
    rows = queryset[query.offset : query.offset + query.limit]
    return Page(count=count, items=[render(row) for row in rows])


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """A stored (UTC) time as Shanghai time, so that the JSON carries +08:00."""
    return timezone.localtime(value) if value is not None else None


@overload
def aware(value: dt.datetime) -> dt.datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: dt.datetime | None) -> dt.datetime | None: ...
def aware(value: dt.datetime | None) -> dt.datetime | None:
    """An input time without an offset is Shanghai time."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@contextmanager
def fields_renamed(**names: str) -> Iterator[None]:
    """An action's errors under the names the API's input uses (compound → compound_id)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        raise ValidationError(renamed) from exc


def pick(queryset: QuerySet[M], ids: Sequence[int], *, field: str, what: str) -> list[M]:
    """The rows with these ids, in the order given (repeats dropped), or a 400 on `field`
    naming the first id the queryset (the user's area) does not hold."""
    wanted = list(dict.fromkeys(ids))
    found = {row.pk: row for row in queryset.filter(pk__in=wanted)} if wanted else {}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            {
                field: [
                    _("%(what)s %(id)s 不存在或不在您的管辖范围内")
                    % {"what": what, "id": missing[0]}
                ]
            }
        )
    return [found[pk] for pk in wanted]


def field_errors_from_django(error: ValidationError) -> list[FieldError]:
    messages: Mapping[str, Sequence[str]] = (
        error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    )
    return [
        FieldError(field=name, message=str(message))
        for name, field_messages in messages.items()
        for message in field_messages
    ]


def field_errors_from_pydantic(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """ninja's validation errors (loc like ("body", "payload", "phone")) as field and reason."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", <parameter name>, field...) and ("query" | "path", field...)
        names = loc[2:] if loc[:1] == ["body"] else loc[1:]
        field = ".".join(names) or NON_FIELD_ERRORS
        if not names and loc[:1] == ["body"] and error.get("type") == "missing":
            message = _("缺少 JSON 请求体")
        else:
            message = _reason(str(error.get("type", "")), error.get("ctx") or {})
        found.append(FieldError(field=field, message=message))
    return found


def summary(errors: Sequence[FieldError]) -> str:
    reasons = "；".join(f"{e.field}：{e.message}" for e in errors[:5])
    return _("提交的数据有误：%(reasons)s") % {"reasons": reasons}


def _reason(kind: str, ctx: Mapping[str, Any]) -> str:
    """A pydantic error type in words a community worker understands."""
    if kind == "missing":
        return _("必填")
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return _("应为整数")
    if kind.startswith("date") and not kind.startswith("datetime"):
        return _("日期格式应为 YYYY-MM-DD")
    if kind.startswith("datetime"):
        return _("时间格式应为 YYYY-MM-DDTHH:MM:SS")
    if kind == "string_type":
        return _("应为文字")
    if kind == "string_too_long":
        return _("不能超过 %(n)s 个字符") % {"n": ctx.get("max_length", "")}
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("不能为空")
        return _("至少 %(n)s 个字符") % {"n": ctx.get("min_length", "")}
    if kind in ("enum", "literal_error"):
        # pydantic lists the choices as "'a', 'b' or 'c'"
        choices = str(ctx.get("expected", "")).replace("' or '", "', '").replace("'", "")
        return _("取值无效，可选：%(choices)s") % {"choices": choices.replace(", ", "、")}
    if kind == "greater_than_equal":
        return _("不能小于 %(n)s") % {"n": ctx.get("ge", "")}
    if kind == "greater_than":
        return _("应大于 %(n)s") % {"n": ctx.get("gt", "")}
    if kind == "less_than_equal":
        return _("不能大于 %(n)s") % {"n": ctx.get("le", "")}
    if kind == "less_than":
        return _("应小于 %(n)s") % {"n": ctx.get("lt", "")}
    if kind in ("bool_parsing", "bool_type"):
        return _("应为 true 或 false")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("应为列表")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("应为 JSON 对象")
    if kind == "extra_forbidden":
        return _("不支持的字段")
    if kind == "json_invalid":
        return _("JSON 格式错误")
    return _("格式错误")
