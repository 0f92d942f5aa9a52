"""Logs never carry a searched phone or ID number: the demo server's request lines included."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from django.test import SimpleTestCase


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerLogTests(SimpleTestCase):
    def test_it_cuts_query_strings_from_the_demo_servers_request_lines(self) -> None:
        data_dir = tempfile.mkdtemp(prefix="linli-logs-")
        env = {**os.environ, "LINLI_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "linli.settings"}
        env.pop("DATABASE_URL", None)
        env["LINLI_SSL_REDIRECT"] = "false"
        env["PYTHONUNBUFFERED"] = "1"
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "linli.cli", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}/login/?q=13812348000&id=110101195003071016"
            # Generous waits: the server checks every app before it listens, and CI's
            # machine may be busy with the other test worker.
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(url, timeout=10).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.fail("the server did not start")
                    time.sleep(0.2)
            # The server logs a request after answering it: give it a moment to write.
            time.sleep(1.5)
        finally:
            server.send_signal(signal.SIGINT)
            output, _unused = server.communicate(timeout=90)
        self.assertIn("GET /login/?…", output)
        self.assertNotIn("13812348000", output)
        self.assertNotIn("110101195003071016", output)
