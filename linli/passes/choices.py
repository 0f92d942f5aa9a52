"""Why a resident goes out, a pass's status, and what a checkpoint's verification found."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PassReason(models.TextChoices):
    DIALYSIS = "dialysis", _("血透")
    PRENATAL = "prenatal", _("产检/分娩")
    EMERGENCY = "emergency", _("急诊")
    CHEMOTHERAPY = "chemotherapy", _("放化疗")
    SERIOUS_ILLNESS = "serious_illness", _("重病就诊")
    MEDICAL = "medical", _("就医复查")
    MEDICINE = "medicine", _("配药")
    OTHER = "other", _("其他")


class PassStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已作废")


class VerifyResult(models.TextChoices):
    VALID = "valid", _("有效，可放行")
    NOT_YET_VALID = "not_yet_valid", _("未到有效时间")
    EXPIRED = "expired", _("已过期")
    REVOKED = "revoked", _("已作废")
    OTHER_COMMUNITY = "other_community", _("非本社区证明")
    UNKNOWN = "unknown", _("无效：伪造或不存在")


class VerifyVia(models.TextChoices):
    QR = "qr", _("扫码")
    CODE = "code", _("输入编码")
