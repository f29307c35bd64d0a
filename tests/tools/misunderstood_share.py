"""The overview's "misunderstood" share on the same conversations, by the old rule and by the new one (issue 16).

Old rule (the dashboard before bot.review.signals, kept here as the baseline): a conversation counts when any
message's intent is nlu_fallback or below 0.5 confidence, or Rasa's action_default_fallback ran.
New rule: bot.review.signals.misunderstood_turns finds a turn where the assistant failed the parent.

Usage:
  python -m tests.tools.misunderstood_share --db sqlite:///path/tracker.db [--examples N]
      measure a tracker-store database (Rasa's `events` table)
  python -m tests.tools.misunderstood_share --drive ROUNDS [--project-root DIR] [--model PATH] [--concurrency N]
      first drive ordinary conversations through the real assistant (action server + Rasa started from DIR with
      the model): per round, every scripted dialogue of class "plain" (tests/conversations/dialogues.yml) and one
      conversation per topic whose every reply is a plain "yes", "no", "14 months", "about 5 seconds"...; then
      measure the tracker store they were written to; --controls also drives known failures (CONTROLS), reported
      one by one and left out of the shares, to show the signals work on the real assistant's events.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import sqlalchemy as sa

from bot.review.signals import REASON_LABELS, REASONS, misunderstood_turns
from bot.review.summary import LOW_CONFIDENCE, read_row
from bot.settings import PROJECT_ROOT
from tests.servers import TOKEN
from tests.tools import eval_conversations as ev

CONTROL = "control-"  # dialogue ids of the controls: conversations that must be flagged, left out of the shares
# Known failures, driven with --controls to check the signals on the real assistant's events: (id, opening, replies
# to any question, the reasons expected).
CONTROLS = (
    ("control-gibberish", "zxqv blorp qwerty", {}, {"not_understood", "out_of_scope"}),
    ("control-weather", "what's the weather like tomorrow in town?", {}, {"out_of_scope"}),
    ("control-unusable", "my son isn't walking yet", {"age_months": "purple banana"}, {"re_asked", "dropped_question"}),
    ("control-vague-age", "my son isn't walking yet", {"age_months": "he is big for it"}, {"re_asked", "dropped_question"}),
)
PLAIN_REPLIES = {
    "months": ("{age} months", "{age} months old", "she's {age} months"),
    "weeks_early": ("no", "no, on time", "born on time", "4 weeks early"),
    "seconds": ("about 5 seconds", "10 seconds", "a few seconds"),
    "yes_no_unsure": ("yes", "no", "yes", "no", "not sure"),
}


def old_rule(events: Sequence[Mapping[str, Any]]) -> bool:
    """The dashboard's rule before issue 16 (bot/review/summary.py fold_event at 33b4c9a)."""
    for event in events:
        if event["event"] == "user":
            intent = event["parse_data"]["intent"]
            confidence = intent["confidence"]
            if intent["name"] == "nlu_fallback" or (confidence is not None and confidence < LOW_CONFIDENCE):
                return True
        elif event["event"] == "action" and event["name"] == "action_default_fallback":
            return True
    return False


def conversations_of(url: str) -> Dict[str, List[Dict[str, Any]]]:
    """Every conversation's events, read as the dashboard reads them (bot.review.summary.read_row)."""
    engine = sa.create_engine(url)
    found: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    query = sa.text("SELECT sender_id, type_name, data FROM events ORDER BY id")
    with engine.connect() as connection:
        for sender_id, type_name, data in connection.execute(query):
            found[sender_id].append(read_row({"type_name": type_name, "data": data}))
    engine.dispose()
    return found


def measure(conversations: Mapping[str, Sequence[Mapping[str, Any]]], examples: int = 0) -> Dict[str, Any]:
    """Counts by both rules, the new rule's reasons (conversations and turns), and a few flagged turns' texts."""
    before = after = 0
    by_conversation: Counter[str] = Counter()
    by_turn: Counter[str] = Counter()
    shown: List[str] = []
    controls: Dict[str, List[str]] = {}
    for sender, events in conversations.items():
        if sender.startswith("eval-" + CONTROL):
            controls[sender] = sorted({flag.reason for flag in misunderstood_turns(events)})
            continue
        before += old_rule(events)
        flags = misunderstood_turns(events)
        after += bool(flags)
        by_conversation.update({flag.reason for flag in flags})
        by_turn.update(flag.reason for flag in flags)
        shown += [f"{flag.reason}: {flag.text[:80]!r}" for flag in flags][: max(0, examples - len(shown))]
    total = len(conversations) - len(controls)
    return {
        "controls": controls,
        "conversations": total,
        "before": before,
        "after": after,
        "share_before": before / total if total else 0.0,
        "share_after": after / total if total else 0.0,
        "reasons": {r: (by_conversation[r], by_turn[r]) for r in REASONS},
        "examples": shown,
    }


