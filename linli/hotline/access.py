"""Who may see and do what with tickets.

Staff-side roles (grid workers, hotline operators, community staff, street admins) see the
tickets of their area (the scoped manager limits the rows: a grid worker their grids', an
operator or staff their community's, a street admin their street's). A resident sees and
raises only their own household's. Volunteers, suppliers and checkpoint keepers see none.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.hotline.choices import TicketStatus
from linli.hotline.models import Ticket, TicketAttachment, TicketQuerySet
from linli.registry.access import can_see_people
from linli.registry.models import Grid, Resident, UserArea


def can_handle_tickets(user: User) -> bool:
    """Take calls, dispatch, work and close tickets in their area."""
    return can_see_people(user)


def resident_of(user: User) -> Resident | None:
    """The resident record behind a resident's account (None for everyone else)."""
    if not user.is_active or user.role != Role.RESIDENT:
        return None
    resident: Resident | None = (
        Resident.objects.select_related("household").filter(user=user).first()
    )
    return resident


def can_see_tickets(user: User) -> bool:
    return can_handle_tickets(user) or resident_of(user) is not None


def can_edit_sla(user: User) -> bool:
    """The response and resolution targets: community staff (and the site operator)."""
    return user.is_active and (user.is_superuser or user.role == Role.COMMUNITY_STAFF)


def can_see_figures(user: User) -> bool:
    return can_handle_tickets(user)


def _not_found() -> Http404:
    return Http404(_("未找到，或不在您的管辖范围内"))


def visible_tickets(user: User) -> TicketQuerySet:
    tickets = Ticket.objects.select_related("community", "owner", "resident", "household")
    if can_handle_tickets(user):
        return tickets.all()
    resident = resident_of(user)
    if resident is not None:
        return tickets.filter(household_id=resident.household_id)
    return tickets.none()


def get_ticket_for(user: User, pk: int | str) -> Ticket:
    try:
        ticket: Ticket = visible_tickets(user).get(pk=pk)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    return ticket


def get_attachment_for(user: User, pk: int | str) -> TicketAttachment:
    try:
        attachment: TicketAttachment = TicketAttachment.objects.select_related("ticket").get(pk=pk)
    except (TicketAttachment.DoesNotExist, ValueError, TypeError):
        raise _not_found() from None
    get_ticket_for(user, attachment.ticket_id)  # the same rule as the ticket's
    return attachment


# Who may take each step on a ticket, in one place for the pages, the API and the CLI:
# "staff" is anyone who handles tickets in the area (the scope already limits which);
# "own" is a resident of the ticket's household (their own request).
TICKET_STEPS: dict[str, frozenset[str]] = {
    "accept": frozenset({"staff"}),
    "start": frozenset({"staff"}),
    "resolve": frozenset({"staff"}),
    "close": frozenset({"staff", "own"}),
    "reopen": frozenset({"staff"}),
    "cancel": frozenset({"staff", "own"}),
    "assign": frozenset({"staff"}),
    "note": frozenset({"staff", "own"}),
    "attach": frozenset({"staff", "own"}),
    "escalate": frozenset({"staff"}),
    "reclassify": frozenset({"staff"}),
    "errand": frozenset({"staff"}),
    "reveal": frozenset({"staff"}),
}


def is_own(user: User, ticket: Ticket) -> bool:
    resident = resident_of(user)
    return resident is not None and ticket.household_id == resident.household_id


def may_step(user: User, ticket: Ticket, step: str) -> bool:
    who = TICKET_STEPS[step]
    if "staff" in who and can_handle_tickets(user):
        return True
    if "own" in who and is_own(user, ticket):
        # A resident withdraws a request nobody has taken up yet, and closes a resolved one.
        return step != "cancel" or ticket.status == TicketStatus.NEW
    return False


def may_own(user: User, ticket: Ticket) -> bool:
    """Whether a ticket can be given to this account: someone who would see it."""
    if not user.is_active:
        return False
    with scopes_disabled():
        area = UserArea.objects.filter(user=user).first()
        if user.role in (Role.COMMUNITY_STAFF, Role.HOTLINE_OPERATOR):
            return area is not None and area.community_id == ticket.community_id
        if user.role == Role.STREET_ADMIN:
            return area is not None and area.street_id == ticket.community.street_id
        if user.role == Role.GRID_WORKER:
            return (
                ticket.grid_id is not None
                and Grid.objects.filter(pk=ticket.grid_id, workers=user).exists()
            )
    return False


def owner_candidates(ticket: Ticket) -> list[User]:
    """Who a ticket can be dispatched to: its grid's workers first, then community staff and
    operators, then the street's admins."""
    with scopes_disabled():
        grid_workers = (
            list(User.objects.filter(grids__id=ticket.grid_id, is_active=True).order_by("username"))
            if ticket.grid_id
            else []
        )
        community = list(
            User.objects.filter(
                role__in=[Role.COMMUNITY_STAFF, Role.HOTLINE_OPERATOR],
                area__community_id=ticket.community_id,
                is_active=True,
            ).order_by("role", "username")
        )
        street = list(
            User.objects.filter(
                role=Role.STREET_ADMIN,
                area__street_id=ticket.community.street_id,
                is_active=True,
            ).order_by("username")
        )
    return list(dict.fromkeys(grid_workers + community + street))
