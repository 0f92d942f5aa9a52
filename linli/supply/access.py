"""Who may see and do what with supply rounds, suppliers and orders.

Street admins run rounds for their street and manage suppliers; community staff run
rounds for their community (and see the street's rounds that reach it); grid workers and
hotline operators order for households in their area (代下单); a resident orders for their
own household; a supplier sees its own packages, offers and orders, with household names
masked and no care tags.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.models import Community, Household
from linli.supply.models import Order, Package, Supplier, SupplyRound

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
