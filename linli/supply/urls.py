from __future__ import annotations

from django.urls import URLPattern, path

from linli.supply.views import (
    bulk,
    documents,
    figures,
    handoff,
    orders,
    resident,
    rounds,
    suppliers,
)

app_name = "supply"

urlpatterns: list[URLPattern] = [
    # --- rounds, suppliers, packages, offers, care packages (views/rounds.py, suppliers.py) ---
    path("suppliers/", suppliers.supplier_list, name="supplier_list"),
    path("suppliers/new/", suppliers.supplier_new, name="supplier_new"),
    path("suppliers/<int:pk>/", suppliers.supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", suppliers.supplier_edit, name="supplier_edit"),
    path("suppliers/<int:pk>/packages/new/", suppliers.package_new, name="package_new"),
    path("packages/<int:pk>/edit/", suppliers.package_edit, name="package_edit"),
    path("rounds/", rounds.round_list, name="round_list"),
    path("rounds/new/", rounds.round_new, name="round_new"),
    path("rounds/<int:pk>/", rounds.round_detail, name="round_detail"),
    path("rounds/<int:pk>/offers/", rounds.offer_add, name="offer_add"),
    path("rounds/<int:pk>/open/", rounds.round_open, name="round_open"),
    path("rounds/<int:pk>/close/", rounds.round_close, name="round_close"),
    path("rounds/<int:pk>/copy/", rounds.round_copy, name="round_copy"),
    path("rounds/<int:pk>/care/", rounds.care_plans, name="care_plans"),
    # --- ordering (views/orders.py, views/resident.py, views/bulk.py) ---
    path("orders/", orders.order_rounds, name="order_rounds"),
    path("rounds/<int:pk>/proxy/", orders.order_proxy, name="order_proxy"),
    path(
        "rounds/<int:pk>/proxy/<int:household_pk>/",
        orders.order_household,
        name="order_household",
    ),
    path(
        "rounds/<int:pk>/proxy/<int:household_pk>/cancel/",
        orders.order_cancel,
        name="order_cancel",
    ),
    path("rounds/<int:pk>/bulk/", bulk.bulk_pick, name="bulk_pick"),
    path("rounds/<int:pk>/bulk/<int:building_pk>/", bulk.bulk_sheet, name="bulk_sheet"),
    path(
        "rounds/<int:pk>/bulk/<int:building_pk>/template.xlsx",
        bulk.bulk_template,
        name="bulk_template",
    ),
    path("rounds/<int:pk>/bulk/<int:building_pk>/upload/", bulk.bulk_upload, name="bulk_upload"),
    path("my/orders/", resident.my_orders, name="my_orders"),
    path("my/orders/<int:pk>/", resident.my_order, name="my_order"),
    path("my/orders/<int:pk>/cancel/", resident.my_order_cancel, name="my_order_cancel"),
    path("orders/<int:pk>/status", resident.order_status, name="order_status"),
    # --- documents (views/documents.py) ---
    path("rounds/<int:pk>/documents/", documents.document_list, name="document_list"),
    path("rounds/<int:pk>/documents/make/", documents.document_make, name="document_make"),
    path(
        "rounds/<int:pk>/documents/<slug:kind>/<slug:key>/",
        documents.document_page,
        name="document_page",
    ),
    path(
        "rounds/<int:pk>/documents/<slug:kind>/<slug:key>.<slug:fmt>",
        documents.document_download,
        name="document_download",
    ),
    path("rounds/documents/<int:pk>/", documents.document_status, name="document_status"),
    path("rounds/documents/<int:pk>/file/", documents.document_file, name="document_file"),
    # --- hand-off and delivery (views/handoff.py) ---
    path("rounds/<int:pk>/handoff/", handoff.handoff_round, name="handoff_round"),
    path("rounds/<int:pk>/handoff/supplier/", handoff.handoff_supplier, name="handoff_supplier"),
    path("rounds/<int:pk>/handoff/dispatch/", handoff.shipment_dispatch, name="shipment_dispatch"),
    path(
        "rounds/<int:pk>/handoff/checkpoints/<int:checkpoint_pk>/bundles/",
        handoff.bundles_create,
        name="bundles_create",
    ),
    path("handoff/shipments/<int:pk>/<slug:verb>/", handoff.shipment_step, name="shipment_step"),
    path("handoff/orders/<int:pk>/redeliver/", handoff.order_redeliver, name="order_redeliver"),
    # --- figures and settlement (views/figures.py) ---
    path("supply/figures/", figures.supply_figures, name="figures"),
    path("rounds/<int:pk>/settlement/", figures.settlement, name="settlement"),
]
