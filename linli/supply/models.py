"""Suppliers and their fixed packages, supply rounds with offers, and households' orders.

Stock is kept on the offer: in a first-come round `remaining` is taken by a conditional
UPDATE when an order is placed and a CHECK constraint forbids it going below zero, so no
interleaving of requests can oversell. In a fair round orders are requests and stock is
shared out at close (allocation.py).
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.lib.encryption import EncryptedCharField
from linli.lib.masking import mask_phone
from linli.registry.models import Building, Community, Compound, Household, Street
from linli.supply.choices import (
    ROUND_TRANSITIONS,
    Category,
    Channel,
    DeliveryStatus,
    Intake,
    OrderStatus,
    Payment,
    RoundScope,
    RoundStatus,
    ShipmentStatus,
    SupplierKind,
)
from linli.workforce.models import TaskStop


class Supplier(models.Model):
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="suppliers", verbose_name=_("街道")
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=24, choices=SupplierKind.choices)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True)
    # The communities it delivers to (its service area).
    communities = models.ManyToManyField(
        Community, related_name="suppliers", blank=True, verbose_name=_("服务社区")
    )
    accounts: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="suppliers", blank=True, verbose_name=_("账号")
    )
    active = models.BooleanField(_("在供"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["street", "name"]
        verbose_name = _("保供单位")
        verbose_name_plural = _("保供单位")
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="supplier_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_contact_phone(self) -> str:
        return mask_phone(self.contact_phone or "")


class Package(models.Model):
    """A fixed pack (套餐包): the same contents, weight and price every time."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="packages", verbose_name=_("保供单位")
    )
    name = models.CharField(_("名称"), max_length=100)
    contents = models.TextField(_("内容"), blank=True)
    category = models.CharField(_("品类"), max_length=16, choices=Category.choices)
    net_weight_g = models.PositiveIntegerField(_("净重（克）"))
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    photo = models.ImageField(_("照片"), upload_to="packages/", blank=True)
    active = models.BooleanField(_("在售"), default=True)

    class Meta:
        ordering = ["supplier", "category", "name"]
        verbose_name = _("套餐包")
        verbose_name_plural = _("套餐包")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "name"], name="package_unique_name"),
            models.CheckConstraint(condition=Q(net_weight_g__gt=0), name="package_has_weight"),
        ]

    def __str__(self) -> str:
        return self.name


