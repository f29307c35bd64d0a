"""Run the web server: python -m bot.web [--port PORT]."""

from __future__ import annotations

import argparse
from typing import List, Optional

from bot.settings import get_settings
from bot.web.app import create_app


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the widget and demo pages until interrupted."""
    settings = get_settings()
    parser = argparse.ArgumentParser(description="The caregiver assistant's web server (widget, demo pages).")
    parser.add_argument("--port", type=int, default=settings.web_port)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    create_app(settings).run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
