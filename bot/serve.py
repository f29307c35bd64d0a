"""Start the action server, the Rasa server and the web server (`make run`); Ctrl-C stops them all cleanly.

Usage: python -m bot.serve [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot.settings import PROJECT_ROOT, get_settings

BIN = Path(sys.executable).parent


def service_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment both servers need: endpoints.yml variables with defaults, quiet TensorFlow."""
    env = {**os.environ, **get_settings().service_env, **(extra or {})}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    if env["TRACKER_DB_URL"].startswith("sqlite:///"):
        Path(env["TRACKER_DB_URL"][len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return env


def latest_model(model_dir: Path) -> Path:
    """The newest trained model in model_dir."""
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit(f"No trained model in {model_dir}: run `make train` first.")
    return models[-1]


def action_command(port: int) -> List[str]:
    """Command line of the action server."""
    return [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]


def rasa_command(port: int, model: Path, token: Optional[str], origins: Sequence[str] = ()) -> List[str]:
    """Command line of the Rasa server: REST + socket.io channels and the HTTP API.

    origins: the web pages allowed to call it from a browser (CORS), default WEB_ALLOWED_ORIGINS.
    """
    origins = list(origins or get_settings().web_allowed_origins)
    command = [
        str(BIN / "rasa"), "run", "--enable-api", "--port", str(port), "--model", str(model),
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--cors", *origins,
    ]  # fmt: skip
    return command + (["--auth-token", token] if token else [])


def web_command(port: int) -> List[str]:
    """Command line of the web server (widget and demo pages)."""
    return [str(BIN / "python"), "-m", "bot.web", "--port", str(port)]


def wait_until_up(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:
    """Poll url until it answers 200, the process exits, or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def main(argv: Optional[List[str]] = None) -> int:
    """Run the servers until Ctrl-C or until one of them stops."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model archive (default: newest in models/)")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model or latest_model(settings.model_dir)
    env = service_env()
    processes = [
        subprocess.Popen(action_command(settings.action_port), cwd=PROJECT_ROOT, env=env),
        subprocess.Popen(rasa_command(settings.rasa_port, model, settings.rasa_token), cwd=PROJECT_ROOT, env=env),
        subprocess.Popen(web_command(settings.web_port), cwd=PROJECT_ROOT, env=env),
    ]

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        wait_until_up(f"http://127.0.0.1:{settings.action_port}/health", 60, processes[0])
        wait_until_up(f"http://127.0.0.1:{settings.web_port}/health", 60, processes[2])
        wait_until_up(f"http://127.0.0.1:{settings.rasa_port}/", 180, processes[1])
        print(
            f"\nThe assistant is ready:\n  Chat widget demo  http://localhost:{settings.web_port}/\n"
            f"  Review dashboard  http://localhost:{settings.web_port}/review  (accounts: python -m bot.review users add)\n"
            f"  Rasa REST         http://localhost:{settings.rasa_port}/webhooks/rest/webhook\n"
            f"  Actions           http://localhost:{settings.action_port}/health\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
