"""Bundle the chat widget into one script: the vendored socket.io client plus our modules, isolated.

The widget ships as a single `widget.js` with no CDN and no build tool: the pinned socket.io client
(static/vendor/, MIT licence alongside) runs inside a private scope, so it neither sets nor reads the
host page's globals (`io`, AMD `define`), and our modules share that scope in a fixed order.
The interface texts (`STRINGS`, by language) come from the message catalogue (knowledge/messages/), written
into the bundle when it is built at start-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

from bot.knowledge.messages import ENGLISH, Catalogue, get_catalogue

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor" / "socket.io.min.js"
MODULES = ("strings.js", "colors.js", "markdown.js", "state.js", "widget.js")  # dependency order
LIBRARY = (
    "renderMarkdown",
    "safeUrl",
    "contrastRatio",
    "readableTextColor",
    "mergeConfig",
    "ChatState",
    "memoryStorage",
    "uiStrings",
    "format",
)  # exposed as CaregiverChat.lib for tests and hosts


def widget_strings(catalogue: Catalogue) -> Dict[str, Dict[str, Any]]:
    """The widget's STRINGS: its interface texts (`widget.*`) in each language, English complete (the widget falls
    back to it), with the assistant's own greeting and example questions as the greeting and suggestions."""
    prefix = "widget."
    strings: Dict[str, Dict[str, Any]] = {
        language: {key[len(prefix) :]: text for key, text in texts.items() if key.startswith(prefix)}
        for language, texts in catalogue.texts.items()
    }
    strings[ENGLISH]["greeting"] = catalogue.say("greet.text")
    strings[ENGLISH]["suggestions"] = catalogue.buttons("greet.example")
    return strings


def build_widget(static: Path = STATIC, catalogue: Optional[Catalogue] = None) -> str:
    """The complete widget.js text (its texts from `catalogue`, by default the project's)."""
    widget_dir = static / "widget"
    css = (widget_dir / "widget.css").read_text(encoding="utf-8")
    strings = json.dumps(widget_strings(catalogue or get_catalogue()), indent=1)
    modules = "\n".join((widget_dir / name).read_text(encoding="utf-8") for name in MODULES)
    vendor = (static / "vendor" / VENDOR.name).read_text(encoding="utf-8")
    vendor = "\n".join(line for line in vendor.splitlines() if not line.startswith("//# sourceMappingURL="))
    library = ", ".join(f"{name}: {name}" for name in LIBRARY)
    return (
        "/*! Caregiver chat widget. Bundles the Socket.IO client 4.8.3, (c) 2014-2025 Guillermo Rauch,\n"
        " * MIT License: see vendor/socket.io-client.LICENSE next to this file. */\n"
        "(function (window, document) {\n"
        "var module = { exports: {} }; var exports = module.exports; var define;\n"
        f"{vendor}\n"
        "var socketIo = module.exports;\n"
        '(function () {\n"use strict";\n'
        f"var WIDGET_CSS = {json.dumps(css)};\n"
        f"var STRINGS = {strings};\n"
        f"{modules}\n"
        "var widget = boot(window, document.currentScript);\n"
        "window.CaregiverChat = {\n"
        "  widget: widget,\n"
        "  open: function () { widget.open(true); },\n"
        "  close: function () { widget.close(); },\n"
        "  startOver: function () { widget.startOver(); },\n"
        f"  lib: {{ {library} }}\n"
        "};\n"
        "})();\n"
        "})(window, document);\n"
    )
