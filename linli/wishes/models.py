"""微心愿: the models."""

from __future__ import annotations
