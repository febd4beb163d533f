"""python -m orgtrail <command>: the operator CLI.

Exit codes: 0 all good, 1 findings or refusals, 2 usage, configuration or credential errors,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from orgtrail import __version__
from orgtrail.analysis import query
from orgtrail.offline import plan
from orgtrail.ops import cutover, inventory, verify

COMMANDS = (plan, inventory, cutover, verify, query)
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orgtrail", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        return args.run(args, Console(stderr=False))
    except KeyboardInterrupt:
        # As shells and the AWS CLI do: 128 + SIGINT, one line, no traceback. A cutover
        # interrupted between stops has stopped only what it reported before.
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
