"""Demo supply for a tier's street: the four kinds of supplier from the story with their fixed
packs, and three rounds of the first community (settled two days ago; today's first-come
round, open, with a care package plan; a fair round closing later today).

Called by `linli seed` / `linli demo` after the checkpoints seeder (SupplyConfig.seed).
Suppliers, packages, rounds, offers, the care plan (爱心包) and a few proxy orders go through
the real actions; the volume (hundreds of orders, and the settled round's shipments, goods
receipts, delivery tasks and doors) is written with bulk_create, shaped as the actions
would have left it, so that `orders_sync_deliveries` finds nothing to change and the
figures (kg and value per category, households reached, release-to-door minutes) add up.
Deterministic (one fixed random stream per tier) and idempotent (a street with suppliers
is left alone). Only the first community gets rounds, so the larger tiers stay bounded.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.registry.choices import CareTag, LivingStatus
from linli.registry.models import (
    Building,
    CareTagAssignment,
    Community,
    Compound,
    Grid,
    Household,
    Resident,
    Street,
    Unit,
)
from linli.supply import actions
from linli.supply.choices import (
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
from linli.supply.models import Offer, Order, OrderItem, Package, Shipment, Supplier, SupplyRound
from linli.workforce.choices import StopStatus, TaskKind, TaskStatus, VolunteerStatus
from linli.workforce.models import Task, TaskEvent, TaskStop, Volunteer
from linli.workforce.seed import quiet_messages, tier_communities

DEMO_SUPPLIER = "supplier_1"  # the demo account of registry.seed's _STAFF list: 惠民生鲜配送
# Share of the first community's households with an order in each round, and at most
# about how many orders (the estate's one community has 14,000 households: the cap keeps
# its seed within seconds, and a 3,000-order round still needs background documents).
SETTLED_SHARE, SETTLED_MAX = 0.30, 3_000
TODAY_SHARE, TODAY_MAX = 0.10, 1_200
FAIR_SHARE, FAIR_MAX = 0.12, 1_000  # of the fair round's compound
# Of the settled round's doors: failed (not home, wrong address), left at the door.
FAILED_SHARE = 0.025
LEFT_AT_DOOR_SHARE = 0.35
CARE_TAGS = (CareTag.DIBAO, CareTag.DISABLED, CareTag.EXTREME_HARDSHIP)
CARE_FUNDER = "区慈善总会"
_FAILURES = ("家中无人，电话未接通", "地址有误，门牌号不符", "居民外出就医，改日再送")


@dataclass(frozen=True)
class PackSpec:
    name: str
    category: str
    grams: int
    fen: int
    contents: str
    # How likely a household is to take it in an ordinary round (the report's shares:
    # vegetables by far the most, then eggs and fruit, grain and oil, meat).
    appeal: float = 0.0


@dataclass(frozen=True)
class SupplierSpec:
    name: str
    kind: str
    contact: str
    packs: tuple[PackSpec, ...]


# The seven fixed packs of the report, from the supplier the demo account works for.
SEVEN_PACKS = (
    PackSpec(
        "米面油套餐",
        Category.GRAIN_OIL,
        9_300,
        9_900,
        "东北大米5kg、富强面粉2.5kg、花生油1.8L",
        0.12,
    ),
    PackSpec(
        "蔬菜包",
        Category.VEGETABLES,
        5_000,
        4_800,
        "大白菜、土豆、胡萝卜、洋葱、青椒、西红柿、黄瓜，共约5kg",
        0.85,
    ),
    PackSpec(
        "肉类套餐",
        Category.MEAT,
        2_500,
        12_800,
        "猪前腿肉1kg、排骨0.5kg、冻鸡腿1kg（冷链）",
        0.20,
    ),
    PackSpec("豆制品套餐", Category.TOFU, 1_500, 2_500, "老豆腐、豆腐干、腐竹、豆芽", 0.15),
    PackSpec(
        "调料包", Category.CONDIMENTS, 2_000, 3_500, "生抽、老抽、米醋、食盐、白糖、料酒", 0.08
    ),
    PackSpec("水果包", Category.FRUIT, 4_000, 5_900, "苹果、香蕉、橙子、梨，共约4kg", 0.25),
    PackSpec(
        "火锅套餐",
        Category.HOTPOT,
        2_500,
        8_800,
        "火锅底料、肥牛卷、丸子、粉丝、娃娃菜",
        0.06,
    ),
)
EGGS = PackSpec("土鸡蛋30枚", Category.EGGS, 1_500, 3_600, "散养土鸡蛋30枚，防震托装", 0.35)
CARE_VEG = PackSpec("爱心蔬菜包", Category.VEGETABLES, 3_000, 2_900, "青菜、土豆、胡萝卜、鸡蛋6枚")
FRUIT_BOX = PackSpec("应季水果箱", Category.FRUIT, 5_000, 6_800, "赣南脐橙、红富士苹果，约5kg")
MEDICINE = PackSpec(
    "家庭常备药品包", Category.MEDICINE, 500, 4_500, "退烧药、感冒药、肠胃药、创可贴、体温计"
)
SUPPLIERS = (
    SupplierSpec("惠民生鲜配送", SupplierKind.SUPPLIER, "何志明", SEVEN_PACKS),
    SupplierSpec(
        "江南农副产品批发市场",
        SupplierKind.WHOLESALE_MARKET,
        "黄国栋",
        (EGGS, PackSpec("时令蔬菜大包", Category.VEGETABLES, 8_000, 5_800, "当季蔬菜8kg")),
    ),
    SupplierSpec("邻家乐连锁超市", SupplierKind.CHAIN_SUPERMARKET, "陈淑芬", (CARE_VEG,)),
    SupplierSpec("鲜到家电商平台", SupplierKind.ECOMMERCE, "刘晓峰", (FRUIT_BOX, MEDICINE)),
)


@dataclass(frozen=True)
class Door:
    """A household as the seeder needs it (read once, without model instances)."""

    pk: int
    unit_id: int
    building_id: int
    compound_id: int
    grid_id: int | None
    address: str


@dataclass
class Planned:
    """An order about to be written in bulk: what, how and when."""

    door: Door
    basket: list[tuple[Offer, int]]
    channel: str
    payment: str
    placed_by_id: int | None
    created_at: dt.datetime
    stop: TaskStop | None = None
    failure: str = ""


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    """Seed the suppliers and rounds of a tier's street unless it has suppliers already."""
    del password  # supplier_1 is one of the registry's demo accounts
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        street = Street.objects.get(pk=communities[0].street_id)
        if Supplier.objects.filter(street=street).exists():
            if stdout is not None:
                stdout.write(_("保供单位和轮次的演示数据已经存在，未重复生成。"))
            return {}
        seeder = SupplySeeder(
            rng=random.Random(f"linli-supply-{tier}"),  # noqa: S311 (demo data)
            now=timezone.now(),
            street=street,
        )
        if seeder.admin is None or seeder.staff is None:
            return {}
        with transaction.atomic(), quiet_messages():
            seeder.run(communities)
    if stdout is not None:
        stdout.write(
            _(
                "已生成保供单位 %(suppliers)d 家、套餐包 %(packages)d 种、保供轮次 %(rounds)d 轮、"
                "订单 %(orders)d 笔（上一轮送达 %(delivered)d 户、未送达 %(failed)d 户）、"
                "爱心包 %(care)d 份。"
            )
            % seeder.counts
        )
    return seeder.counts


