"""`fpjs-conformance`: the suite's commands beside the pytest run.

fpjs-conformance replay reports/traffic.har --base-url=URL   re-send a run's traffic, judge, diff
fpjs-conformance proxy --upstream URL --api-version v4       judge real clients' traffic as it passes
fpjs-conformance migrate reports/traffic.har --to v4         what v3 traffic meets under v4, by kind of change
"""

from __future__ import annotations

import argparse
import sys

from fpjs_conformance import migrate, proxy, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fpjs-conformance", description=__doc__.split("\n\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (replay, proxy, migrate):
        command.register(commands)
    args = parser.parse_args(argv)
    return args.command_main(args)


if __name__ == "__main__":
    sys.exit(main())
