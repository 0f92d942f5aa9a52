"""The `linli` command: the project's manage.py, installed as a console script."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        # The demo serves plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
        os.environ.setdefault("LINLI_SSL_REDIRECT", "false")
        os.environ.setdefault("LINLI_SECURE_COOKIES", "false")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
