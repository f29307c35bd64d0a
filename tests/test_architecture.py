"""The bot core stays independent of Rasa (nothing under bot/ imports rasa or rasa_sdk), and actions stay adapters."""

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


ACTION_MODULES = sorted((PROJECT_ROOT / "actions").glob("*.py"))
# What an action must leave to the bot core (style.md 1: logic, I/O and knowledge live in bot/).
IO_AND_KNOWLEDGE = {"yaml", "sqlalchemy", "sqlite3", "spacy", "httpx", "requests", "urllib"}


@pytest.mark.parametrize("path", ACTION_MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_actions_leave_files_databases_and_knowledge_to_the_bot_core(path: Path) -> None:
    assert not imported_roots(path) & IO_AND_KNOWLEDGE
    tree = ast.parse(path.read_text(encoding="utf-8"))
    opened = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == "open"]
    assert not opened, f"{path.name} opens files itself (lines {opened}): read them in bot/"
