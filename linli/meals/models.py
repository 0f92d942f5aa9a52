"""爱心餐: the models."""

from __future__ import annotations
