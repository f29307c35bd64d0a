"""The bot core stays independent of Rasa: nothing under bot/ imports rasa or rasa_sdk."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

BOT_MODULES = sorted((PROJECT_ROOT / "bot").rglob("*.py"))


def imported_roots(path: Path) -> set:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", BOT_MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_bot_core_never_imports_rasa(path: Path) -> None:
    assert not imported_roots(path) & {"rasa", "rasa_sdk"}


def test_actions_are_thin() -> None:
    for path in (PROJECT_ROOT / "actions").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 120, f"{path.name} should delegate to bot/"