@dataclass
class SupplySeeder:
    rng: random.Random
    now: dt.datetime
    street: Street
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("suppliers", "packages", "rounds", "orders", "delivered", "failed", "care"), 0
        )
    )

    def __post_init__(self) -> None:
        users = {u.username: u for u in User.objects.filter(is_active=True)}
        self.admin = users.get("street_admin") or User.objects.filter(is_superuser=True).first()
        self.staff = users.get("community_staff") or self.admin
        self.hotline = users.get("hotline_operator")
        self.supplier_account = users.get(DEMO_SUPPLIER)
        resident_user = users.get("resident_1")
        self.resident_user_id = resident_user.pk if resident_user else None
        self.today = timezone.localdate(self.now)
        self.packages: dict[str, Package] = {}
        # Of the first community, read by run().
        self.doors: list[Door] = []
        self.register: set[int] = set()  # households with someone on the register
        self.grid_workers: dict[int, int] = {}  # grid → its worker's user id
        self.resident_home: int | None = None  # resident_1's household

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def run(self, communities: list[Community]) -> None:
        self.suppliers(communities)
        community = communities[0]
        self.doors = self.read_doors(community)
        if not self.doors:
            return
        if self.resident_user_id is not None:
            self.resident_home = (
                Resident.objects.filter(user_id=self.resident_user_id)
                .values_list("household_id", flat=True)
                .first()
            )
        self.register = set(
            Resident.objects.on_register()
            .filter(household__community=community)
            .values_list("household_id", flat=True)
        )
        self.grid_workers = dict(
            Grid.workers.through.objects.filter(grid__community=community)
            .order_by("user_id")
            .values_list("grid_id", "user_id")
        )
        # Today's window (the settled round's is the same two days earlier): 06:00–20:00,
        # stretched so that it is open whenever the demo is seeded.
        opens = min(self.at(self.today, 6), self.now - dt.timedelta(hours=1))
        closes = max(self.at(self.today, 20), self.now + dt.timedelta(hours=3))
        settled = self.settled_round(community, opens, closes)
        self.todays_round(community, settled, opens)
        self.fair_round(community)

    # Suppliers and packages --------------------------------------------------------------

    def suppliers(self, communities: list[Community]) -> None:
        assert self.admin is not None  # noqa: S101 (checked by seed())
        for spec in SUPPLIERS:
            accounts = (
                [self.supplier_account]
                if spec.kind == SupplierKind.SUPPLIER and self.supplier_account
                else []
            )
            supplier = actions.supplier_save(
                actor=self.admin,
                street_id=self.street.pk,
                data=actions.SupplierInput(
                    name=spec.name,
                    kind=spec.kind,
                    contact_name=spec.contact,
                    contact_phone=f"020-8{self.rng.randrange(10**6, 10**7)}",
                    communities=communities,
                    accounts=accounts,
                ),
            )
            for pack in spec.packs:
                self.packages[pack.name] = actions.package_save(
                    actor=self.admin,
                    supplier=supplier,
                    data=actions.PackageInput(
                        name=pack.name,
                        category=pack.category,
                        net_weight_g=pack.grams,
                        price_fen=pack.fen,
                        contents=pack.contents,
                    ),
                )
            self.counts["suppliers"] += 1
            self.counts["packages"] += len(spec.packs)

    # Households ----------------------------------------------------------------------------

    def read_doors(self, community: Community) -> list[Door]:
        rows = (
            Household.objects.filter(community=community)
            .order_by(
                "unit__building__compound_id",
                "unit__building__sort_key",
                "unit__building_id",
                "unit__sort_key",
                "unit_id",
                "room_sort_key",
                "pk",
            )
            .values_list(
                "pk",
                "unit_id",
                "unit__building_id",
                "unit__building__compound_id",
                "grid_id",
                "address",
            )
        )
        return [Door(*row) for row in rows]

    def sample(
        self,
        doors: list[Door],
        share: float,
        most: int,
        *,
        include: int | None = None,
        exclude: int | None = None,
    ) -> list[Door]:
        """A share of the doors (about `most` at most) in address order, register households
        a little more often (they are ordered for); always `include`, never `exclude`."""
        share = min(share, most / max(1, len(doors)))
        return [
            d
            for d in doors
            if d.pk != exclude
            and (
                self.rng.random() < (share * 1.6 if d.pk in self.register else share)
                or d.pk == include
            )
        ]

    def how(self, door: Door) -> tuple[str, str, int | None]:
        """Channel, payment and who placed it: register households mostly through their
        grid worker (or the hotline), the rest mostly online themselves."""
        rng = self.rng
        worker = self.grid_workers.get(door.grid_id) if door.grid_id else None
        proxy_share = 0.7 if door.pk in self.register else 0.1
        if door.pk == self.resident_home:
            return Channel.RESIDENT, Payment.ONLINE, self.resident_user_id
        if rng.random() < proxy_share:
            by = worker if worker and rng.random() < 0.8 else None
            if by is None and self.hotline is not None:
                by = self.hotline.pk
            return Channel.PROXY, Payment.ON_DELIVERY, by
        if rng.random() < 0.06 and worker:
            return Channel.BULK, Payment.ON_DELIVERY, worker
        return Channel.RESIDENT, Payment.ONLINE if rng.random() < 0.8 else Payment.ON_DELIVERY, None

    def basket(self, offers: list[tuple[Offer, float]]) -> list[tuple[Offer, int]]:
        """What one household takes: each pack by its appeal, sometimes two; at least the
        most wanted one."""
        rng = self.rng
        chosen = [
            (offer, 2 if rng.random() < 0.15 and offer.per_household_limit >= 2 else 1)
            for offer, appeal in offers
            if rng.random() < appeal
        ]
        return chosen or [(max(offers, key=lambda pair: pair[1])[0], 1)]

    def plan(
        self,
        doors: list[Door],
        offers: list[tuple[Offer, float]],
        opens: dt.datetime,
        until: dt.datetime,
    ) -> list[Planned]:
        """Orders for these doors, placed in the window (half of them in its first hour:
        the 6 a.m. rush)."""
        rng = self.rng
        seconds = max(60.0, (until - opens).total_seconds())
        planned = []
        for door in doors:
            channel, payment, by = self.how(door)
            rush = rng.random() < 0.5
            offset = rng.uniform(0, min(3600.0, seconds) if rush else seconds)
            planned.append(
                Planned(
                    door=door,
                    basket=self.basket(offers),
                    channel=channel,
                    payment=payment,
                    placed_by_id=by,
                    created_at=opens + dt.timedelta(seconds=offset),
                )
            )
        return planned

    def write_orders(
        self, round: SupplyRound, planned: list[Planned], *, allocated: bool, delivered: bool
    ) -> list[Order]:
        """The planned orders and their items; `delivered`: each door's outcome (its stop)."""
        # Ids rather than instances for the foreign keys: the estate tier writes ~30,000
        # rows here, and the related-object descriptors cost a tenth of the time.
        orders = [
            Order(
                round_id=round.pk,
                household_id=p.door.pk,
                status=OrderStatus.PLACED,
                channel=p.channel,
                payment=p.payment,
                placed_by_id=p.placed_by_id,
                pickup_code=f"{self.rng.randrange(1_000_000):06d}",
                created_at=p.created_at,
                updated_at=p.created_at,
                delivery_status=(
                    (DeliveryStatus.FAILED if p.failure else DeliveryStatus.DELIVERED)
                    if delivered
                    else DeliveryStatus.WAITING
                ),
                delivery_status_at=p.stop.done_at if p.stop else None,
                task_stop_id=p.stop.pk if p.stop else None,
                delivery_failure=p.failure,
            )
            for p in planned
        ]
        Order.objects.bulk_create(orders, batch_size=1000)
        OrderItem.objects.bulk_create(
            (
                OrderItem(
                    order_id=order.pk,
                    offer_id=offer.pk,
                    quantity=quantity,
                    allocated=quantity if allocated else None,
                    price_fen=offer.price_fen,
                    net_weight_g=offer.net_weight_g,
                )
                for order, p in zip(orders, planned, strict=True)
                for offer, quantity in p.basket
            ),
            batch_size=1000,
        )
        self.counts["orders"] += len(orders)
        return orders

    def offers(
        self, round: SupplyRound, wanted: list[tuple[str, float]]
    ) -> list[tuple[Offer, float]]:
        """Offers of these packages (stock set once the orders are known), each with how
        likely a household is to take it."""
        assert self.staff is not None  # noqa: S101
        return [
            (
                actions.offer_add(
                    actor=self.staff,
                    round=round,
                    package=self.packages[name],
                    stock=1,
                    per_household_limit=2,
                ),
                appeal,
            )
            for name, appeal in wanted
        ]

    @staticmethod
    def units(planned: list[Planned]) -> Counter[int]:
        taken: Counter[int] = Counter()
        for p in planned:
            for offer, quantity in p.basket:
                taken[offer.pk] += quantity
        return taken

    @staticmethod
    def set_stock(offers: list[Offer], stock: dict[int, int], taken: Counter[int]) -> None:
        for offer in offers:
            offer.stock = stock[offer.pk]
            offer.remaining = stock[offer.pk] - taken[offer.pk]
        Offer.objects.bulk_update(offers, ["stock", "remaining"])

    @staticmethod
    def opened(round: SupplyRound, *, hours_before: int) -> None:
        """Made `hours_before` the window opens and opened a few minutes before it, as its
        timeline shows, rather than at the moment the seed ran."""
        round.created_at = round.opens_at - dt.timedelta(hours=hours_before)
        round.status_changed_at = round.opens_at - dt.timedelta(minutes=5)
        round.save(update_fields=["created_at", "status_changed_at"])

    # (a) Settled two days ago ---------------------------------------------------------------

    def settled_round(
        self, community: Community, opens: dt.datetime, closes: dt.datetime
    ) -> SupplyRound:
        assert self.staff is not None  # noqa: S101
        assert self.admin is not None  # noqa: S101
        two_days = dt.timedelta(days=2)
        opens, closes = opens - two_days, closes - two_days
        day = timezone.localdate(closes) + dt.timedelta(days=1)  # delivered the next morning
        round = actions.round_create(
            actor=self.staff,
            street_id=self.street.pk,
            data=actions.RoundInput(
                title=_("%(community)s保供套餐 第1轮") % {"community": community.name},
                scope=RoundScope.COMMUNITY,
                community_id=community.pk,
                opens_at=opens,
                closes_at=closes,
                delivery_date=day,
                intake=Intake.FIRST_COME,
            ),
        )
        offered = self.offers(round, [(spec.name, spec.appeal) for spec in (*SEVEN_PACKS, EGGS)])
        checkpoint_of = self.checkpoint_of(community)
        doors = [d for d in self.doors if d.building_id in checkpoint_of]
        # resident_1's household has had its bags delivered (its order page says 已送达).
        chosen = self.sample(doors, SETTLED_SHARE, SETTLED_MAX, include=self.resident_home)
        planned = self.plan(chosen, offered, opens, closes)
        taken = self.units(planned)
        # First come: what was not ordered is left over (the supplier's spare stock).
        self.set_stock(
            [o for o, _a in offered],
            {o.pk: taken[o.pk] + self.rng.randint(5, 40) for o, _a in offered},
            taken,
        )
        released = self.hand_off(round, community, planned, checkpoint_of, day)
        self.deliver(round, community, planned, checkpoint_of, released)
        self.write_orders(round, planned, allocated=True, delivered=True)
        delivered_by = self.at(day, 20)
        SupplyRound.objects.filter(pk=round.pk).update(
            status=RoundStatus.SETTLED,
            allocation_seed=self.rng.randrange(1, 2**31),
            created_at=opens - dt.timedelta(hours=10),  # set up the evening before
            status_changed_at=delivered_by,
            status_changed_by=self.admin,
        )
        round.refresh_from_db()
        self.counts["rounds"] += 1
        self.counts["failed"] += sum(1 for p in planned if p.failure)
        self.counts["delivered"] += sum(1 for p in planned if not p.failure)
        return round

    def checkpoint_of(self, community: Community) -> dict[int, Checkpoint]:
        """Building → the checkpoint its goods go through (the first that lists it, as the
        hand-off counts it)."""
        checkpoints = {
            c.pk: c
            for c in Checkpoint.objects.filter(community=community).prefetch_related("keepers")
        }
        found: dict[int, Checkpoint] = {}
        for building_id, checkpoint_id in (
            Checkpoint.buildings.through.objects.filter(checkpoint_id__in=checkpoints)
            .order_by("checkpoint_id")
            .values_list("building_id", "checkpoint_id")
        ):
            found.setdefault(building_id, checkpoints[checkpoint_id])
        return found

    def hand_off(
        self,
        round: SupplyRound,
        community: Community,
        planned: list[Planned],
        checkpoint_of: dict[int, Checkpoint],
        day: dt.date,
    ) -> dict[int, dt.datetime]:
        """Each supplier's goods for each checkpoint: dispatched at dawn, received,
        disinfected, held, released. Returns when each checkpoint had all its goods out."""
        rng = self.rng
        hold = dt.timedelta(minutes=community.goods_hold_minutes)
        legs: dict[tuple[int, int], list[Planned]] = {}
        for p in planned:
            for supplier_id in {offer.package.supplier_id for offer, _q in p.basket}:
                key = (checkpoint_of[p.door.building_id].pk, supplier_id)
                legs.setdefault(key, []).append(p)
        suppliers = {s.pk: s for s in Supplier.objects.filter(street=self.street)}
        checkpoints = {c.pk: c for c in checkpoint_of.values()}
        goods: list[GoodsReceipt] = []
        shipments: list[Shipment] = []
        served: list[set[int]] = []
        released: dict[int, dt.datetime] = {}
        for (checkpoint_id, supplier_id), orders in sorted(legs.items()):
            checkpoint = checkpoints[checkpoint_id]
            supplier = suppliers[supplier_id]
            keeper = next(iter(checkpoint.keepers.all()), None) or self.staff
            bags = sum(
                q for p in orders for o, q in p.basket if o.package.supplier_id == supplier_id
            )
            dispatched = self.at(day, 6, 10) + dt.timedelta(minutes=rng.randint(0, 40))
            received = dispatched + dt.timedelta(minutes=rng.randint(25, 50))
            disinfected = received + dt.timedelta(minutes=rng.randint(10, 20))
            out = disinfected + hold + dt.timedelta(minutes=rng.randint(2, 15))
            released[checkpoint_id] = max(out, released.get(checkpoint_id, out))
            goods.append(
                GoodsReceipt(
                    checkpoint=checkpoint,
                    sender=supplier.name,
                    description=(
                        _("%(round)s：%(households)d 户的套餐包")
                        % {"round": round.title, "households": len(orders)}
                    )[:200],
                    count=bags,
                    status=GoodsStatus.RELEASED,
                    received_at=received,
                    received_by=keeper,
                    disinfected_at=disinfected,
                    disinfected_by=keeper,
                    hold_until=disinfected + hold,
                    released_at=out,
                    released_by=keeper,
                )
            )
            served.append({p.door.building_id for p in orders})
            dispatcher = (
                self.supplier_account
                if self.supplier_account and supplier.name == SUPPLIERS[0].name
                else self.admin
            )
            shipments.append(
                Shipment(
                    round=round,
                    supplier=supplier,
                    checkpoint=checkpoint,
                    status=ShipmentStatus.BUNDLED,
                    bags=bags,
                    dispatched_at=dispatched,
                    dispatched_by=dispatcher,
                )
            )
        GoodsReceipt.objects.bulk_create(goods)
        GoodsReceipt.buildings.through.objects.bulk_create(
            GoodsReceipt.buildings.through(goodsreceipt=receipt, building_id=building_id)
            for receipt, buildings in zip(goods, served, strict=True)
            for building_id in sorted(buildings)
        )
        for shipment, receipt in zip(shipments, goods, strict=True):
            shipment.goods = receipt
        Shipment.objects.bulk_create(shipments)
        return released

    def deliver(
        self,
        round: SupplyRound,
        community: Community,
        planned: list[Planned],
        checkpoint_of: dict[int, Checkpoint],
        released: dict[int, dt.datetime],
    ) -> None:
        """Delivery bundles as bundles_create makes them (one task per building, per unit
        where a building has more than BUNDLE_MAX_HOUSEHOLDS doors), each carried by a
        volunteer soon after the checkpoint let the goods out; every door settled."""
        rng = self.rng
        volunteers = list(
            Volunteer.objects.filter(community=community, status=VolunteerStatus.VERIFIED)
            .select_related("user")
            .order_by("pk")
        )
        if not volunteers:
            return
        buildings = {
            b.pk: b
            for b in Building.objects.filter(compound__community=community).select_related(
                "compound"
            )
        }
        unit_names = dict(
            Unit.objects.filter(building__compound__community=community).values_list("pk", "name")
        )
        groups: list[tuple[str, int, list[Planned]]] = []  # place, building, doors
        by_building: dict[int, list[Planned]] = {}
        for p in planned:
            by_building.setdefault(p.door.building_id, []).append(p)
        for building_id, doors in by_building.items():
            building = buildings[building_id]
            if len(doors) <= actions.BUNDLE_MAX_HOUSEHOLDS:
                groups.append((str(building), building_id, doors))
                continue
            by_unit: dict[int, list[Planned]] = {}
            for p in doors:
                by_unit.setdefault(p.door.unit_id, []).append(p)
            for unit_id, unit_doors in by_unit.items():
                groups.append((f"{building}{unit_names[unit_id]}", building_id, unit_doors))
        demo = next((v for v in volunteers if v.user.username == "volunteer_1"), None)
        tasks: list[Task] = []
        stops: list[TaskStop] = []
        events: list[TaskEvent] = []
        for number, (place, building_id, doors) in enumerate(groups):
            checkpoint = checkpoint_of[building_id]
            volunteer = demo if demo is not None and number < 2 else rng.choice(volunteers)
            out = released[checkpoint.pk]
            created = out + dt.timedelta(minutes=rng.randint(3, 10))
            accepted = created + dt.timedelta(minutes=rng.randint(2, 15))
            started = accepted + dt.timedelta(minutes=rng.randint(5, 60))
            done_at = started
            task_stops = []
            for position, p in enumerate(doors):
                done_at += dt.timedelta(minutes=rng.randint(2, 6))
                failed = rng.random() < FAILED_SHARE
                left = not failed and rng.random() < LEFT_AT_DOOR_SHARE
                p.failure = rng.choice(_FAILURES) if failed else ""
                stop = TaskStop(
                    household_id=p.door.pk,
                    address=p.door.address,
                    items="、".join(f"{o.package.name}×{q}" for o, q in p.basket),
                    door_code=f"{rng.randrange(10_000):04d}",
                    status=(
                        StopStatus.FAILED
                        if failed
                        else StopStatus.LEFT_AT_DOOR
                        if left
                        else StopStatus.DELIVERED
                    ),
                    proof="code" if not failed and not left else "",
                    failure_reason=p.failure,
                    done_at=done_at,
                    done_by=volunteer.user,
                    position=position,
                )
                p.stop = stop
                task_stops.append(stop)
            finished = done_at + dt.timedelta(minutes=rng.randint(3, 10))
            all_failed = all(p.failure for p in doors)
            bags = sum(q for p in doors for _o, q in p.basket)
            task = Task(
                community=community,
                kind=TaskKind.DELIVERY_BUNDLE,
                title=(_("%(round)s：%(place)s送货到户") % {"round": round.title, "place": place})[
                    :100
                ],
                description=_("在%(checkpoint)s取货，共 %(bags)d 件、%(households)d 户。")
                % {"checkpoint": checkpoint, "bags": bags, "households": len(doors)},
                place=place[:160],
                size=bags,
                status=TaskStatus.FAILED if all_failed else TaskStatus.DONE,
                volunteer=volunteer,
                created_at=created,
                created_by=self.staff,
                assigned_at=accepted,
                accepted_at=accepted,
                started_at=started,
                finished_at=finished,
                failure_reason=_("全部送达点均未送达") if all_failed else "",
                proof_note="" if all_failed else _("全部送达点已处理"),
                minutes=max(15, math.ceil((finished - started).total_seconds() / 60)),
            )
            tasks.append(task)
            for stop in task_stops:
                stop.task = task
            stops += task_stops
            events += [
                TaskEvent(task=task, at=created, actor=self.staff, to_status=TaskStatus.OPEN),
                TaskEvent(
                    task=task,
                    at=accepted,
                    actor=volunteer.user,
                    from_status=TaskStatus.OPEN,
                    to_status=TaskStatus.ACCEPTED,
                    note=_("志愿者领取"),
                ),
                TaskEvent(
                    task=task,
                    at=started,
                    actor=volunteer.user,
                    from_status=TaskStatus.ACCEPTED,
                    to_status=TaskStatus.IN_PROGRESS,
                ),
                TaskEvent(
                    task=task,
                    at=finished,
                    actor=volunteer.user,
                    from_status=TaskStatus.IN_PROGRESS,
                    to_status=task.status,
                ),
            ]
        Task.objects.bulk_create(tasks, batch_size=1000)
        Task.buildings.through.objects.bulk_create(
            Task.buildings.through(task=task, building_id=building_id)
            for task, (_place, building_id, _doors) in zip(tasks, groups, strict=True)
        )
        TaskStop.objects.bulk_create(stops, batch_size=1000)
        TaskEvent.objects.bulk_create(events, batch_size=1000)

    # (b) Today's round, first come, with a care package plan (d) ------------------------------

    def todays_round(self, community: Community, settled: SupplyRound, opens: dt.datetime) -> None:
        """Copied from the settled round ("every two days"), open now: orders placed since
        6 a.m., one pack sold out, a care package for every dibao, disabled and
        extreme-hardship household, and a few orders a grid worker placed by phone."""
        assert self.staff is not None  # noqa: S101
        rng = self.rng
        round = actions.round_copy(actor=self.staff, round=settled, opens_at=opens)
        round.title = _("%(community)s保供套餐 第2轮") % {"community": community.name}
        round.allocation_seed = rng.randrange(1, 2**31)
        round.save(update_fields=["title", "allocation_seed"])
        offers = list(round.offers.select_related("package").order_by("pk"))
        appeal = {spec.name: spec.appeal for spec in (*SEVEN_PACKS, EGGS)}
        offered = [(o, appeal[o.package.name]) for o in offers]
        care_offer = actions.offer_add(
            actor=self.staff,
            round=round,
            package=self.packages[CARE_VEG.name],
            stock=1,
            per_household_limit=1,
        )
        self.opened(actions.round_open(actor=self.staff, round=round), hours_before=10)
        # resident_1 has not ordered yet today: the demo can.
        planned = self.plan(
            self.sample(self.doors, TODAY_SHARE, TODAY_MAX, exclude=self.resident_home),
            offered,
            opens,
            self.now,
        )
        taken = self.units(planned)
        # What is left: the hot-pot pack sold out before breakfast, meat nearly; the rest
        # has room (at least enough for the orders placed by phone below).
        stock = {}
        for offer in offers:
            spare = {"火锅套餐": 0, "肉类套餐": 3}.get(
                offer.package.name, max(20, int(taken[offer.pk] * rng.uniform(0.3, 0.8)))
            )
            stock[offer.pk] = max(1, taken[offer.pk] + spare)
        self.set_stock(offers, stock, taken)
        self.write_orders(round, planned, allocated=True, delivered=False)
        # (d) 爱心包, paid by a named funder, given through the real action.
        needed = self.care_households(round)
        care_offer.stock = care_offer.remaining = needed + max(10, needed // 10)
        care_offer.save(update_fields=["stock", "remaining"])
        if needed:
            plan = actions.care_plan_apply(
                actor=self.staff,
                round=round,
                offer=care_offer,
                tags=list(CARE_TAGS),
                funder=CARE_FUNDER,
            )
            self.counts["care"] += plan.households
            self.recode(list(Order.objects.filter(round=round, channel=Channel.CARE)))
        ordered = set(
            Order.objects.filter(round=round, status=OrderStatus.PLACED).values_list(
                "household_id", flat=True
            )
        )
        self.phone_orders(round, offers, ordered)
        self.counts["rounds"] += 1

    def recode(self, orders: list[Order]) -> None:
        """Orders the actions made get their pickup codes from the seed's stream too (the
        actions draw them from `secrets`), so the same tier gives the same codes."""
        for order in sorted(orders, key=lambda order: order.pk):
            order.pickup_code = f"{self.rng.randrange(1_000_000):06d}"
        Order.objects.bulk_update(orders, ["pickup_code"])

    def care_households(self, round: SupplyRound) -> int:
        tagged = CareTagAssignment._base_manager.filter(
            resident__household=OuterRef("pk"), tag__in=CARE_TAGS
        ).exclude(resident__living_status__in=[LivingStatus.MOVED_OUT, LivingStatus.DECEASED])
        return round.households().filter(Exists(tagged)).count()

    def phone_orders(self, round: SupplyRound, offers: list[Offer], ordered: set[int]) -> None:
        """Register households without an order, each ordered for by its grid worker
        (代下单) through order_place; one is then cancelled by the same worker."""
        workers = {u.pk: u for u in User.objects.filter(pk__in=self.grid_workers.values())}
        by_name = {o.package.name: o for o in offers}
        doors = [
            d
            for d in self.doors
            if d.pk in self.register
            and d.pk not in ordered
            and d.pk != self.resident_home
            and d.grid_id in self.grid_workers
        ]
        made: list[Order] = []
        for door in self.rng.sample(doors, min(8, len(doors))):
            worker = workers[self.grid_workers[door.grid_id or 0]]
            names = ["蔬菜包", "土鸡蛋30枚", *(["米面油套餐"] if self.rng.random() < 0.4 else [])]
            household = Household.objects.select_related("unit__building", "community").get(
                pk=door.pk
            )
            made.append(
                actions.order_place(
                    actor=worker,
                    round=round,
                    household=household,
                    items=[actions.ItemInput(offer=by_name[n], quantity=1) for n in names],
                    payment=Payment.ON_DELIVERY,
                    channel=Channel.PROXY,
                    idempotency_key=f"seed-{round.pk}-{door.pk}",
                )
            )
        self.recode(made)
        if made:
            cancelled = made[-1]
            actions.order_cancel(actor=workers[cancelled.placed_by_id or 0], order=cancelled)
        self.counts["orders"] += len(made)

    # (c) A fair round closing later today --------------------------------------------------

    def fair_round(self, community: Community) -> None:
        """Eggs, fruit and medicine for the first compound, short of stock: requests now,
        shared out at close (register households first, one each before anyone's second)."""
        assert self.staff is not None  # noqa: S101
        compound_id = self.doors[0].compound_id
        compound = Compound.objects.get(pk=compound_id)
        opens = min(self.at(self.today, 8), self.now - dt.timedelta(minutes=30))
        closes = max(self.at(self.today, 18), self.now + dt.timedelta(hours=2))
        round = actions.round_create(
            actor=self.staff,
            street_id=self.street.pk,
            data=actions.RoundInput(
                title=_("%(compound)s鸡蛋水果药品（公平分配）") % {"compound": compound.name},
                scope=RoundScope.COMPOUND,
                compound_id=compound_id,
                opens_at=opens,
                closes_at=closes,
                delivery_date=timezone.localdate(closes) + dt.timedelta(days=1),
                intake=Intake.FAIR,
            ),
        )
        round.allocation_seed = self.rng.randrange(1, 2**31)
        round.save(update_fields=["allocation_seed"])
        offered = self.offers(
            round, [(EGGS.name, 0.7), (FRUIT_BOX.name, 0.5), (MEDICINE.name, 0.25)]
        )
        doors = [d for d in self.doors if d.compound_id == compound_id]
        chosen = self.sample(doors, FAIR_SHARE, FAIR_MAX, exclude=self.resident_home)
        planned = self.plan(chosen, offered, opens, self.now)
        asked = self.units(planned)
        # Short: about half of what is asked for, so the allocation has work to do.
        offers = [o for o, _a in offered]
        stock = {o.pk: max(1, int(asked[o.pk] * self.rng.uniform(0.4, 0.6))) for o in offers}
        self.set_stock(offers, stock, Counter())  # fair: stock is untouched until close
        self.opened(actions.round_open(actor=self.staff, round=round), hours_before=1)
        self.write_orders(round, planned, allocated=False, delivered=False)
        self.counts["rounds"] += 1
