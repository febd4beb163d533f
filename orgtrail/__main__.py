"""python -m orgtrail <command>: the operator CLI.

Exit codes: 0 all good, 1 findings or refusals, 2 usage, configuration or credential errors.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from orgtrail import cutover, inventory, plan, query, verify

COMMANDS = (plan, inventory, cutover, verify, query)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orgtrail", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.run(args, Console(stderr=False))


if __name__ == "__main__":
    sys.exit(main())
