"""The message catalogue: every sentence the assistant says, as data (knowledge/messages/<language>.yml).

Python only composes: it picks a key, fills the key's placeholders and joins entries. `say(key, **values)` gives the
English text; `get_catalogue()` the whole validated catalogue, loaded once from settings.KNOWLEDGE_DIR.

A catalogue file is a YAML mapping nested as deep as it helps; a key is the dotted path to a text
(`advice.referral.provider`). A placeholder is written `{name}` (letters, digits, underscores); no other brace is
allowed. English (en.yml) holds every key; a translation holds a subset of its keys with the same placeholders.
`load_catalogue` checks all that and raises KnowledgeError naming the file, line and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Tuple

import yaml

from bot.knowledge.documents import KnowledgeError
from bot.settings import get_settings

ENGLISH = "en"
FOLDER = "messages"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}\Z")


class MessageError(LookupError):
    """A lookup the catalogue cannot answer: an unknown key, or a placeholder without (or a value without) a slot."""


def placeholders(text: str) -> FrozenSet[str]:
    """The placeholder names in a text ("{count} of {max}" -> {"count", "max"})."""
    return frozenset(_PLACEHOLDER.findall(text))


def _malformed(text: str) -> str:
    """What is wrong with a text's braces, or '' when every brace belongs to a `{name}` placeholder."""
    for name in _PLACEHOLDER.findall(text):
        if not _NAME.match(name):
            return f"placeholder {{{name}}} is not a name (letters, digits, underscores)"
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        return "has a brace outside a {name} placeholder"
    return ""


def _texts(path: Path) -> Dict[str, Tuple[str, int]]:
    """key -> (text, line) for one catalogue file, in file order, with the file's shape checked."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise KnowledgeError(path, mark.line + 1 if mark else 0, f"not valid YAML: {error}") from error
    if not isinstance(root, yaml.MappingNode):
        raise KnowledgeError(path, 1, "a message catalogue is a mapping of keys to texts (or to more keys)")
    texts: Dict[str, Tuple[str, int]] = {}
    _collect(path, "", root, texts)
    return texts


def _collect(path: Path, prefix: str, node: yaml.MappingNode, texts: Dict[str, Tuple[str, int]]) -> None:
    """Add the texts under one mapping to `texts`, keys prefixed with the path to it."""
    for key_node, value in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not _KEY_PART.match(str(key_node.value)):
            raise KnowledgeError(path, line, f"key '{prefix}{key_node.value}': use letters, digits and underscores")
        key = prefix + str(key_node.value)
        if key in texts or any(k.startswith(key + ".") for k in texts):
            raise KnowledgeError(path, line, f"key '{key}' is defined twice")
        if isinstance(value, yaml.MappingNode):
            _collect(path, key + ".", value, texts)
        elif isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:str":
            texts[key] = (_checked_text(path, line, key, str(value.value)), line)
        else:
            raise KnowledgeError(path, line, f"key '{key}': a message is a text (quote numbers and yes/no words)")


def _checked_text(path: Path, line: int, key: str, text: str) -> str:
    if not text.strip():
        raise KnowledgeError(path, line, f"key '{key}': the text is empty")
    problem = _malformed(text)
    if problem:
        raise KnowledgeError(path, line, f"key '{key}': {problem}")
    return text


@dataclass(frozen=True)
class Catalogue:
    """Every language's texts by key; English has every key, a translation a subset."""

    texts: Mapping[str, Mapping[str, str]]

    def keys(self) -> Tuple[str, ...]:
        """Every key, in the English file's order."""
        return tuple(self.texts[ENGLISH])

    def text(self, key: str, language: str = ENGLISH) -> str:
        """The raw text of a key (placeholders unfilled), in `language` when translated, else in English."""
        translated = self.texts.get(language, {}).get(key)
        if translated is not None:
            return translated
        if key not in self.texts[ENGLISH]:
            raise MessageError(f"no message '{key}' in the catalogue (knowledge/messages/en.yml)")
        return self.texts[ENGLISH][key]

    def say(self, key: str, **values: object) -> str:
        """The English text of `key` with its placeholders filled; a missing or unexpected value is an error."""
        text = self.text(key)
        wanted = placeholders(text)
        missing, extra = sorted(wanted - set(values)), sorted(set(values) - wanted)
        if missing or extra:
            problem = f"needs a value for {', '.join(missing)}" if missing else f"has no placeholder {', '.join(extra)}"
            raise MessageError(f"message '{key}' {problem}")
        return _PLACEHOLDER.sub(lambda match: _shown(values[match.group(1)]), text)

    def under(self, prefix: str, language: str = ENGLISH) -> Dict[str, str]:
        """The texts whose keys start with `prefix.`, by the rest of the key (English where not translated)."""
        start = prefix + "."
        return {key[len(start) :]: self.text(key, language) for key in self.keys() if key.startswith(start)}

    def buttons(self, prefix: str) -> List[Dict[str, str]]:
        """Quick replies from `<prefix>.<name>.title` / `.payload` pairs, in catalogue order."""
        names = dict.fromkeys(key.rsplit(".", 1)[0] for key in self.under(prefix))
        return [{"title": self.say(f"{prefix}.{name}.title"), "payload": self.say(f"{prefix}.{name}.payload")} for name in names]


