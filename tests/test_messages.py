"""The message catalogue (knowledge/messages/): no parent-facing sentence is written in Python, every key the code
looks up exists and every entry is used, and a broken catalogue fails with a clear message."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from bot.knowledge.documents import KnowledgeError, Question
from bot.knowledge.messages import MessageError, domain_responses, get_catalogue, load_catalogue, say
from bot.knowledge.validate import load_knowledge
from bot.settings import PROJECT_ROOT
from bot.triage import dialogue
from bot.triage.dialogue import TriageState
from bot.triage.milestones import MilestoneSubject
from bot.web.bundle import widget_strings
from tests.test_knowledge_build import write_knowledge

CODE_DIRS = ("bot", "actions", "rasa_components")

# ---- (a) no sentence a parent reads is written in Python ----
#
# The rule. Every string literal in bot/, actions/ and rasa_components/ (each piece of an f-string on its own) that
# starts like a sentence, three words with the first capitalised (leading Markdown and punctuation left out), is
# taken for a sentence a parent reads, unless it is one of:
#   1. a docstring;
#   2. for developers or operators, not parents: inside a `raise` statement, an exception's constructor (a name
#      ending in Error, Exception or Missing), a logging call (logger.*/logging.*/log.*), print(), warnings.warn(),
#      argparse (ArgumentParser, add_argument), sys.exit/sys.stderr, or rasa_components.adaptations' Reliance table;
#   3. a pattern: a raw string (r"..."), an argument of a re.* function, a text with regular-expression syntax
#      ("(?", "\\b", "\\d", "\\s", "\\w", "[^", "|"), or a word list split by .split();
#   4. SQL (starts with SELECT, INSERT, CREATE, UPDATE or DELETE) or script for the widget bundle (holds "var ");
#   5. the value of an "error" key: the body of an HTTP error for API clients and proxies, never shown in a chat;
#   6. in the staff-facing parts: the review dashboard (bot/review/, bot/web/review*), the clinicians' rules report
#      (bot/knowledge/report.py), the launcher's console (bot/serve.py), or one of NOT_FOR_PARENTS below.
# Anything else is a sentence for a parent and belongs in knowledge/messages/en.yml, looked up with say().
# A known gap: a fragment that does not start a sentence ("born on time") is not seen; the fragments are in the
# catalogue too (summary.*, units.*).
STAFF_FACING = ("bot/review/", "bot/web/review", "bot/knowledge/report.py", "bot/serve.py")
# Texts outside those parts that no parent reads: (file, how the text starts) -> who reads it.
NOT_FOR_PARENTS = {
    ("bot/web/app.py", "Little Steps Family Clinic"): "the demo site's own page titles, around the widget",
    ("bot/web/app.py", "Visiting us"): "the demo site's own page titles, around the widget",
    ("bot/privacy/logs.py", "Rasa could not read a message"): "replaces a log line that would show a message",
    ("rasa_components/rest.py", "The REST channel is closed"): "the 403 body for an API client (a named constant)",
}
SENTENCE = re.compile(r"[A-Z][a-z']*[,:]? [A-Za-z']+[,:]? [A-Za-z']+")  # three words, the first capitalised
REGEX_SYNTAX = ("(?", "\\b", "\\d", "\\s", "\\w", "[^", "|")
SQL = ("SELECT", "INSERT", "CREATE", "UPDATE", "DELETE")
DEVELOPER_CALLS = {"print", "warn", "exit", "ArgumentParser", "add_argument", "write", "Reliance"}
LOGGERS = {"logger", "logging", "log", "_logger", "LOGGER"}


def _call_name(call: ast.Call) -> Tuple[str, str]:
    """(receiver, name) of a call: ("logger", "warning"), ("", "print"), ("re", "compile")."""
    func = call.func
    if isinstance(func, ast.Attribute):
        receiver = func.value
        name = receiver.id if isinstance(receiver, ast.Name) else receiver.attr if isinstance(receiver, ast.Attribute) else ""
        return name, func.attr
    return "", func.id if isinstance(func, ast.Name) else ""


def _exempt_nodes(tree: ast.AST) -> Set[int]:
    """ids of the string constants the rule leaves out (docstrings, developer texts, patterns, error bodies)."""
    exempt: Set[int] = set()

    def cover(node: ast.AST) -> None:
        exempt.update(id(child) for child in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                cover(first)
        elif isinstance(node, ast.Raise):
            cover(node)
        elif isinstance(node, ast.Call):
            receiver, name = _call_name(node)
            if (
                receiver in LOGGERS
                or receiver in {"re", "sys", "stderr", "stdout"}
                or name in DEVELOPER_CALLS
                or name.endswith(("Error", "Exception", "Missing"))
            ):
                cover(node)
            elif name == "split" and isinstance(node.func, ast.Attribute):
                cover(node.func.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=False):
                if isinstance(key, ast.Constant) and key.value == "error":
                    cover(value)
    return exempt


def _literals(path: Path) -> Iterator[Tuple[int, str, bool]]:
    """(line, text, raw) of every string literal in a file that the rule does not leave out."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    exempt = _exempt_nodes(tree)
    lines = source.encode("utf-8").splitlines()  # ast columns count UTF-8 bytes
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt:
            prefix = lines[node.lineno - 1][node.col_offset : node.col_offset + 1]
            yield node.lineno, node.value, prefix in (b"r", b"R")


