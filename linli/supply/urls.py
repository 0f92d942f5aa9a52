from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "supply"

urlpatterns: list[URLPattern] = [
    # --- rounds, suppliers, packages, offers, care packages (views/rounds.py, suppliers.py) ---
    # --- ordering (views/orders.py, views/resident.py, views/bulk.py) ---
    # --- documents (views/documents.py) ---
    # --- hand-off and delivery (views/handoff.py) ---
    # --- figures and settlement (views/figures.py) ---
]
