"""Pages for suppliers (保供单位) and their packages: street admins keep them; round managers
read them; a supplier account reads its own."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors
from linli.registry.models import Community, Street
from linli.supply import access, actions
from linli.supply.forms import PackageForm, SupplierForm
from linli.supply.models import Package, Supplier


def can_see_suppliers(user: User) -> bool:
    return (
        access.can_manage_suppliers(user)
        or access.can_manage_rounds(user)
        or (user.is_active and user.role == Role.SUPPLIER)
    )


def street_ids_of(user: User) -> list[int]:
    """The streets of the user's area (one for a street admin)."""
    return list(
        Street.objects.filter(pk__in=Community.objects.values("street_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _street_for_new(request: HttpRequest, user: User) -> int | None:
    streets = street_ids_of(user)
    if len(streets) == 1:
        return streets[0]
    chosen = request.POST.get("street") or request.GET.get("street") or ""
    return int(chosen) if chosen.isdigit() and int(chosen) in streets else None


def _suppliers(user: User) -> QuerySet[Supplier]:
    return access.visible_suppliers(user).annotate(
        package_count=Count("packages", filter=Q(packages__active=True), distinct=True)
    )


@require(can_see_suppliers)
def supplier_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    suppliers = _suppliers(user).prefetch_related("communities").order_by("name")
    context = {
        "suppliers": suppliers,
        "can_edit": access.can_manage_suppliers(user),
    }
    return render(request, "supply/supplier_list.html", context)


@require(can_see_suppliers)
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    supplier = access.get_supplier_for(user, pk)
    context = {
        "supplier": supplier,
        "communities": list(supplier.communities.all()),
        "accounts": list(supplier.accounts.order_by("username")),
        "packages": list(supplier.packages.order_by("-active", "category", "name")),
        "can_edit": access.can_manage_suppliers(user),
    }
    return render(request, "supply/supplier_detail.html", context)


def _supplier_form(request: HttpRequest, user: User, **kwargs: object) -> SupplierForm:
    communities = Community.objects.order_by("street_id", "code")
    return SupplierForm(request.POST or None, communities=communities, **kwargs)


def _supplier_input(form: SupplierForm) -> actions.SupplierInput:
    data = form.cleaned_data
    return actions.SupplierInput(
        name=data["name"],
        kind=data["kind"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        communities=list(data["communities"]),
        accounts=list(data["accounts"]),
        active=data["active"],
    )


@require(access.can_manage_suppliers)
def supplier_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = _supplier_form(request, user, initial={"active": True})
    status = 200
    if request.method == "POST":
        status = 400
        street_id = _street_for_new(request, user)
        if form.is_valid():
            if street_id is None:
                form.add_error(None, _("街道：请选择街道"))
            else:
                try:
                    supplier = actions.supplier_save(
                        actor=user, street_id=street_id, data=_supplier_input(form)
                    )
                except ValidationError as e:
                    add_action_errors(form, e)
                else:
                    messages.success(request, _("已添加保供单位“%(name)s”") % {"name": supplier})
                    return redirect("supply:supplier_detail", pk=supplier.pk)
    context = {"form": form, "supplier": None, "streets": street_ids_of(user)}
    return render(request, "supply/supplier_form.html", context, status=status)


@require(access.can_manage_suppliers)
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    supplier = access.get_supplier_for(user, pk)
    initial = {
        "name": supplier.name,
        "kind": supplier.kind,
        "contact_name": supplier.contact_name,
        "contact_phone": supplier.contact_phone,
        "communities": list(supplier.communities.all()),
        "accounts": list(supplier.accounts.all()),
        "active": supplier.active,
    }
    form = _supplier_form(request, user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.supplier_save(
                    actor=user,
                    street_id=supplier.street_id,
                    data=_supplier_input(form),
                    supplier=supplier,
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("保供单位已保存"))
                return redirect("supply:supplier_detail", pk=supplier.pk)
    context = {"form": form, "supplier": supplier, "streets": []}
    return render(request, "supply/supplier_form.html", context, status=status)


def _package_form(
    request: HttpRequest, *, supplier: Supplier, package: Package | None
) -> HttpResponse:
    user = request_user(request)
    initial = PackageForm.initial_for(package) if package else {"active": True, "weight_unit": "kg"}
    form = PackageForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.package_save(
                    actor=user,
                    supplier=supplier,
                    package=package,
                    data=actions.PackageInput(
                        name=data["name"],
                        category=data["category"],
                        net_weight_g=data["net_weight_g"],
                        price_fen=data["price_fen"],
                        contents=data["contents"],
                        active=data["active"],
                    ),
                    photo=data.get("photo") or None,
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("套餐包已保存"))
                return redirect("supply:supplier_detail", pk=supplier.pk)
    context = {"form": form, "supplier": supplier, "package": package}
    return render(request, "supply/package_form.html", context, status=status)


@require(access.can_manage_suppliers)
def package_new(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = access.get_supplier_for(request_user(request), pk)
    return _package_form(request, supplier=supplier, package=None)


@require(access.can_manage_suppliers)
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    package = access.get_package_for(user, pk)
    return _package_form(request, supplier=package.supplier, package=package)