def is_prose(text: str, raw: bool = False) -> bool:
    """Whether a string literal reads as a sentence for a parent by the rule above."""
    start = text.lstrip(" *-!?.,;:")
    if raw or not SENTENCE.match(start) or any(mark in text for mark in REGEX_SYNTAX):
        return False
    return not (start.startswith(SQL) or "var " in text)


def _code_files() -> Iterator[Tuple[str, Path]]:
    for directory in CODE_DIRS:
        for path in sorted((PROJECT_ROOT / directory).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if not relative.startswith(STAFF_FACING):
                yield relative, path


def sentences_in_code() -> List[str]:
    """file:line: text for every parent-facing sentence written in Python."""
    found = []
    for relative, path in _code_files():
        for line, text, raw in _literals(path):
            if is_prose(text, raw) and not any(relative == f and text.startswith(t) for f, t in NOT_FOR_PARENTS):
                found.append(f"{relative}:{line}: {text!r}")
    return found


def test_no_parent_facing_sentence_is_written_in_python() -> None:
    found = sentences_in_code()
    assert not found, "write these in knowledge/messages/en.yml and look them up with say():\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text, raw, prose",
    [
        ("Sorry, I couldn't use that answer.", False, True),
        ("Just in general", False, True),
        ("**For your child**", False, True),
        ("born on time", False, False),  # a fragment: not the start of a sentence (the rule's known gap)
        ("advice.referral.provider", False, False),  # a catalogue key
        ("yes and no", True, False),  # a raw string: a pattern
        ("meant to (?:say|write)", False, False),
        ("SELECT value FROM build_info", False, False),
        ("\n\n", False, False),
    ],
)
def test_the_rule_tells_sentences_from_keys_and_patterns(text: str, raw: bool, prose: bool) -> None:
    assert is_prose(text, raw) is prose


def test_the_scan_sees_sentences_and_leaves_out_what_parents_never_read(tmp_path: Path) -> None:
    code = tmp_path / "sample.py"
    code.write_text(
        '"""A module docstring with words."""\n'
        "import logging, re\n"
        "logger = logging.getLogger(__name__)\n"
        "def reply(name):\n"
        '    """A docstring."""\n'
        '    logger.warning("Could not reach the store")\n'
        '    pattern = re.compile("not sure")\n'
        "    if not name:\n"
        '        raise ValueError("a name is needed")\n'
        '    error = {"error": "A valid token is required"}\n'
        '    return f"Hello {name}! How is your baby today?"\n',
        encoding="utf-8",
    )
    found = [(line, text) for line, text, raw in _literals(code) if is_prose(text, raw)]
    assert found == [(11, "! How is your baby today?")]


