"""Run the web server: python -m bot.web [--port PORT] [--host HOST].

It serves the demo pages (`/`, `/another-page`), the chat widget (`/widget.js`) and the support team's review
dashboard (`/review`, bot/web/review/), on WEB_PORT (8000) by default: see bot/web/app.py.
"""

from __future__ import annotations

import argparse
from typing import List, Optional

from bot.privacy.logs import install as install_log_privacy
from bot.settings import get_settings
from bot.web.app import create_app


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the demo pages, the widget and the review dashboard until interrupted."""
    settings = get_settings()
    parser = argparse.ArgumentParser(
        description="The caregiver assistant's web server: demo pages, chat widget, review dashboard at /review."
    )
    parser.add_argument("--port", type=int, default=settings.web_port)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    app = create_app(settings)  # Sanic sets up its loggers here
    install_log_privacy()  # then no parent text, identifier or secret in any log line (bot/privacy/logs.py)
    app.run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
