"""`linli demo`: create the database, seed a tier once, and serve it on 127.0.0.1, with a
background worker beside the server."""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.registry import seed
from linli.registry.management.commands.seed import seed_tier


class Command(BaseCommand):
    help = "演示：建库、生成演示数据（只生成一次）并在 127.0.0.1 上启动服务和后台任务。"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tier", choices=sorted(seed.TIERS), default="community")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--password", default=seed.DEFAULT_PASSWORD)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="不启动后台任务进程（已另行运行 linli db_worker 时）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 0 < port < 65536:
            raise CommandError(_("端口应在 1 到 65535 之间"))
        self.stdout.write(_("正在准备数据库……"))
        call_command("migrate", interactive=False, verbosity=0)
        seed_tier(self, tier=options["tier"], password=options["password"])
        self.stdout.write("")
        worker = None if options["no_worker"] else start_worker()
        if worker is not None:
            self.stdout.write(
                _("后台任务进程（linli db_worker）已启动，进程号 %(pid)d。") % {"pid": worker.pid}
            )
        self.stdout.write(
            _("在浏览器中打开 http://127.0.0.1:%(port)d/ （管理后台 /admin/），按 Ctrl+C 停止。")
            % {"port": port}
        )
        try:
            # Only on loopback: the demo serves plain HTTP (linli.cli turns off the HTTPS
            # redirect and secure-only cookies for it); static files come from whitenoise.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            if worker is not None:
                stop_worker(worker)


def start_worker() -> subprocess.Popen[bytes]:
    """`linli db_worker` in a child process, so that what the pages queue (a large round's
    pick lists, manifests and labels) is made while the demo runs, as in production. A
    process rather than a thread: the worker installs signal handlers, which only a main
    thread may, and a long PDF then never holds up the server. It shares the environment,
    and so the data folder and database, of the demo."""
    command = [
        sys.executable,
        "-m",
        "linli.cli",
        "db_worker",
        "--no-reload",
        "--no-startup-delay",
        "--interval=1",
    ]
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module, no shell)
        command, preexec_fn=_die_with_parent if sys.platform == "linux" else None
    )


def _die_with_parent() -> None:
    """Linux: the kernel sends the worker SIGTERM when the demo process ends however it
    ends (runserver leaves with os._exit when its port is taken, skipping `finally`)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (Ctrl+C in the terminal has usually told it already), then
    make sure it has."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
