"""`minyi`: the command line for staff and operators.

  minyi duty-list import FILE|--sample   validate a duty list (CSV) and store it as a new version
  minyi duty-list show                   print the version in force
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from minyi.errors import DomainError


def _duty_list(args: argparse.Namespace) -> int:
    from minyi import duty_list
    from minyi.dal import duty_list as store

    if args.action == "import":
        text = duty_list.sample_csv() if args.sample else Path(args.file).read_text(encoding="utf-8-sig")
        try:
            version = duty_list.import_csv(text, actor=args.actor)
        except DomainError as error:
            print(json.dumps(error.to_body(), ensure_ascii=False, indent=2), file=sys.stderr)
            return 2
        print(json.dumps({"version": version}))
        return 0
    current = store.load()
    if current is None:
        print(json.dumps({"version": None}))
        return 1
    print(json.dumps({"version": current.version, "matters": len(current.matters)}, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minyi", description="民意速办 command line")
    commands = parser.add_subparsers(dest="command", required=True)
    duty = commands.add_parser("duty-list", help="duty list (职责清单) versions")
    duty.add_argument("action", choices=["import", "show"])
    duty.add_argument("file", nargs="?")
    duty.add_argument("--sample", action="store_true", help="import the sample duty list shipped with minyi")
    duty.add_argument("--actor", default="cli")
    args = parser.parse_args(argv)
    if args.command == "duty-list":
        if args.action == "import" and not (args.file or args.sample):
            parser.error("duty-list import needs FILE or --sample")
        return _duty_list(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
