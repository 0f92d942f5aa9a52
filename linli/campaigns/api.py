"""上门普查 in the REST API (errors: linli/api.py)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["普查与核酸"])
