"""What every app's management commands share: acting as a named user in their area,
refusing with a Chinese message (never a traceback), parsing times, and aligned tables.

The command line is a front end like the pages and the API: it parses, checks access with
the same helpers, calls the same actions and prints. This module is project glue (like
linli/api.py), so the apps' commands can use the registry's scope through it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes.exceptions import ScopeError

from linli.accounts.models import User
from linli.registry import scope
from linli.registry.models import Community


def shell_operator() -> User:
    """Whoever runs a read-only command without --actor: the site operator at the shell,
    who holds the database and the keys anyway. Never saved."""
    return User(username="(命令行)", is_superuser=True, is_active=True)


def user_by_username(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("没有用户名为 %(name)s 的有效账号") % {"name": username})
    return user


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a refusal from an action or an access helper into a CommandError (exit 1)."""
    try:
        yield
    except ValidationError as e:
        raise CommandError("；".join(str(m) for m in e.messages)) from e
    except Http404 as e:
        raise CommandError(str(e) or _("未找到，或不在您的管辖范围内")) from e
    except ScopeError as e:
        raise CommandError(_("未找到，或不在您的管辖范围内")) from e
    except PermissionDenied as e:
        raise CommandError(str(e) or _("您的角色无权进行此操作")) from e


@contextmanager
def acting_as(username: str | None, *, write: bool) -> Iterator[User]:
    """The --actor's account, with their area active and the audit log crediting them.

    A write needs an actor; a read without one runs as the shell operator (everything).
    """
    if not username:
        if write:
            raise CommandError(_("请用 --actor 指定操作账号（用户名）"))
        with scope.activate(scope.Area(communities=None)), refusals():
            yield shell_operator()
        return
    user = user_by_username(username)
    with ExitStack() as stack:
        stack.enter_context(scope.activate_for(user))
        stack.enter_context(set_actor(user))
        stack.enter_context(refusals())
        yield user


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


M = TypeVar("M", bound=Model)


def rows_by_ids(queryset: QuerySet[M], ids: Sequence[str], label: str) -> list[M]:
    """Rows by id within the actor's area, in the order given, or a CommandError naming
    the first one not found. Call inside `acting_as`."""
    rows = []
    for pk in ids:
        row = queryset.filter(pk=pk).first() if str(pk).isdigit() else None
        if row is None:
            raise CommandError(
                _("未找到%(label)s %(id)s，或不在您的管辖范围内") % {"label": label, "id": pk}
            )
        rows.append(row)
    return rows


def only_community_id(user: User) -> int | None:
    """The actor's community when their area is exactly one (for records kept by id)."""
    communities = scope.area_for(user).communities
    return communities[0] if communities is not None and len(communities) == 1 else None


def community_for(user: User, code: str | None) -> Community:
    """The community a write goes to: --community CODE within the actor's area, or the
    actor's only community. Call inside `acting_as`."""
    if code:
        community = Community.objects.filter(code=code).first()
        if community is None:
            raise CommandError(
                _("没有编码为 %(code)s 的社区，或不在您的管辖范围内") % {"code": code}
            )
        return community
    communities = scope.area_for(user).communities
    if communities is not None and len(communities) == 1:
        only: Community = Community.objects.get(pk=communities[0])
        return only
    raise CommandError(_("请用 --community 指定社区编码"))


# --- parsing ----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("应为整数：%(value)s") % {"value": text}) from None
    if value < 0:
        raise argparse.ArgumentTypeError(_("不能为负数：%(value)s") % {"value": text})
    return value


def parse_time(text: str, option: str) -> dt.datetime:
    """An ISO time ('2024-05-01T08:00', or with a space); Shanghai time unless it says."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            _("%(option)s 不是有效时间：%(value)s（例：2024-05-01T08:00）")
            % {"option": option, "value": text}
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def parse_date(text: str | None, option: str) -> dt.date:
    """A date ('2024-05-01'); today (Shanghai) when not given."""
    if not text:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            _("%(option)s 不是有效日期：%(value)s（例：2024-05-01）")
            % {"option": option, "value": text}
        ) from None


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The start of a Shanghai calendar day and of the next."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


# --- printing ---------------------------------------------------------------------------


def when(value: dt.datetime | None, fmt: str = "Y-m-d H:i") -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), fmt)


def width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows under a header, each column as wide as its widest cell."""
    cells = [[str(h) for h in headers]] + [
        ["—" if c is None or c == "" else str(c) for c in row] for row in rows
    ]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        padded = [c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_fields(pairs: Sequence[tuple[str, object]]) -> str:
    """Label: value lines with the values aligned."""
    label_width = max((width(label) for label, _value in pairs), default=0)
    return "\n".join(
        f"{label}{' ' * (label_width - width(label))}  {'—' if value in (None, '') else value}"
        for label, value in pairs
    )


# --- commands with subcommands ------------------------------------------------------------


Options = dict[str, Any]


class SubcommandCommand(BaseCommand):
    """`linli <noun> <verb> … [--actor USERNAME]`: each verb a `do_<verb>(actor, options)`
    method (hyphens become underscores), run inside `acting_as`."""

    def add_arguments(self, parser: CommandParser) -> None:
        self.writes: dict[str, bool] = {}
        self.subparsers = parser.add_subparsers(
            dest="action", required=True, metavar="{" + _("子命令") + "}"
        )
        self.add_subcommands()

    def add_subcommands(self) -> None:
        raise NotImplementedError

    def subcommand(self, name: str, help: str, *, write: bool) -> CommandParser:
        parser: CommandParser = self.subparsers.add_parser(name, help=help, description=help)
        self.writes[name] = write
        parser.add_argument(
            "--actor",
            required=write,
            help=_("以哪个账号的身份操作（用户名）")
            + ("" if write else _("；不填则以系统运维身份查看全部")),
        )
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        method = getattr(self, "do_" + action.replace("-", "_"))
        with acting_as(options.get("actor"), write=self.writes[action]) as actor:
            method(actor, options)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        if not rows:
            self.stdout.write(_("（没有记录）"))
            return
        self.stdout.write(format_table(headers, rows))

    def done(self, message: str) -> None:
        self.stdout.write(self.style.SUCCESS(message))
