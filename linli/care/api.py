"""关爱回访 in the REST API (errors: linli/api.py)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["关爱回访"])
