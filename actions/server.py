"""The action server: rasa_sdk's app, listening on ACTION_INTERFACE (default 127.0.0.1), with a body cap.

Usage: python -m actions.server [--port PORT] [--interface ADDRESS]

Requests larger than ACTION_MAX_BODY_BYTES are refused (413), before and after decompression: rasa_sdk
inflates `Content-Encoding: deflate` bodies without a limit, so a deflate body is first inflated here
with a bound (Rasa compresses only when COMPRESS_ACTION_SERVER_REQUEST=true); any other encoding gets 415.
rasa_sdk imports every module of this package to find actions: nothing here runs at import time.
"""

from __future__ import annotations

import argparse
import logging
import zlib
from typing import List, Optional

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.privacy.logs import install as install_log_privacy
from bot.settings import get_settings


def _refusal(status: int, error: str) -> HTTPResponse:
    return response.json({"error": error}, status=status)


def encoding_refusal(request: Request, max_bytes: int) -> Optional[HTTPResponse]:
    """None when the body may reach rasa_sdk, else the refusal (415 unknown encoding, 413 too big, 400 broken)."""
    encoding = request.headers.get("content-encoding", "identity").strip()
    if encoding == "identity":
        return None
    if encoding != "deflate":
        return _refusal(415, "unsupported Content-Encoding")
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(request.body or b"", max_bytes + 1)
    except zlib.error:
        return _refusal(400, "invalid deflate body")
    if len(inflated) > max_bytes:
        return _refusal(413, "request body too large")
    if not inflater.eof or inflater.unused_data:
        return _refusal(400, "invalid deflate body")
    return None


def build_app(max_bytes: int) -> Sanic:
    """rasa_sdk's app for the `actions` package, with the body cap and the encoding check installed."""
    app = create_app("actions", cors_origins=[])
    app.config.REQUEST_MAX_SIZE = max_bytes

    async def check_encoding(request: Request) -> Optional[HTTPResponse]:
        return encoding_refusal(request, max_bytes)

    async def refuse(request: Request, error: SanicException) -> HTTPResponse:
        return _refusal(error.status_code, str(error))  # rasa_sdk's catch-all would answer 500 instead

    app.register_middleware(check_encoding, attach_to="request")
    app.error_handler.add(SanicException, refuse)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def configure_logging() -> None:
    """rasa_sdk's console logging at INFO, as `python -m rasa_sdk` sets it up, with no parent text in it."""
    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    install_log_privacy()  # after the handlers exist (bot/privacy/logs.py)


def main(argv: Optional[List[str]] = None) -> None:
    """Serve the actions until interrupted."""
    settings = get_settings()
    parser = argparse.ArgumentParser(description="The caregiver assistant's action server.")
    parser.add_argument("--port", type=int, default=settings.action_port)
    parser.add_argument("--interface", default=settings.action_interface)
    args = parser.parse_args(argv)
    configure_logging()
    app = build_app(settings.action_max_body_bytes)
    app.run(args.interface, args.port, workers=utils.number_of_sanic_workers(), access_log=False, motd=False)


if __name__ == "__main__":
    main()