def report(numbers: Mapping[str, Any]) -> str:
    lines = [
        f"conversations: {numbers['conversations']}",
        f"misunderstood share before (nlu_fallback / confidence < {LOW_CONFIDENCE} / core fallback): "
        f"{numbers['share_before']:.1%} ({numbers['before']})",
        f"misunderstood share after (bot.review.signals): {numbers['share_after']:.1%} ({numbers['after']})",
        "reasons after (conversations, turns):",
    ]
    lines += [f"  {REASON_LABELS[r]}: {c}, {t}" for r, (c, t) in numbers["reasons"].items()]
    lines += [f"  e.g. {example}" for example in numbers["examples"]]
    expected = {name: reasons for name, _, _, reasons in CONTROLS}
    for sender, reasons in sorted(numbers["controls"].items()):
        name = next((n for n in expected if sender.startswith(f"eval-{n}-")), "")
        hit = "ok" if set(reasons) & expected.get(name, set()) else "MISSED"
        lines.append(
            f"control {name}: {', '.join(reasons) or 'not flagged'} ({hit}: expected any of {sorted(expected.get(name, ()))})"
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- driving


def control_dialogues() -> List[Dict[str, Any]]:
    """The known failures (CONTROLS) as dialogues."""
    return [{"id": name, "opening": opening, "replies": replies, "expect": {}} for name, opening, replies, _ in CONTROLS]


def plain_dialogues(rounds: int, seed: int = 16) -> List[Dict[str, Any]]:
    """Ordinary conversations: the scripted "plain" dialogues, and per topic one whose every reply is plain."""
    scripted = [d for d in ev.load_dialogues() if "plain" in (d.get("classes") or ())]
    openings = {d["expect"]["topic"]: d["opening"] for d in scripted if (d.get("expect") or {}).get("topic")}
    types = ev.load_question_types()
    rng = random.Random(seed)
    found: List[Dict[str, Any]] = []
    for round_ in range(rounds):
        found += [{**d, "id": f"{d['id']}-{round_}"} for d in scripted]
        for topic, opening in sorted(openings.items()):
            age = rng.randint(9, 20)
            replies = {slot: rng.choice(PLAIN_REPLIES.get(kind, ("yes",))).format(age=age) for slot, kind in types.items()}
            found.append({"id": f"plain-{topic}-{round_}", "opening": opening, "replies": replies, "expect": {}})
    return found


async def drive(rasa_url: str, token: str, dialogues: Sequence[Mapping[str, Any]], concurrency: int) -> int:
    """Talk every dialogue through the REST channel; how many failed on an HTTP error."""
    outcomes = await ev.run_all(rasa_url, token, [], dialogues, ev.load_question_types(), concurrency)
    return sum(1 for outcome in outcomes if outcome.error)


def drive_and_measure(
    rounds: int, project_root: Path, model: Path, concurrency: int, examples: int, controls: bool = False
) -> Dict[str, Any]:
    dialogues = plain_dialogues(rounds) + (control_dialogues() if controls else [])
    with tempfile.TemporaryDirectory(prefix="misunderstood-") as tmp:
        services = ev.start_services(Path(tmp), project_root, model)
        try:
            failed = asyncio.run(drive(services.rasa_url, TOKEN, dialogues, concurrency))
        finally:
            services.stop()
        numbers = measure(conversations_of(f"sqlite:///{Path(tmp) / 'tracker.db'}"), examples)
        return {**numbers, "http_errors": failed}


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a tracker-store database URL to measure")
    parser.add_argument("--drive", type=int, metavar="ROUNDS", help="drive ordinary conversations first")
    parser.add_argument("--project-root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--examples", type=int, default=0, help="print this many flagged turns")
    parser.add_argument("--controls", action="store_true", help="with --drive: also drive known failures (CONTROLS)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.drive:
        model = args.model or args.project_root / "models" / "caregiver.tar.gz"
        numbers = drive_and_measure(args.drive, args.project_root, model, args.concurrency, args.examples, args.controls)
        print(f"driven: {args.drive} rounds, {numbers['http_errors']} conversations failed on HTTP")
    elif args.db:
        numbers = measure(conversations_of(args.db), args.examples)
    else:
        parser.error("give --db URL or --drive ROUNDS")
    print(report(numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
