"""Static bodies served with an ETag and `no-cache`: browsers keep them and ask again cheaply (304)."""

from __future__ import annotations

import hashlib
from typing import Callable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse


def revalidated(body: bytes, content_type: str) -> Callable[[Request], HTTPResponse]:
    """A response function for one unchanging body: 304 when the browser's copy is current, else the body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}

    def respond(request: Request) -> HTTPResponse:
        if request.headers.get("if-none-match") == etag:
            return response.empty(status=304, headers=headers)
        return response.raw(body, content_type=content_type, headers=headers)

    return respond
