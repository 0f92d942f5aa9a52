"""Checks for the resident ID number (GB 11643) and mobile numbers, with warnings apart from errors.

python-stdnum's `cn.ric` is used for the check digit and birth date only: its region table
rejects real IDs of older residents whose county codes were retired, so an unknown region
is reported as a warning and never blocks a record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import phonenumbers
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent


@dataclass
class Checked:
    """A normalised value with the reasons it is wrong (errors) or doubtful (warnings)."""

    value: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    sex: str = ""


def check_id_number(raw: str) -> Checked:
    value = ric.compact(raw or "").upper()
    checked = Checked(value=value)
    if not value:
        return checked
    if len(value) != 18:
        checked.errors.append(_("身份证号应为18位"))
        return checked
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        checked.errors.append(_("身份证号格式错误"))
        return checked
    try:
        checked.birth_date = ric.get_birth_date(value)
    except (InvalidComponent, ValueError):
        checked.errors.append(_("身份证出生日期无效"))
        return checked
    if checked.birth_date > timezone.localdate() or checked.birth_date.year < 1890:
        checked.errors.append(_("身份证出生日期无效"))
        return checked
    if ric.calc_check_digit(value) != value[17]:
        checked.errors.append(_("身份证校验位错误"))
        return checked
    try:
        ric.get_birth_place(value)
    except InvalidComponent:
        checked.warnings.append(
            _("身份证地区码 %(code)s 未收录（可能为已撤销的旧县区码）") % {"code": value[:6]}
        )
    checked.sex = "male" if int(value[16]) % 2 else "female"
    return checked


def check_mobile(raw: str) -> Checked:
    digits = "".join(ch for ch in (raw or "") if ch.isdigit() or ch == "+")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    checked = Checked(value=digits)
    if not digits:
        return checked
    if len(digits) != 11 or not digits.isdigit() or not digits.startswith("1"):
        checked.errors.append(_("手机号应为1开头的11位数字"))
        return checked
    number = phonenumbers.parse(digits, "CN")
    if not phonenumbers.is_valid_number(number):
        # New prefixes reach the library late: warn, do not reject.
        checked.warnings.append(_("手机号号段 %(prefix)s 未收录，请核对") % {"prefix": digits[:3]})
    return checked


def compose_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A well-formed ID number (for the demo and tests): region, birth date, sequence, check."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")