class SupplyRound(models.Model):
    """An ordering window and a delivery day for a street, a community, a compound or one
    building (a resident-led group buy with an organiser)."""

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="supply_rounds", verbose_name=_("街道")
    )
    scope = models.CharField(_("范围"), max_length=16, choices=RoundScope.choices)
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supply_rounds",
        verbose_name=_("社区"),
    )
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("团长"),
    )
    title = models.CharField(_("名称"), max_length=100)
    opens_at = models.DateTimeField(_("开始接单"))
    closes_at = models.DateTimeField(_("截单时间"))
    delivery_date = models.DateField(_("配送日期"))
    intake = models.CharField(_("接单方式"), max_length=16, choices=Intake.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=RoundStatus.choices, default=RoundStatus.DRAFT
    )
    # Ties in a fair allocation are broken by this, so re-running it gives the same result.
    allocation_seed = models.PositiveIntegerField(default=0)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-delivery_date", "-pk"]
        verbose_name = _("保供轮次")
        verbose_name_plural = _("保供轮次")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="round_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(scope=RoundScope.STREET)
                | Q(scope=RoundScope.COMMUNITY, community__isnull=False)
                | Q(scope=RoundScope.COMPOUND, compound__isnull=False)
                | Q(scope=RoundScope.BUILDING, building__isnull=False),
                name="round_scope_has_its_place",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def can_become(self, status: str) -> bool:
        return status in ROUND_TRANSITIONS[self.status]

    def window_open(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.status == RoundStatus.OPEN and self.opens_at <= now < self.closes_at

    def households(self) -> models.QuerySet[Household]:
        """The households this round serves (in the active scope)."""
        households = Household.objects.filter(community__street_id=self.street_id)
        if self.scope == RoundScope.COMMUNITY:
            households = households.filter(community=self.community)
        elif self.scope == RoundScope.COMPOUND:
            households = households.filter(unit__building__compound=self.compound)
        elif self.scope == RoundScope.BUILDING:
            households = households.filter(unit__building=self.building)
        return households

    def serves(self, household: Household) -> bool:
        if household.community.street_id != self.street_id:
            return False
        if self.scope == RoundScope.COMMUNITY:
            return household.community_id == self.community_id
        if self.scope == RoundScope.COMPOUND:
            return household.unit.building.compound_id == self.compound_id
        if self.scope == RoundScope.BUILDING:
            return household.unit.building_id == self.building_id
        return True


class Offer(models.Model):
    """A package on offer in a round: stock, what is left of it, and a per-household limit."""

    round = models.ForeignKey(SupplyRound, on_delete=models.CASCADE, related_name="offers")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="offers")
    stock = models.PositiveIntegerField(_("库存"))
    # First come: taken as orders are placed. Fair: untouched until allocation.
    remaining = models.IntegerField(_("剩余"))
    per_household_limit = models.PositiveSmallIntegerField(_("每户限购"), default=1)
    # Copied from the package when offered, so a later price change cannot alter a round.
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    net_weight_g = models.PositiveIntegerField(_("净重（克）"))

    class Meta:
        ordering = ["round", "package__category", "package__name"]
        verbose_name = _("供应")
        verbose_name_plural = _("供应")
        constraints = [
            models.UniqueConstraint(fields=["round", "package"], name="offer_unique_package"),
            # The database itself refuses an oversell, whatever the code above it does.
            models.CheckConstraint(condition=Q(remaining__gte=0), name="offer_never_oversold"),
            models.CheckConstraint(
                condition=Q(remaining__lte=F("stock")), name="offer_remaining_within_stock"
            ),
            models.CheckConstraint(
                condition=Q(per_household_limit__gte=1), name="offer_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package} × {self.stock}"


def new_pickup_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


_order_scope: dict[str, Any] = {
    "community": "household__community",
    "grid": "household__grid",
    "household": "household",
}


class Order(models.Model):
    """One household's order in one round (many items); changed or cancelled until close."""

    round = models.ForeignKey(SupplyRound, on_delete=models.PROTECT, related_name="orders")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        _("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    payment = models.CharField(_("付款方式"), max_length=16, choices=Payment.choices)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("下单人"),
    )
    # A client may send the same order twice (a retry at 6 a.m.): one key, one order.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    pickup_code = models.CharField(_("取货码"), max_length=8, default=new_pickup_code)
    funder = models.CharField(_("出资方"), max_length=100, blank=True)
    delivery_status = models.CharField(
        _("配送状态"),
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.WAITING,
        db_index=True,
    )
    delivery_status_at = models.DateTimeField(null=True, blank=True)
    # The door on a volunteer's delivery task that carries this order (latest attempt).
    task_stop = models.ForeignKey(
        TaskStop, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    delivery_failure = models.CharField(_("未送达原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[Order]] = ScopedManager(**_order_scope)

    class Meta:
        ordering = ["round", "household_id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=Q(status=OrderStatus.PLACED),
                name="order_one_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.household_id}"

    @property
    def is_proxy(self) -> bool:
        return self.channel == Channel.PROXY


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="items")
    quantity = models.PositiveSmallIntegerField(_("数量"))
    # First come: equal to quantity. Fair: set at allocation (None before), with the reason.
    allocated = models.PositiveSmallIntegerField(_("分配数量"), null=True, blank=True)
    allocation_note = models.CharField(_("分配说明"), max_length=200, blank=True)
    price_fen = models.PositiveIntegerField(_("单价（分）"))
    net_weight_g = models.PositiveIntegerField(_("净重（克）"))
    # A free care package (爱心包) given by this plan: not billed to the household, not
    # shared out again at a fair close, and kept when the household changes its order.
    care_plan = models.ForeignKey(
        "CarePlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("爱心包"),
    )

    objects: ClassVar[models.Manager[OrderItem]] = ScopedManager(
        community="order__household__community",
        grid="order__household__grid",
        household="order__household",
    )

    class Meta:
        ordering = ["order", "offer"]
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        constraints = [
            models.UniqueConstraint(fields=["order", "offer"], name="item_unique_offer"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(allocated__isnull=True) | Q(allocated__lte=F("quantity")),
                name="item_allocated_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} × {self.quantity}"


class Shipment(models.Model):
    """One supplier's goods for one round to one checkpoint: dispatched by the supplier,
    received (a goods hold at the checkpoint), released, then bundled into delivery tasks."""

    round = models.ForeignKey(SupplyRound, on_delete=models.PROTECT, related_name="shipments")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="shipments")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(
        _("状态"), max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.DISPATCHED
    )
    bags = models.PositiveIntegerField(_("件数"))
    goods = models.OneToOneField(
        GoodsReceipt, on_delete=models.PROTECT, null=True, blank=True, related_name="shipment"
    )
    dispatched_at = models.DateTimeField(default=timezone.now)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["round", "checkpoint", "supplier"]
        verbose_name = _("发货")
        verbose_name_plural = _("发货")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "supplier", "checkpoint"], name="shipment_unique_leg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.checkpoint}"


class CarePlan(models.Model):
    """A free package for every household carrying any of the chosen care tags (爱心包),
    paid by a named funder and delivered with the round."""

    round = models.ForeignKey(SupplyRound, on_delete=models.CASCADE, related_name="care_plans")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="care_plans")
    tags = models.JSONField(_("人群标签"))
    funder = models.CharField(_("出资方"), max_length=100)
    households = models.PositiveIntegerField(_("户数"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["round", "pk"]
        verbose_name = _("爱心包")
        verbose_name_plural = _("爱心包")

    def __str__(self) -> str:
        return f"{self.offer} ({self.funder})"


class RoundDocument(models.Model):
    """Paperwork made at close (pick lists, manifests, door labels), built in the
    background for large rounds; `progress` is what the page shows while it runs."""

    round = models.ForeignKey(SupplyRound, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("类型"), max_length=32)
    fmt = models.CharField(_("格式"), max_length=8)
    key = models.CharField(max_length=64, blank=True)  # supplier or checkpoint id it is for
    status = models.CharField(_("状态"), max_length=16, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["round", "kind", "key"]
        verbose_name = _("单据")
        verbose_name_plural = _("单据")

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}.{self.fmt}"

    @property
    def status_label(self) -> str:
        labels = {
            "queued": _("排队中"),
            "running": _("生成中"),
            "done": _("已完成"),
            "failed": _("失败"),
        }
        return str(labels.get(self.status, self.status))