# ---- (b) every key the code looks up exists, and every catalogue entry is used ----


LOOKUPS = {"say", "text", "buttons", "under", "Response"}  # calls whose string arguments are catalogue keys
KEY = re.compile(r"[a-z_]+(\.[a-zA-Z_]+)+")


def _keys_named_in_code() -> Tuple[Set[str], Set[str]]:
    """The catalogue keys the code names: string arguments of say()/text()/buttons()/under()/Response(), values of
    dicts of keys (ASIDES), and the prefixes of keys built by f-strings (f"units.months.{form}")."""
    named: Set[str] = set()
    prefixes: Set[str] = set()
    for _, path in _code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        places: List[ast.AST] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node)[1] in LOOKUPS:
                places += node.args
            elif isinstance(node, ast.Dict):
                places += [value for value in node.values if value is not None]
        for place in places:
            for node in ast.walk(place):
                if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    prefixes.add(str(node.values[0].value))
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value):
                    named.add(node.value)
    return named, {p for p in prefixes if KEY.fullmatch(p.rstrip("."))}


def test_every_key_the_code_names_is_in_the_catalogue_and_every_entry_is_used() -> None:
    keys = set(load_catalogue(PROJECT_ROOT / "knowledge" / "messages").keys())
    named, prefixes = _keys_named_in_code()
    groups = {key.split(".")[0] for key in keys}
    named = {n for n in named if n.split(".")[0] in groups}
    missing = sorted(n for n in named if n not in keys and not any(k.startswith(n + ".") for k in keys))
    assert not missing, f"looked up but not in knowledge/messages/en.yml: {missing}"
    built = sorted(p for p in prefixes if p.split(".")[0] in groups and not any(k.startswith(p) for k in keys))
    assert not built, f"keys built from these prefixes match nothing: {built}"
    used = [*named, *(n + "." for n in named), *prefixes, "widget."]  # widget.*: the whole group goes to the widget
    unused = sorted(k for k in keys if not any(k == u or (u.endswith(".") and k.startswith(u)) for u in used))
    assert not unused, f"catalogue entries no code uses: {unused}"


def test_the_greeting_names_every_topic_once_for_the_assistant_and_the_widget() -> None:
    greeting = say("greet.text")
    for words in ("backwards", "on the belly", "not at all", "bottom scooting", "tummy time", "standing", "walking"):
        assert words in greeting
    assert "tiptoe walking" in greeting and "hips" in greeting and "corrected age" in greeting


# ---- (c) a broken catalogue fails with the file, the line and the key ----


def _catalogue(tmp_path: Path, files: Dict[str, str]) -> Path:
    folder = tmp_path / "messages"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


ENGLISH = 'greet:\n  text: Hi!\nwidget:\n  counter: "{count} of {max} characters"\n'


def test_a_valid_catalogue_fills_placeholders_and_falls_back_to_english(tmp_path: Path) -> None:
    catalogue = load_catalogue(_catalogue(tmp_path, {"en.yml": ENGLISH, "fr.yml": 'widget:\n  counter: "{count} sur {max}"\n'}))
    assert catalogue.say("widget.counter", count=3, max=1000) == "3 of 1000 characters"
    assert catalogue.text("widget.counter", "fr") == "{count} sur {max}" and catalogue.text("greet.text", "fr") == "Hi!"


