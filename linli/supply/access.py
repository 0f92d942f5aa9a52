"""Who may see and do what with supply rounds, suppliers and orders.

Street admins run rounds for their street and manage suppliers; community staff run
rounds for their community (and see the street's rounds that reach it); grid workers and
hotline operators order for households in their area (代下单); a resident orders for their
own household; a supplier sees its own packages, offers and orders, with household names
masked and no care tags.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import access as checkpoint_access
from linli.registry.models import Building, Community, Compound, Household, Street
from linli.supply.choices import OrderStatus, RoundScope
from linli.supply.models import Offer, Order, OrderItem, Package, Shipment, Supplier, SupplyRound

ROUND_MANAGERS = frozenset({Role.STREET_ADMIN, Role.COMMUNITY_STAFF})
PROXY_ORDERERS = frozenset(
    {Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.HOTLINE_OPERATOR}
)


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def can_manage_rounds(user: User) -> bool:
    """Create, open, close and copy rounds; offers and care packages."""
    return user.is_active and (user.is_superuser or user.role in ROUND_MANAGERS)


def can_manage_suppliers(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.STREET_ADMIN)


def can_order_for_others(user: User) -> bool:
    """代下单: order for a household in one's area (the record says who acted)."""
    return user.is_active and (user.is_superuser or user.role in PROXY_ORDERERS)


def suppliers_of(user: User) -> QuerySet[Supplier]:
    """The suppliers a supplier account belongs to."""
    if user.role != Role.SUPPLIER or not user.is_active:
        return Supplier.objects.none()
    return Supplier.objects.filter(accounts=user)


def visible_suppliers(user: User) -> QuerySet[Supplier]:
    if user.is_superuser:
        return Supplier.objects.all()
    if user.role == Role.SUPPLIER:
        return suppliers_of(user)
    if user.is_active and user.role in PROXY_ORDERERS:
        return Supplier.objects.filter(street__communities__in=Community.objects.all()).distinct()
    return Supplier.objects.none()


