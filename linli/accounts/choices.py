"""The roles of DESIGN.md, by code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("街道保供专班")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    GRID_WORKER = "grid_worker", _("网格员")
    HOTLINE_OPERATOR = "hotline_operator", _("24小时专线")
    CHECKPOINT_KEEPER = "checkpoint_keeper", _("卡口值守")
    VOLUNTEER = "volunteer", _("志愿者")
    SUPPLIER = "supplier", _("保供单位")
    RESIDENT = "resident", _("居民")


# Roles that work with residents' records (the others never see a resident list).
PEOPLE_ROLES = frozenset(
    {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.HOTLINE_OPERATOR}
)
