"""`make eval`: NLU cross-validation (intent macro-F1; entity F1 for age and duration), table + report file.

Usage: python -m tests.tools.evaluate [--folds 5] [--compare configs/count_logreg.yml] [--compare ...]
Writes reports/eval/<config>/ (Rasa's reports) and reports/eval.md (the summary table).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from bot.settings import PROJECT_ROOT

REPORTS = PROJECT_ROOT / "reports"
ENTITY_EXTRACTOR = "UnderstandingComponent"


def cross_validate(config: Path, folds: int) -> Path:
    """Run `rasa test nlu --cross-validation` for one config; return its report folder."""
    out = REPORTS / "eval" / config.stem
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "test",
        "nlu",
        "--nlu",
        "data/nlu",
        "--config",
        str(config),
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        str(out),
        "--domain",
        "domain",
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    return out


def summarise(out: Path) -> Dict[str, float]:
    """Intent macro-F1 / accuracy and per-entity F1 from Rasa's report files."""
    intents = json.loads((out / "intent_report.json").read_text())
    row = {"intent macro-F1": intents["macro avg"]["f1-score"], "intent accuracy": intents["accuracy"]}
    entity_files = sorted(out.glob(f"{ENTITY_EXTRACTOR}_report.json")) or sorted(out.glob("*Extractor_report.json"))
    for path in entity_files:
        report = json.loads(path.read_text())
        for entity in ("age", "duration", "weeks_early"):
            if entity in report:
                row[f"{entity} F1 ({path.stem.replace('_report', '')})"] = report[entity]["f1-score"]
    return row


def hardest_confusions(out: Path, limit: int = 8) -> List[str]:
    """The most frequent intent confusions in the cross-validation errors."""
    errors_file = out / "intent_errors.json"
    if not errors_file.exists():
        return []
    counts: Dict[str, int] = {}
    for error in json.loads(errors_file.read_text()):
        key = f"{error['intent']} -> {error['intent_prediction']['name']}"
        counts[key] = counts.get(key, 0) + 1
    return [f"{n} × {k}" for k, n in sorted(counts.items(), key=lambda item: -item[1])[:limit]]


# The topics that are hardest to tell apart, reported side by side (issue: knowledge coverage).
HARD_PAIRS = [
    ("ask_bottom_scooting", "ask_not_crawling"),
    ("ask_standing_alone", "ask_late_walking"),
    ("ask_not_crawling", "ask_army_crawling"),
    ("ask_milestone", "ask_late_walking"),
    ("ask_milestone", "ask_not_crawling"),
    ("ask_milestone", "ask_standing_alone"),
    ("ask_hip_health", "ask_bottom_scooting"),
    ("ask_preterm_age", "ask_milestone"),
]


def pair_table(out: Path) -> List[str]:
    """Errors each way and per-intent F1 for the confusable pairs, as Markdown table rows."""
    report = json.loads((out / "intent_report.json").read_text())
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    counts: Dict[tuple, int] = {}
    for error in errors:
        key = (error["intent"], error["intent_prediction"]["name"])
        counts[key] = counts.get(key, 0) + 1
    rows = ["| A | B | A taken for B | B taken for A | F1 A | F1 B |", "|---|---|---:|---:|---:|---:|"]
    for a, b in HARD_PAIRS:
        if a in report and b in report:
            rows.append(
                f"| {a} | {b} | {counts.get((a, b), 0)} of {report[a]['support']} | {counts.get((b, a), 0)} of {report[b]['support']} "
                f"| {report[a]['f1-score']:.3f} | {report[b]['f1-score']:.3f} |"
            )
    return rows


def intent_table(out: Path) -> List[str]:
    """Per-intent precision, recall, F1 and support, worst F1 first."""
    report = json.loads((out / "intent_report.json").read_text())
    intents = sorted(
        (name for name, row in report.items() if isinstance(row, dict) and "support" in row and not name.endswith("avg")),
        key=lambda name: report[name]["f1-score"],
    )
    rows = ["| intent | examples | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for name in intents:
        row = report[name]
        rows.append(f"| {name} | {row['support']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} |")
    return rows


def main(argv: List[str] | None = None) -> int:
    """Evaluate config.yml (and optionally a baseline) and write reports/eval.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--compare", type=Path, action="append", default=[], help="also evaluate this config (repeatable)")
    args = parser.parse_args(argv)
    configs = [PROJECT_ROOT / "config.yml"] + [path for path in args.compare if str(path)]
    rows = {config.name: summarise(cross_validate(config, args.folds)) for config in configs}
    columns = sorted({key for row in rows.values() for key in row})
    lines = [f"# NLU cross-validation ({args.folds} folds)", "", "| config | " + " | ".join(columns) + " |"]
    lines.append("|---" * (len(columns) + 1) + "|")
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row.get(c, float('nan')):.3f}" for c in columns) + " |")
    ours = REPORTS / "eval" / "config"
    confusions = hardest_confusions(ours)
    if confusions:
        lines += ["", "Most frequent confusions (config.yml):", *[f"- {c}" for c in confusions]]
    lines += ["", "Topics that are hardest to tell apart (config.yml):", "", *pair_table(ours)]
    lines += ["", "Per intent (config.yml), worst first:", "", *intent_table(ours)]
    report = "\n".join(lines) + "\n"
    (REPORTS / "eval.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
