"""A long search for a wrong proof of coverage: the selector properties of
tests/test_selector_properties.py, run for as many examples as asked, with fresh seeds.

    .venv/bin/python tools/selector_search.py --examples 100000

`make test` runs each property on 400 seeded examples; this runs each on --examples random
ones, and prints hypothesis's count of examples tried and their time, per property. Exit 1,
with the failing example, when any property fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples per property")
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        "tests/test_selector_properties.py",
    ]
    environment = {**os.environ, "ORGTRAIL_SELECTOR_EXAMPLES": str(args.examples)}
    return subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
