"""Rasa's own checks: domain/data validation and the conversation test stories (tests/stories/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.serve import service_env
from bot.settings import PROJECT_ROOT
from tests.conftest import model_path
from tests.servers import require_model

RASA = str(Path(sys.executable).parent / "rasa")
ENV = service_env()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True, timeout=600)


def test_rasa_data_validate_fails_on_no_warning() -> None:
    result = run("data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversation_stories_pass(tmp_path: Path) -> None:
    require_model()  # skips without a model, fails under CI=true
    result = run(
        "test",
        "core",
        "--stories",
        "tests/stories",
        "--model",
        str(model_path()),
        "--endpoints",
        "endpoints.yml",
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Accuracy:         1.000" in output