def get_supplier_for(user: User, pk: int | str) -> Supplier:
    try:
        supplier: Supplier = visible_suppliers(user).get(pk=pk)
    except (Supplier.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return supplier


def visible_packages(user: User) -> QuerySet[Package]:
    return Package.objects.filter(supplier__in=visible_suppliers(user)).select_related("supplier")


def visible_rounds(user: User) -> QuerySet[SupplyRound]:
    """Rounds reaching the user's area (the active scope limits the communities): a street
    round reaches every community of its street. A supplier: rounds offering its packages.
    A resident: rounds serving their household."""
    rounds = SupplyRound.objects.select_related("street", "community", "compound", "building")
    if not user.is_active:
        return rounds.none()
    if user.is_superuser:
        return rounds.all()
    if user.role == Role.SUPPLIER:
        return rounds.filter(offers__package__supplier__in=suppliers_of(user)).distinct()
    if user.role in PROXY_ORDERERS or user.role == Role.RESIDENT:
        communities = Community.objects.all()  # scoped: the user's communities
        return rounds.filter(
            Q(street__communities__in=communities, community__isnull=True)
            | Q(community__in=communities)
        ).distinct()
    return rounds.none()


def get_round_for(user: User, pk: int | str) -> SupplyRound:
    try:
        round: SupplyRound = visible_rounds(user).get(pk=pk)
    except (SupplyRound.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return round


def can_order_for(user: User, household: Household) -> bool:
    """The household is the user's own, or in the area of a user who orders for others
    (the scope has already limited which households the user can load)."""
    if not user.is_active:
        return False
    if can_order_for_others(user):
        return True
    return user.role == Role.RESIDENT and household.residents.filter(user=user).exists()


def visible_orders(user: User) -> QuerySet[Order]:
    """Orders of households in the user's area (scoped); a supplier: orders of its offers."""
    orders = Order.objects.select_related("round", "household")
    if user.role == Role.SUPPLIER:
        return orders.filter(items__offer__package__supplier__in=suppliers_of(user)).distinct()
    if user.is_superuser or can_order_for_others(user) or user.role == Role.RESIDENT:
        return orders.all()
    return orders.none()


def get_order_for(user: User, pk: int | str) -> Order:
    try:
        order: Order = visible_orders(user).get(pk=pk)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return order


# --- where a round may be run (pages, API and CLI alike) ---------------------------------


@dataclass(frozen=True)
class RoundPlace:
    street_id: int
    community_id: int | None = None
    compound_id: int | None = None
    building_id: int | None = None


def round_place_for(
    user: User,
    *,
    scope: str,
    street_id: int | None = None,
    community_id: int | None = None,
    compound_id: int | None = None,
    building_id: int | None = None,
) -> RoundPlace:
    """The place a new round of this scope serves, checked against the user's area: street
    admins any scope in their street; community staff their community or below (403 for a
    street-wide round). A place outside the area is a 400 on its field. Compound and
    building rounds carry their community too, so that they reach only it."""
    if not can_manage_rounds(user):
        raise PermissionDenied(_("您的角色无权管理保供轮次"))
    if scope == RoundScope.STREET:
        if not (user.is_superuser or user.role == Role.STREET_ADMIN):
            raise PermissionDenied(_("只有街道保供专班可以创建全街道的轮次"))
        streets = list(
            Street.objects.filter(pk__in=Community.objects.values("street_id")).values_list(
                "pk", flat=True
            )
        )
        if street_id is None and len(streets) == 1:
            street_id = streets[0]
        if street_id is None or street_id not in streets:
            raise ValidationError({"street": [_("请选择街道")]})
        return RoundPlace(street_id=street_id)
    if scope == RoundScope.COMMUNITY:
        community = Community.objects.filter(pk=community_id).first() if community_id else None
        if community is None:
            raise ValidationError({"community": [_("请选择社区（须在您的管辖范围内）")]})
        return RoundPlace(street_id=community.street_id, community_id=community.pk)
    if scope == RoundScope.COMPOUND:
        compound = (
            Compound.objects.select_related("community").filter(pk=compound_id).first()
            if compound_id
            else None
        )
        if compound is None:
            raise ValidationError({"compound": [_("请选择小区（须在您的管辖范围内）")]})
        return RoundPlace(
            street_id=compound.community.street_id,
            community_id=compound.community_id,
            compound_id=compound.pk,
        )
    if scope == RoundScope.BUILDING:
        building = (
            Building.objects.select_related("compound__community").filter(pk=building_id).first()
            if building_id
            else None
        )
        if building is None:
            raise ValidationError({"building": [_("请选择楼栋（须在您的管辖范围内）")]})
        return RoundPlace(
            street_id=building.compound.community.street_id,
            community_id=building.compound.community_id,
            building_id=building.pk,
        )
    raise ValidationError({"scope": [_("请选择范围")]})


def can_manage_round(user: User, round: SupplyRound) -> bool:
    """Offers, opening, closing, copying and care packages of a round the user can see:
    street admins any round of their street, community staff their community's own."""
    if not can_manage_rounds(user):
        return False
    if user.is_superuser or user.role == Role.STREET_ADMIN:
        return True
    return round.community_id is not None and (
        Community.objects.filter(pk=round.community_id).exists()
    )


def require_round_manager(user: User, round: SupplyRound) -> None:
    if not can_manage_round(user, round):
        raise PermissionDenied(_("您只能管理本社区及以下范围的轮次"))


# --- hand-off ---------------------------------------------------------------------------


def can_dispatch_for(user: User, supplier: Supplier) -> bool:
    """Mark a supplier's goods dispatched: its own accounts, or round managers for it."""
    if not user.is_active:
        return False
    if can_manage_rounds(user):
        return True
    return user.role == Role.SUPPLIER and supplier.accounts.filter(pk=user.pk).exists()


def can_see_handoff(user: User) -> bool:
    """The hand-off pages: round managers (everything), checkpoint keepers (their
    checkpoints' shipments) and suppliers (their own shipments)."""
    return user.is_active and (
        can_manage_rounds(user) or user.role in (Role.CHECKPOINT_KEEPER, Role.SUPPLIER)
    )


def get_package_for(user: User, pk: int | str) -> Package:
    try:
        package: Package = visible_packages(user).get(pk=pk)
    except (Package.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return package


def packages_for_round(round: SupplyRound) -> QuerySet[Package]:
    """Packages that may be offered in a round: active, of an active supplier of its street
    that serves the round's community (a supplier with no communities listed serves all)."""
    packages = Package.objects.filter(
        active=True, supplier__active=True, supplier__street_id=round.street_id
    ).select_related("supplier")
    if round.community_id is not None:
        packages = packages.filter(
            Q(supplier__communities=round.community_id) | Q(supplier__communities__isnull=True)
        ).distinct()
    return packages.order_by("supplier__name", "category", "name")


def organiser_for(username: str, place: RoundPlace) -> User | None:
    """A group buy's organiser (团长) by username: an active account; a resident must live in
    the round's building (or compound / community)."""
    username = username.strip()
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError(
            {"organiser": [_("没有用户名为 %(name)s 的有效账号") % {"name": username}]}
        )
    if user.role == Role.RESIDENT:
        with scopes_disabled():
            homes = Household.objects.filter(
                residents__user=user, community__street_id=place.street_id
            )
            if place.building_id:
                homes = homes.filter(unit__building_id=place.building_id)
            elif place.compound_id:
                homes = homes.filter(unit__building__compound_id=place.compound_id)
            elif place.community_id:
                homes = homes.filter(community_id=place.community_id)
            lives_there = homes.exists()
        if not lives_there:
            raise ValidationError(
                {"organiser": [_("团长 %(name)s 不住在本轮范围内") % {"name": username}]}
            )
    elif user.role not in ROUND_MANAGERS | PROXY_ORDERERS and not user.is_superuser:
        raise ValidationError({"organiser": [_("该账号的角色不能做团长")]})
    return user


def visible_offers(user: User) -> QuerySet[Offer]:
    """Offers of the rounds a user sees: a supplier its own packages' only."""
    offers = Offer.objects.select_related("package__supplier")
    if user.role == Role.SUPPLIER:
        offers = offers.filter(package__supplier__in=suppliers_of(user))
    return offers.order_by("package__supplier__name", "package__category", "package__name")


@dataclass(frozen=True)
class OfferCount:
    units: int = 0
    allocated: int | None = None
    orders: int = 0


def offer_counts(offers: list[Offer]) -> dict[int, OfferCount]:
    """Units ordered (and allocated) and orders per offer. Counts only, read past the scope:
    a street round's stock is shared by every community, so its figures are too."""
    with scopes_disabled():
        rows = (
            OrderItem.objects.filter(offer__in=offers, order__status=OrderStatus.PLACED)
            .values("offer_id")
            .annotate(
                units=Sum("quantity"),
                allocated=Sum("allocated"),
                orders=Count("order", distinct=True),
            )
        )
        return {
            row["offer_id"]: OfferCount(row["units"] or 0, row["allocated"], row["orders"])
            for row in rows
        }


def round_order_count(user: User, round: SupplyRound) -> int:
    """Placed orders of a round (a supplier: those with its offers); a count, past the scope."""
    with scopes_disabled():
        orders = Order.objects.filter(round=round, status=OrderStatus.PLACED)
        if user.role == Role.SUPPLIER:
            orders = orders.filter(items__offer__package__supplier__in=suppliers_of(user))
        return orders.distinct().count()


def get_handoff_round_for(user: User, pk: int | str) -> SupplyRound:
    """Managers and suppliers: the rounds they see. A keeper: rounds shipping to the
    checkpoints they keep."""
    if user.role == Role.CHECKPOINT_KEEPER and not user.is_superuser:
        checkpoints = checkpoint_access.visible_checkpoints(user)
        found = (
            SupplyRound.objects.filter(pk=pk, shipments__checkpoint__in=checkpoints)
            .distinct()
            .first()
            if str(pk).isdigit()
            else None
        )
        if found is None:
            raise _not_found()
        return found
    return get_round_for(user, pk)


def get_shipment_for(user: User, pk: int | str) -> Shipment:
    """A shipment to a checkpoint the user sees (a keeper: the ones they keep)."""
    shipment = (
        Shipment.objects.filter(checkpoint__in=checkpoint_access.visible_checkpoints(user))
        .select_related("round", "supplier", "checkpoint__community", "goods", "dispatched_by")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if shipment is None:
        raise Http404(_("未找到这批货，或不在您的管辖范围内"))
    return shipment
