"""The shape the code keeps (style.md): short functions, and each shared name or number defined in one place."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from bot.settings import PROJECT_ROOT

PACKAGES = ("bot", "actions", "rasa_components")
SOURCES = sorted(path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py"))
CONTRACT = PROJECT_ROOT / "bot" / "contract.py"
MAX_FUNCTION_LINES = 80


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(path: Path) -> Iterator[Tuple[str, int]]:
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield (
                f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}",
                (node.end_lineno or node.lineno) - node.lineno + 1,
            )


def _assigned_names(path: Path) -> Iterator[Tuple[str, int]]:
    """Names bound at module or class level (constants, aliases), with their line."""
    for node in ast.walk(_tree(path)):
        targets: List[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id, node.lineno


def _contract_names() -> List[str]:
    return [name for name, _ in _assigned_names(CONTRACT) if name.isupper()]


def test_no_function_is_longer_than_80_lines() -> None:
    too_long = [f"{where} ({lines} lines)" for path in SOURCES for where, lines in _functions(path) if lines > MAX_FUNCTION_LINES]
    assert not too_long, "split these functions:\n" + "\n".join(too_long)


def test_the_contract_holds_the_shared_names() -> None:
    names = set(_contract_names())
    assert {
        "RED_FLAG_INTENT",
        "REQUEST_HUMAN_INTENT",
        "REFERRAL_LEVELS",
        "ANSWER_TYPES",
        "WEEKS_PER_MONTH",
        "TERM_WEEKS",
    } <= names


@pytest.mark.parametrize("path", [p for p in SOURCES if p != CONTRACT], ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_shared_name_is_defined_again(path: Path) -> None:
    shared = set(_contract_names())
    again = [f"{name} (line {line})" for name, line in _assigned_names(path) if name in shared]
    assert not again, f"import these from bot.contract instead of defining them: {', '.join(again)}"


# The values behind the contract's names, which must not appear as literals anywhere else in the code.
SHARED_LITERALS = ("report_red_flag", "request_human", "nlu_fallback", "milestone:", "safety:", "observation:", ":unsure")
# Calendar numbers written out instead of imported: weeks per month in its usual approximations, and a term length.
CALENDAR_LITERALS = (4.345, 4.33, 4.333, 4.348, 30.4, 30.44, 40.0)


@pytest.mark.parametrize("path", [p for p in SOURCES if p != CONTRACT], ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_shared_values_are_not_written_out(path: Path) -> None:
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in SHARED_LITERALS:
            found.append(f"{node.value!r} (line {node.lineno})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value in CALENDAR_LITERALS:
            found.append(f"{node.value!r} (line {node.lineno})")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            pair = (node.left, node.right)
            if all(isinstance(side, ast.Constant) for side in pair) and {p.value for p in pair} <= {
                52,
                12,
                365.25,
                7,
            }:  # type: ignore[attr-defined]
                found.append(f"a calendar division (line {node.lineno})")
    assert not found, f"use bot.contract's names: {', '.join(found)}"