@pytest.mark.parametrize(
    "files, error",
    [
        (
            {"en.yml": ENGLISH, "es.yml": "greet:\n  txt: ¡Hola!\n"},
            r"messages/es.yml:2: key 'greet.txt' is not in en.yml",
        ),
        (
            {"en.yml": ENGLISH, "fr.yml": 'widget:\n  counter: "{nombre} sur {max}"\n'},
            r"messages/fr.yml:2: key 'widget.counter': placeholders differ from en.yml \(count, max\)",
        ),
        (
            {"en.yml": 'greet:\n  text: "Hi {name!}"\n'},
            r"messages/en.yml:2: key 'greet.text': placeholder \{name!\} is not a name",
        ),
        ({"en.yml": 'greet:\n  text: "Hi {name"\n'}, r"messages/en.yml:2: key 'greet.text': has a brace outside"),
        ({"en.yml": 'greet:\n  text: "  "\n'}, r"messages/en.yml:2: key 'greet.text': the text is empty"),
        ({"en.yml": "greet:\n  count: 3\n"}, r"messages/en.yml:2: key 'greet.count': a message is a text"),
        ({"fr.yml": "greet:\n  text: Salut\n"}, r"messages/en.yml:0: the English message catalogue is missing"),
    ],
)
def test_a_broken_catalogue_names_the_file_line_and_key(tmp_path: Path, files: Dict[str, str], error: str) -> None:
    with pytest.raises(KnowledgeError, match=error):
        load_catalogue(_catalogue(tmp_path, files))


def test_a_lookup_needs_a_known_key_and_exactly_its_values(tmp_path: Path) -> None:
    catalogue = load_catalogue(_catalogue(tmp_path, {"en.yml": ENGLISH}))
    with pytest.raises(MessageError, match="no message 'greet.bye'"):
        catalogue.say("greet.bye")
    with pytest.raises(MessageError, match="message 'widget.counter' needs a value for max"):
        catalogue.say("widget.counter", count=3)
    with pytest.raises(MessageError, match="message 'greet.text' has no placeholder name"):
        catalogue.say("greet.text", name="Sam")


def test_the_knowledge_build_fails_on_a_broken_catalogue(tmp_path: Path) -> None:
    root = write_knowledge(tmp_path / "knowledge")
    _catalogue(root, {"en.yml": ENGLISH, "es.yml": 'widget:\n  counter: "{count}"\n'})
    with pytest.raises(KnowledgeError, match=r"es.yml:2: key 'widget.counter': placeholders differ"):
        load_knowledge(root)


# ---- each sentence once: the widget, the domain and the code share entries ----


def test_the_widget_greets_with_the_assistants_greeting_and_examples() -> None:
    catalogue = get_catalogue()
    strings = widget_strings(catalogue)
    greet = domain_responses(catalogue)["utter_greet"][0]
    assert strings["en"]["greeting"].startswith("Hi! I answer questions about how babies and toddlers move: crawling")
    assert greet["text"].startswith(strings["en"]["greeting"] + "\n\n")
    assert greet["text"].endswith(
        "I give general information, not a diagnosis. In an emergency, call your local emergency number."
    )
    assert strings["en"]["suggestions"] == greet["buttons"]
    assert strings["en"]["suggestions"][0] == {
        "title": "My baby crawls backwards",
        "payload": "Why is my baby crawling backwards?",
    }
    assert strings["es"]["send"] == "Enviar" and "greeting" not in strings["es"]  # not translated: English in the widget


def test_the_hand_off_text_is_the_same_in_the_domain_and_during_the_questions() -> None:
    handoff = domain_responses(get_catalogue())["utter_human_handoff"][0]["text"]
    assert handoff.startswith("I've noted that you'd like to talk to a person")
    question = Question(slot="age_months", type="months", ask="How old is your child?", example="10 months", why="Age matters.")
    subject = MilestoneSubject(id="milestone:walks", title="when babies usually walk")
    turn = dialogue.handle_reply(
        subject, {"age_months": question}, "age_months", "request_human", "a person please", {}, TriageState()
    )
    assert turn.human_requested and turn.messages[0].text == handoff + " Meanwhile, I can keep helping:"
