"""The Rasa process's one start-up point: install the project's adaptations of Rasa, then run Rasa's own CLI.

Usage: python -m rasa_components.run run --enable-api ... (any `rasa` command line; bot/serve.py's rasa_command
builds it). The adaptations are listed and documented in rasa_components/adaptations.py.
"""

from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> None:
    """Install the adaptations (refusing another Rasa version), then hand the command line to Rasa."""
    from rasa_components import adaptations

    adaptations.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
