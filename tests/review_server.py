"""A real web server process serving the review dashboard over a seeded tracker-store database."""

from __future__ import annotations

import re
import subprocess
import time
from contextlib import ExitStack
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Dict, Optional

import httpx

from bot.serve import BIN, service_env, wait_until_up, web_command
from bot.settings import PROJECT_ROOT
from tests.databases import postgres_database
from tests.servers import free_port
from tests.tools.review_data import create_events_table, generate, write

PASSWORDS = {"admin": "admin-password-123", "reviewer": "reviewer-password-123"}


class ReviewServer:
    """Web server + database with generated conversations (60 by default), an admin and a reviewer."""

    def __init__(self, url: str, tmp: Path, kb_path: Path, conversations: int = 60) -> None:
        self.conversations = conversations
        self.db_url = url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = service_env(
            {"TRACKER_DB_URL": url, "KNOWLEDGE_DB": str(kb_path), "DATA_DIR": str(tmp), "WEB_PORT": str(self.port)}
        )
        self.tmp = tmp
        self.process: Optional[subprocess.Popen] = None

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """Run `python -m bot.review ...` against this database."""
        command = [str(BIN / "python"), "-m", "bot.review", *args]
        return subprocess.run(command, cwd=PROJECT_ROOT, env=self.env, input=stdin, capture_output=True, text=True, timeout=120)

    def start(self) -> ReviewServer:
        engine = create_events_table(self.db_url)
        write(engine, generate(self.conversations, seed=7, days=20 if self.conversations <= 1000 else 365, now=time.time()))
        engine.dispose()
        for role, password in PASSWORDS.items():
            done = self.cli("users", "add", role, "--role", role, "--password-stdin", stdin=password + "\n")
            assert done.returncode == 0, done.stderr
        log = open(self.tmp / "web.log", "ab")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            web_command(self.port), cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_until_up(f"{self.base}/health", 60, self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Client:
    """An HTTP client that keeps the dashboard's cookies itself (they are Secure; this is plain http)."""

    def __init__(self, server: ReviewServer) -> None:
        self.server = server
        self.cookies: Dict[str, str] = {}
        self.http = httpx.Client(base_url=server.base, follow_redirects=False, timeout=30)
        self.last_set_cookie = ""

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        response = self.http.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            self.last_set_cookie = header
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Dict[str, str], **kwargs: object) -> httpx.Response:
        return self.request("POST", path, data=data, **kwargs)

    def csrf(self, path: str = "/review/") -> str:
        """The CSRF token from a form on a page."""
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, username: str, password: Optional[str] = None) -> httpx.Response:
        token = self.csrf("/review/login")
        return self.post("/review/login", {"csrf": token, "username": username, "password": password or PASSWORDS[username]})


def signed_in_page(
    browser: Any, server: ReviewServer, viewport: Dict[str, int], path: str = "/review/login", **options: Any
) -> Any:
    """A browser page signed in as the administrator, at `path` (the sign-in form returns there); `page.base` is the
    dashboard's address as the browser uses it."""
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    base = server.base.replace("127.0.0.1", "localhost")  # browsers keep Secure cookies on localhost
    page.goto(f"{base}{path}")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORDS["admin"])
    page.click("button:text('Sign in')")
    page.wait_for_selector("h1")
    page.base = base
    return page


def tracker_url(stack: ExitStack, kind: str, tmp: Path, postgres_name: str) -> str:
    """A dashboard test's tracker store: SQLite in `tmp`, or ("postgresql") a throwaway PostgreSQL database that
    `stack` drops."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'tracker.db'}"
    return str(stack.enter_context(postgres_database(postgres_name)))


def signed_in(server: ReviewServer, role: str) -> Client:
    """An HTTP client signed in to the dashboard as `role` (admin or reviewer)."""
    client = Client(server)
    assert client.sign_in(role).status_code == 302
    return client