def _shown(value: object) -> str:
    """A value as text: a whole float without its '.0' (9.0 -> '9')."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def load_catalogue(folder: Path) -> Catalogue:
    """Read and validate every <language>.yml in `folder`; KnowledgeError names the file, line and key at fault."""
    english_path = folder / f"{ENGLISH}.yml"
    if not english_path.exists():
        raise KnowledgeError(english_path, 0, "the English message catalogue is missing")
    english = _texts(english_path)
    texts: Dict[str, Dict[str, str]] = {ENGLISH: {key: text for key, (text, _) in english.items()}}
    for path in sorted(folder.glob("*.yml")):
        language = path.stem
        if language == ENGLISH:
            continue
        if not _LANGUAGE.match(language):
            raise KnowledgeError(path, 0, "name a translation by its language code (es.yml, fr.yml)")
        translated = _texts(path)
        for key, (text, line) in translated.items():
            if key not in english:
                raise KnowledgeError(path, line, f"key '{key}' is not in {english_path.name}")
            expected = placeholders(english[key][0])
            if placeholders(text) != expected:
                shown = ", ".join(sorted(expected)) or "none"
                raise KnowledgeError(path, line, f"key '{key}': placeholders differ from {english_path.name} ({shown})")
        texts[language] = {key: text for key, (text, _) in translated.items()}
    return Catalogue(texts)


@lru_cache(maxsize=1)
def get_catalogue() -> Catalogue:
    """The project's catalogue (settings.KNOWLEDGE_DIR/messages), loaded and validated once."""
    return load_catalogue(get_settings().knowledge_dir / FOLDER)


def say(key: str, **values: object) -> str:
    """The English text of `key` with its placeholders filled from `values`."""
    return get_catalogue().say(key, **values)


@dataclass(frozen=True)
class Response:
    """A domain response written from the catalogue: paragraphs (each a tuple of keys joined by a space, paragraphs
    by a blank line) and the prefix of its quick replies (`<prefix>.<name>.title/payload`), if any."""

    paragraphs: Tuple[Tuple[str, ...], ...]
    buttons: str = ""


# The utter_* responses in the generated domain (domain/_generated.yml), each sentence written once in the catalogue.
DOMAIN_RESPONSES: Dict[str, Response] = {
    "utter_greet": Response((("greet.text",), ("greet.disclaimer",)), buttons="greet.example"),
    "utter_capabilities": Response((("conversation.capabilities",),)),
    "utter_goodbye": Response((("conversation.goodbye",),)),
    "utter_welcome": Response((("conversation.welcome",),)),
    "utter_out_of_scope": Response((("out_of_scope.plain",),)),
    "utter_out_of_scope_health": Response((("out_of_scope.health",),)),
    "utter_default": Response((("conversation.default",),)),
    "utter_why_general": Response((("conversation.why_general",),)),
    "utter_human_handoff": Response((("handoff.noted",),)),
    "utter_restart": Response((("conversation.restart", "conversation.ask_topic"),)),
    "utter_technical_trouble": Response((("safety.emergency_first", "trouble.technical"),)),
}


def domain_responses(catalogue: Catalogue) -> Dict[str, List[Dict[str, Any]]]:
    """The domain's `responses` written from the catalogue (DOMAIN_RESPONSES)."""
    written: Dict[str, List[Dict[str, Any]]] = {}
    for name, response in DOMAIN_RESPONSES.items():
        text = "\n\n".join(" ".join(catalogue.say(key) for key in keys) for keys in response.paragraphs)
        variation: Dict[str, Any] = {"text": text}
        if response.buttons:
            variation["buttons"] = catalogue.buttons(response.buttons)
        written[name] = [variation]
    return written
