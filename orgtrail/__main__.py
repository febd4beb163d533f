"""`orgtrail <command>` (or `python -m orgtrail <command>`): the operator CLI.

Exit codes are those of orgtrail/cli.py (EXIT_CODES), the same for every command.
"""

from __future__ import annotations

import functools
import sys

from rich.console import Console

from orgtrail import __version__
from orgtrail.analysis import query
from orgtrail.cli import EXIT_CODES, INTERRUPTED, HelpFormatter, Parser, asks_for_json
from orgtrail.cost import command as cost
from orgtrail.offline import plan
from orgtrail.ops import cutover, inventory, verify

COMMANDS = (plan, inventory, cutover, verify, query, cost)


def main(argv: list[str] | None = None) -> int:
    codes = "\n".join(f"  {code:<4}{meaning}" for code, meaning in EXIT_CODES.items())
    argv = sys.argv[1:] if argv is None else argv
    json_errors = asks_for_json(argv)
    parser = Parser(
        prog="orgtrail",
        description="The operator CLI of org-trail: CloudTrail for a whole AWS Organization.",
        epilog=f"`orgtrail <command> --help` shows each command's options, defaults and "
        f"examples.\n\nexit codes:\n{codes}",
        formatter_class=HelpFormatter,
        json_errors=json_errors,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=functools.partial(Parser, json_errors=json_errors),
    )
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
