"""关爱回访: the models."""

from __future__ import annotations
