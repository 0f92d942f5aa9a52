"""Fixed vocabularies of the registry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙辈")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    TENANT = "tenant", _("租户")
    OTHER = "other", _("其他")


class LivingStatus(models.TextChoices):
    LIVING_HERE = "living_here", _("在住")
    AWAY = "away", _("外出")
    IN_HOSPITAL = "in_hospital", _("住院")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已故")


class CareTag(models.TextChoices):
    LIVES_ALONE = "lives_alone", _("独居老人")
    EMPTY_NEST = "empty_nest", _("空巢")
    DISABLED = "disabled", _("残疾")
    DIBAO = "dibao", _("低保")
    EXTREME_HARDSHIP = "extreme_hardship", _("五保/特困")
    PREGNANT = "pregnant", _("孕产妇")
    DIALYSIS = "dialysis", _("血透")
    SERIOUS_ILLNESS = "serious_illness", _("重病")
    INFANT = "infant", _("婴幼儿")
    FOREIGN = "foreign", _("外籍")


class RevealField(models.TextChoices):
    ID_NUMBER = "id_number", _("身份证号")
    PHONE = "phone", _("手机号")
    CONDITIONS = "conditions", _("健康状况")
