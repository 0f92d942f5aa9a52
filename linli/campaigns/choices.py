"""Campaign kinds, exemption reasons, how a sample record was matched, and the door-service rule."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from linli.registry.choices import CareTag


class CampaignKind(models.TextChoices):
    MASS_TESTING = "mass_testing", _("核酸筛查")
    CENSUS = "census", _("人口普查")
    VACCINATION = "vaccination", _("疫苗接种")


class ExemptionReason(models.TextChoices):
    AWAY = "away", _("外出")
    IN_HOSPITAL = "in_hospital", _("住院")
    INFANT = "infant", _("婴幼儿")
    TESTED_ELSEWHERE = "tested_elsewhere", _("异地已检")
    OTHER = "other", _("其他")


class MatchMethod(models.TextChoices):
    ID_NUMBER = "id_number", _("身份证号")
    NAME_PHONE = "name_phone", _("姓名+手机号")
    BY_HAND = "by_hand", _("人工核对")
    NONE = "none", _("未匹配")


class Unmatched(models.TextChoices):
    """Why a record found nobody: the list staff work through after an import."""

    INVALID_ID = "invalid_id", _("身份证号有误（可能录入错误）")
    NOT_REGISTERED = "not_registered", _("辖区内无此人（访客或未登记）")
    NO_IDENTITY = "no_identity", _("缺少身份证号和姓名手机号")


class RoundTaskKind(models.TextChoices):
    SWEEP = "sweep", _("扫楼")
    DOOR_SERVICE = "door_service", _("上门服务")


# Who cannot come down to a sampling point, so the sampling team goes to them: a resident
# with one of these care tags, or a long-term-care level at least DOOR_SERVICE_LTC_LEVEL
# (level 5–6 is in practice bedridden), or aged DOOR_SERVICE_AGE or more on the round's day.
DOOR_SERVICE_TAGS = (CareTag.DISABLED, CareTag.SERIOUS_ILLNESS)
DOOR_SERVICE_LTC_LEVEL = 5
DOOR_SERVICE_AGE = 90

# Fields of a testing system's export that an import reads, and the header names they
# usually have (the first one found is the guess; staff can map any column by name).
IMPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "证件号码", "证件号", "身份证", "公民身份号码"),
    "name": ("姓名", "被采样人", "受检者姓名", "受检人", "名字"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "联系方式"),
    "sampled_at": ("采样时间", "采集时间", "检测时间", "接种时间", "登记时间", "时间"),
    "point": ("采样点", "采样点名称", "采集点", "接种点", "点位"),
    "tube": ("试管编码", "试管号", "条码", "管码", "样本编号"),
}
IMPORT_FIELD_LABELS: dict[str, StrOrPromise] = {
    "id_number": _("身份证号"),
    "name": _("姓名"),
    "phone": _("手机号"),
    "sampled_at": _("采样时间"),
    "point": _("采样点"),
    "tube": _("试管编码"),
}
