"""QR codes as inline SVG (segno), for pages and for PDFs rendered from the same HTML."""

from __future__ import annotations

import segno


def qr_svg(data: str, scale: int = 6) -> str:
    """An <svg> element (no XML declaration) encoding `data`, with a quiet zone of 2 modules.

    Error correction "M" survives a poster that is folded, taped or a little smudged.
    """
    code = segno.make(data, error="m", micro=False)
    svg: str = code.svg_inline(scale=scale, border=2, dark="#000", light="#fff")
    return svg
