"""Fake Telegram Bot API and Twilio API on loopback: they record every outbound call and can be told
to fail the next few calls (HTTP 503 or 429) to exercise retries."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List
from urllib.parse import parse_qs

from tests.servers import free_port

TG_TOKEN, TG_SECRET = "123456:test-token", "webhook-secret_1"
SID, AUTH, NUMBER = "AC" + "1" * 32, "twilio-auth-token", "whatsapp:+14155238886"
PUBLIC_URL = "https://assistant.example.org/webhooks/whatsapp/webhook"  # what Twilio signs, behind a proxy


class FakePlatforms:
    """One server answering both APIs; `calls` holds {path, body} in arrival order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: List[Dict[str, Any]] = []
        self.failures: List[int] = []  # statuses to answer with, next calls first
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                body = (
                    json.loads(raw)
                    if "json" in (self.headers.get("content-type") or "")
                    else {k: v[0] for k, v in parse_qs(raw).items()}
                )
                with fake.lock:
                    status = fake.failures.pop(0) if fake.failures else 200
                    if status == 200:
                        fake.calls.append({"path": self.path, "body": body, "auth": self.headers.get("authorization")})
                reply = {"ok": status == 200, "result": {"message_id": len(fake.calls)}, "sid": f"SM{len(fake.calls)}"}
                if status == 429:
                    reply["parameters"] = {"retry_after": 1}
                data = json.dumps(reply).encode()
                self.send_response(201 if status == 200 and "Messages.json" in self.path else status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent(self, match: Callable[[Dict[str, Any]], bool] = lambda c: True) -> List[Dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if match(c)]

    def wait_for(
        self, count: int, match: Callable[[Dict[str, Any]], bool] = lambda c: True, timeout: float = 30
    ) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(match)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} calls, got {len(self.sent(match))}: {self.sent(match)[-3:]}")

    def stop(self) -> None:
        self.server.shutdown()


def platform_env(fake: FakePlatforms) -> Dict[str, str]:
    """The settings that turn Telegram and WhatsApp on, against the fake platforms."""
    return {
        "TELEGRAM_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_URL": fake.url,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": AUTH,
        "TWILIO_WHATSAPP_NUMBER": NUMBER,
        "TWILIO_WEBHOOK_URL": PUBLIC_URL,
        "TWILIO_API_URL": fake.url,
    }
