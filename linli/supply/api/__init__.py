"""REST API for supply rounds: one router made of the parts below (see linli/api.py for
auth and the error format)."""

from __future__ import annotations

from ninja import Router

from linli.supply.api import documents, figures, handoff, orders, rounds

router = Router()
router.add_router("", rounds.router)
router.add_router("", orders.router)
router.add_router("", documents.router)
router.add_router("", handoff.router)
router.add_router("", figures.router)
