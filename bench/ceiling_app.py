"""The HTTP ceiling for bench/intake_bench.py's `ceiling` mode: a WSGI app that does nothing.

It reads the request body and answers a POST with 201 and `{"id": n}` (a GET with 200 and
`{}`), touching no database and no Django. Served by the same gunicorn settings and loaded
by the same clients as the real endpoint, its requests/s is what this machine's HTTP stack
can carry at all: no endpoint can be faster, so it bounds the HTTP ÷ raw ratio from above.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

_ids = itertools.count(1)


def application(
    environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    if environ["REQUEST_METHOD"] == "POST":
        status, body = "201 Created", b'{"id": %d}' % next(_ids)
    else:
        status, body = "200 OK", b"{}"
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
