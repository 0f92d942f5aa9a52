"""Supplier kinds, package categories, round scopes and states, intake modes, order states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupplierKind(models.TextChoices):
    WHOLESALE_MARKET = "wholesale_market", _("批发市场")
    CHAIN_SUPERMARKET = "chain_supermarket", _("连锁超市")
    SUPPLIER = "supplier", _("供应商")
    ECOMMERCE = "ecommerce", _("电商平台")


class Category(models.TextChoices):
    GRAIN_OIL = "grain_oil", _("粮油")
    VEGETABLES = "vegetables", _("蔬菜")
    MEAT = "meat", _("肉类")
    TOFU = "tofu", _("豆制品")
    CONDIMENTS = "condiments", _("调料")
    FRUIT = "fruit", _("水果")
    EGGS = "eggs", _("蛋")
    HOTPOT = "hotpot", _("火锅")
    MEDICINE = "medicine", _("药品")


class RoundScope(models.TextChoices):
    STREET = "street", _("全街道")
    COMMUNITY = "community", _("社区")
    COMPOUND = "compound", _("小区")
    BUILDING = "building", _("楼栋团购")


class Intake(models.TextChoices):
    FIRST_COME = "first_come", _("先到先得")
    FAIR = "fair", _("公平分配")


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("接单中")
    CLOSED = "closed", _("已截单")
    ALLOCATED = "allocated", _("已分配")
    DISPATCHED = "dispatched", _("已发货")
    DELIVERED = "delivered", _("已送达")
    SETTLED = "settled", _("已结算")


ROUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RoundStatus.DRAFT: frozenset({RoundStatus.OPEN}),
    RoundStatus.OPEN: frozenset({RoundStatus.CLOSED}),
    RoundStatus.CLOSED: frozenset({RoundStatus.ALLOCATED}),
    RoundStatus.ALLOCATED: frozenset({RoundStatus.DISPATCHED}),
    RoundStatus.DISPATCHED: frozenset({RoundStatus.DELIVERED}),
    RoundStatus.DELIVERED: frozenset({RoundStatus.SETTLED}),
    RoundStatus.SETTLED: frozenset(),
}


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("已下单")
    CANCELLED = "cancelled", _("已取消")


class Channel(models.TextChoices):
    RESIDENT = "resident", _("居民自助")
    PROXY = "proxy", _("代下单")
    BULK = "bulk", _("团购登记表")
    CARE = "care", _("爱心包")


class Payment(models.TextChoices):
    ONLINE = "online", _("线上已付")
    ON_DELIVERY = "on_delivery", _("货到付款")
    FREE = "free", _("免费")


class DeliveryStatus(models.TextChoices):
    """Where a household's order is, as the household sees it."""

    WAITING = "waiting", _("待发货")
    DISPATCHED = "dispatched", _("已发货")
    AT_CHECKPOINT = "at_checkpoint", _("已到卡口，消杀静置中")
    RELEASED = "released", _("已放行，分拣中")
    OUT_FOR_DELIVERY = "out_for_delivery", _("配送中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("未送达")


class ShipmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("已发货")
    RECEIVED = "received", _("卡口已接收")
    RELEASED = "released", _("已放行")
    BUNDLED = "bundled", _("已生成配送任务")
