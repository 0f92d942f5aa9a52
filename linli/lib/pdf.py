"""PDFs from Django templates with WeasyPrint: A4, and a CJK font named so Chinese renders.

Without a CJK font named in the CSS, WeasyPrint silently drops Chinese characters; the
base template (templates/pdf/base.html) names "WenQuanYi Micro Hei" (Debian
fonts-wqy-microhei) first, with Noto CJK as the alternative. Documents extend it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url


class LocalFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Static files and uploads read from disk; nothing fetched over the network.

    The server asking itself for /static/ over HTTP would wait on its own worker, and a
    document must never make the server fetch an address some input put into it.
    """

    def __init__(self, origin: str) -> None:
        super().__init__(allowed_protocols=["file", "data"])
        self.origin = origin.rstrip("/")

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = self.local_path(url)
        if path is None:
            raise ValueError(f"not a static or uploaded file: {url}")
        return super().fetch(path2url(str(path)), headers)

    def local_path(self, url: str) -> Path | None:
        if not url.startswith(self.origin + "/"):
            return None
        name = unquote(urlsplit(url).path)
        static_url = "/" + settings.STATIC_URL.lstrip("/")
        media_url = "/" + settings.MEDIA_URL.lstrip("/")
        if name.startswith(static_url):
            found = finders.find(name[len(static_url) :])
            return Path(found) if isinstance(found, str) else None
        if name.startswith(media_url):
            root = Path(settings.MEDIA_ROOT).resolve()
            path = (root / name[len(media_url) :]).resolve()
            return path if path.is_relative_to(root) and path.is_file() else None
        return None


def render_pdf(request: HttpRequest, template_name: str, context: dict[str, Any]) -> bytes:
    """Render `template_name` (usually extending pdf/base.html) to PDF bytes.

    Relative URLs resolve against the request's address; static files and uploads are
    read from disk (see LocalFilesFetcher).
    """
    html = render_to_string(template_name, context, request=request)
    origin = request.build_absolute_uri("/")
    document = HTML(string=html, base_url=origin, url_fetcher=LocalFilesFetcher(origin))
    pdf: bytes = document.write_pdf()
    return pdf


def pdf_response(pdf_bytes: bytes, filename: str) -> HttpResponse:
    """Show the PDF in the browser (inline), saved as `filename` (Chinese allowed)."""
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    # Old clients read the plain name (ASCII only); the rest read filename* (RFC 6266).
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "").strip()
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = "document.pdf"
    response["Content-Disposition"] = (
        f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
