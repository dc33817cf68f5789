"""`minyi`: the command line for staff and operators.

  minyi duty-list import FILE|--county|--sample   validate a duty list (CSV or xlsx), store a new version
  minyi duty-list export [VERSION]       the version (default: in force) as CSV for Excel
  minyi duty-list versions               every version, and the one in force
  minyi duty-list rollback VERSION       put an earlier version back in force
  minyi duty-list show                   print the version in force
  minyi liaisons import FILE|--sample [--by NAME]   validate a liaison table (联络员名单, CSV or xlsx), store
                                         a new version in force
  minyi liaisons show                    the table in force, and the units with no liaison
  minyi channel post CHANNEL FILE        sign FILE with the channel's secret and post it (local stack)
  minyi channel evaluate CHANNEL FILE    the same with a citizen's evaluation (samples/channels/evaluations/)
  minyi channel headers CHANNEL FILE     print the signature headers for FILE
  minyi channel configure CHANNEL        write a channel's secret / reply and status URLs to SSM (operators)
  minyi dispatch [--duty-list FILE]      JSON Lines in, one routing per line out (no AWS, no network)
  minyi hotspots --replay FILE [--top 10] [--level 1|3] [--json]
                                         route a CSV of real messages offline and print its hotspots
                                         (热点预警: rising matters, repeated requests) and how many per year
  minyi calendar import FILE [--year Y] [--by NAME]
                                         store the county's holidays and swapped working days (CSV or
                                         xlsx: date,kind,name or 日期,类型,名称), year by year
  minyi calendar show YEAR               a year's stored days, version and coverage
  minyi roster on-call DAY HANDLER PHONE  the rapid-handling team's on-call handler of a duty day
  minyi roster hours DEPT 08:30-12:00,14:30-18:00   a department's office hours
  minyi staff add USER --role centre|leader|department [--department D] [--password P]
                                         create a staff account in the user pool (no self sign-up)
  minyi staff token USER [--password P]  sign in and print the ID token for the Authorization header

  --local-dir DIR (before the command) points every command at a running local stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from minyi.core.errors import DomainError


def _duty_list(args: argparse.Namespace) -> int:
    from minyi.dal import duty_list as store
    from minyi.routing import duty_list

    try:
        if args.action == "import":
            if args.sample or args.county:
                text = duty_list.sample_csv() if args.sample else duty_list.county_csv()
                version = duty_list.import_csv(text, actor=args.actor, source="sample" if args.sample else "county")
            else:
                version = duty_list.import_file(Path(args.file).name, Path(args.file).read_bytes(), actor=args.actor)
            print(json.dumps({"version": version}))
        elif args.action == "export":
            text = duty_list.export_csv(int(args.file) if args.file else None)
            sys.stdout.write(text)
        elif args.action == "versions":
            print(json.dumps({"current": store.current_version(),
                              "versions": [v.model_dump() for v in store.versions()]},
                             ensure_ascii=False, indent=2))
        elif args.action == "rollback":
            if not (args.file or "").isdigit():
                print("duty-list rollback VERSION", file=sys.stderr)
                return 2
            print(json.dumps({"version": duty_list.rollback(int(args.file), actor=args.actor)}))
        else:
            current = store.load()
            print(json.dumps({"version": current.version if current else None,
                              "matters": len(current.matters) if current else 0}))
    except DomainError as error:
        print(json.dumps(error.to_body(), ensure_ascii=False, indent=2), file=sys.stderr)
        return 2
    return 0


def _liaisons(args: argparse.Namespace) -> int:
    from minyi.casework import liaison_admin
    from minyi.dal import duty_list as duty_store
    from minyi.dal import liaisons as store
    from minyi.routing import liaisons

    try:
        if args.action == "import":
            if args.sample:
                table = liaisons.import_file("liaisons.sample.csv", liaisons.sample_csv().encode("utf-8"), args.by)
            else:
                table = liaisons.import_file(Path(args.file).name, Path(args.file).read_bytes(), actor=args.by)
        else:
            table = store.load()
    except DomainError as error:
        for problem in error.details:  # one line a problem, as a person fixes the file
            print(f"row {problem.get('row')}, {problem.get('column') or '-'}: {problem.get('problem')}",
                  file=sys.stderr)
        print(error.message, file=sys.stderr)
        return 2
    answer = liaison_admin.summary(table, duty_store.load())
    if args.action == "import":  # what the import did, not the whole table again
        answer = {**answer, "units": len(answer["units"])}
    print(json.dumps(answer, ensure_ascii=False, indent=2 if args.action == "show" else None))
    return 0


def _calendar(args: argparse.Namespace) -> int:
    from minyi.dal import calendar as store
    from minyi.models.calendar import CalendarYear, year_of
    from minyi.timelimits import calendar, calendar_file

    try:
        if args.action == "import":
            year = year_of(args.year) if args.year is not None else None
            path = Path(args.target)
            days = calendar_file.parse_file(path.name, path.read_bytes(), year)
            stored = store.save_years(days, actor=args.by, source=path.name)
            print(json.dumps({"stored": [{"year": y.year, "version": y.version, "days": len(y.days),
                                          "coverage": calendar.coverage(y.year, calendar.Supplement.of(stored))}
                                         for y in stored]}, ensure_ascii=False))
        else:
            year = year_of(args.target)
            supplement = calendar.Supplement.of(store.load_all())
            stored = supplement.years.get(year) or CalendarYear(year=year)
            print(json.dumps({"year": year, "version": stored.version or None, "updated_at": stored.updated_at,
                              "updated_by": stored.updated_by, "coverage": calendar.coverage(year, supplement),
                              "days": [d.model_dump(mode="json") for d in stored.days]},
                             ensure_ascii=False, indent=2))
    except DomainError as error:
        print(f"calendar {args.action}: {error.message}", file=sys.stderr)
        for problem in error.details:
            where = f"row {problem['row']}, " if "row" in problem else ""
            print(f"  {where}column {problem.get('field') or '-'}: {problem['problem']}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"calendar {args.action}: {error}", file=sys.stderr)
        return 2
    return 0


LOCAL_SECRETS = Path(".local/channel-secrets.json")


def _channel(args: argparse.Namespace) -> int:
    from minyi.channels import signatures as auth

    if args.action == "configure":
        import secrets as random

        from minyi.dal import channel_config

        # what is not given stays as it was: `--status-url` alone adds the status endpoint and
        # keeps the secret the channel signs with; a new secret is printed, once
        existing = channel_config.get_config(args.channel) or channel_config.ChannelConfig()
        secret = args.secret or existing.secret or random.token_hex(24)
        given = {"reply_url": args.reply_url, "status_url": args.status_url,
                 "api_keys": tuple(args.api_key) if args.api_key else None}
        config = existing.model_copy(update={"secret": secret, **{k: v for k, v in given.items() if v is not None}})
        channel_config.put_config(args.channel, config)
        print(json.dumps({"channel": args.channel, "parameter": channel_config.parameter_name(args.channel),
                          "reply_url": config.reply_url, "status_url": config.status_url,
                          **({"secret": secret} if secret != existing.secret else {})}))
        return 0
    secrets_file = Path(args.secrets) if args.secrets else (
        Path(args.local_dir) / "channel-secrets.json" if args.local_dir else LOCAL_SECRETS)
    local = json.loads(secrets_file.read_text(encoding="utf-8"))
    secret = local["secrets"][args.channel]
    body = Path(args.file).read_bytes()
    headers = auth.signed_headers(secret, body)
    if args.action == "headers":
        print(json.dumps(headers))
        return 0
    import urllib.error
    import urllib.request

    kind = "evaluations" if args.action == "evaluate" else "requests"
    url = f"{args.url or local['api']}/channels/{args.channel}/{kind}"
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - operator-given URL
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - operator-given URL
            print(response.status, response.read().decode("utf-8"))
            return 0
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode("utf-8"))
        return 1


def _use_local_stack(directory: str) -> None:
    """Point boto3/pynamodb at the local stack's moto server, before any table is touched."""
    import os

    stack = json.loads((Path(directory) / "stack.json").read_text(encoding="utf-8"))
    os.environ.update({"AWS_ENDPOINT_URL": stack["moto"], "AWS_REGION": stack["region"],
                       "AWS_DEFAULT_REGION": stack["region"], "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                       **stack["env"]})


LOCAL_STAFF = "staff-users.json"


def _staff(args: argparse.Namespace) -> int:
    import secrets as random

    from minyi.dal import staff_directory
    from minyi.models.identity import Role

    try:
        if args.action == "add":
            password = args.password or random.token_urlsafe(12) + "Aa1"
            staff_directory.add_user(args.username, Role(args.role), password, args.department)
            print(json.dumps({"username": args.username, "role": args.role, "department": args.department,
                              "password": password}, ensure_ascii=False))
            return 0
        password = args.password
        if password is None and args.local_dir:
            users = json.loads((Path(args.local_dir) / LOCAL_STAFF).read_text(encoding="utf-8"))["users"]
            password = users.get(args.username, {}).get("password")
        if password is None:
            print("staff token needs --password (or --local-dir of a local stack that made the user)",
                  file=sys.stderr)
            return 2
        print(staff_directory.id_token(args.username, password))
    except DomainError as error:
        print(json.dumps(error.to_body(), ensure_ascii=False), file=sys.stderr)
        return 2
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    """Each stdin line {"id", "title", "content", "address"} -> one line
    {"id", "matter", "lead", "co", "confidence", "manual", "urgent"}, in the same order."""
    from minyi.core import settings
    from minyi.models.duty import DutyList
    from minyi.routing import dispatch, duty_list
    from minyi.routing.matcher import Matcher

    text = Path(args.duty_list).read_text(encoding="utf-8-sig") if args.duty_list else duty_list.county_csv()
    try:
        matcher = Matcher(DutyList(version=1, matters=duty_list.parse_csv(text)))
    except DomainError as error:
        print(json.dumps(error.to_body(), ensure_ascii=False), file=sys.stderr)
        return 2
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            routing = dispatch.route(matcher, str(item.get("title") or ""), str(item.get("content") or ""),
                                     item.get("address"), threshold=settings.current().auto_dispatch_threshold)
        except (ValueError, AttributeError) as error:
            print(json.dumps({"line": number, "error": str(error)}, ensure_ascii=False), file=sys.stderr)
            return 2
        print(json.dumps({
            "id": item.get("id"),
            "matter": list(routing.matter.path) if routing.matter else [],
            # a township's own matter with no township named has no lead yet: the list's placeholder
            "lead": routing.lead or (routing.matter.lead if routing.matter else ""),
            "co": list(routing.co),
            "confidence": routing.confidence,
            "manual": routing.manual,
            "urgent": routing.urgent,
        }, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 0


def _hotspots(args: argparse.Namespace) -> int:
    """The hotspot detector over a CSV of real messages, offline: the strongest of each kind, and how many a
    year. Phones (or user ids) are hashed as they are read; nothing of the CSV is written anywhere."""
    from minyi.models.duty import DutyList
    from minyi.reports import hotspot_replay
    from minyi.reports.hotspots import HotspotRules
    from minyi.routing import duty_list
    from minyi.routing.matcher import Matcher

    text = Path(args.duty_list).read_text(encoding="utf-8-sig") if args.duty_list else duty_list.county_csv()
    try:
        matcher = Matcher(DutyList(version=1, matters=duty_list.parse_csv(text)))
        rules = HotspotRules()
        result = hotspot_replay.replay(Path(args.replay).read_text(encoding="utf-8-sig"), matcher, rules,
                                       level=args.level)
    except DomainError as error:
        print(json.dumps(error.to_body(), ensure_ascii=False), file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"hotspots: {error}", file=sys.stderr)
        return 2
    top = {kind: [h for h in result.hotspots if h.kind == kind][:args.top] for kind in ("rising", "repeated")}
    if args.json:
        print(json.dumps({"rules": rules.model_dump(), "rows": result.rows, "routed": result.routed,
                          "unmatched": result.unmatched, "undated": result.undated,
                          "per_year": result.per_year(),
                          "top": {kind: [h.model_dump(mode="json") for h in items] for kind, items in top.items()}},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{result.rows} messages, {result.routed} routed, {result.unmatched} with no matter, "
          f"{result.undated} with no time; matters at level {args.level}")
    print("rules: " + ", ".join(f"{k}={v}" for k, v in rules.model_dump().items()))
    print("hotspots per year (by first date):")
    for year, counts in result.per_year().items():
        print(f"  {year}: {counts['messages']} messages: {counts['rising']} rising, {counts['repeated']} repeated")
    print(f"strongest rising (top {args.top}):")
    print("  matter | place | first..last | count | baseline | -log10 p")
    for h in top["rising"]:
        print(f"  {h.matter} | {h.township or '全县'} | {h.first}..{h.last} | {h.count} | {h.baseline:.2f} | "
              f"{h.strength:.2f}")
    print(f"strongest repeated (top {args.top}):")
    print("  matter | place | first..last | count | by")
    for h in top["repeated"]:
        print(f"  {h.matter} | {h.township or '-'} | {h.first}..{h.last} | {h.count} | {h.key_kind} {h.key}")
    return 0


def _roster(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from minyi.dal import roster as store
    from minyi.models.roster import OnCall, WorkingHours

    try:
        if args.action == "on-call":
            day, handler, phone = args.values
            store.put_on_call(OnCall(day=day, handler=handler, phone=phone))
        else:
            department, periods = args.values[0], args.values[1]
            hours = WorkingHours(periods=tuple(tuple(p.split("-", 1)) for p in periods.split(",")))
            store.put_working_hours(department, hours)
    except (ValueError, ValidationError) as error:
        print(f"roster {args.action}: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"saved": args.action, "values": args.values}, ensure_ascii=False))
    return 0


def _kpi(args: argparse.Namespace) -> int:
    import re

    from minyi.reports import counting

    if not all(re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", m) for m in (args.first, args.last)):
        print("kpi backfill: --from and --to are months YYYY-MM (2000-2099)", file=sys.stderr)
        return 2
    if not 0 <= args.lookback_days <= 3660:
        print("kpi backfill: --lookback-days is 0 to 3660", file=sys.stderr)
        return 2
    try:
        done = counting.rebuild(args.first, args.last, args.lookback_days, gauges=args.gauges)
    except ValueError as error:
        print(f"kpi backfill: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"months": counting.months_between(args.first, args.last), **done}, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minyi", description="民意速办 command line")
    parser.add_argument("--local-dir", help="a running local stack's state directory (.local)")
    commands = parser.add_subparsers(dest="command", required=True)
    duty = commands.add_parser("duty-list", help="duty list (职责清单) versions")
    duty.add_argument("action", choices=["import", "export", "versions", "rollback", "show"])
    duty.add_argument("file", nargs="?", help="import: a .csv or .xlsx file; export/rollback: a version")
    duty.add_argument("--sample", action="store_true", help="import the small sample duty list (13 matters)")
    duty.add_argument("--county", action="store_true",
                      help="import the complete duty list of a Ganxian-like county shipped with minyi (517 matters)")
    duty.add_argument("--actor", default="cli")
    liaison = commands.add_parser("liaisons", help="the liaison table (联络员名单, 附件2) of the responsible units")
    liaison.add_argument("action", choices=["import", "show"])
    liaison.add_argument("file", nargs="?", help="import: a .csv or .xlsx file")
    liaison.add_argument("--sample", action="store_true", help="import the sample table shipped with minyi")
    liaison.add_argument("--by", default="cli", help="who imports it (kept with the version)")
    chan = commands.add_parser("channel", help="channel webhooks: sign, post, configure")
    chan.add_argument("action", choices=["post", "evaluate", "headers", "configure"])
    chan.add_argument("channel")
    chan.add_argument("file", nargs="?")
    chan.add_argument("--secrets", help="the local stack's dev secrets file "
                      "(default: channel-secrets.json in --local-dir, else .local/)")
    chan.add_argument("--url", help="API base URL (default: the local stack's)")
    chan.add_argument("--secret", help="configure: the secret (default: the one it has, else a new random one)")
    chan.add_argument("--reply-url", help="configure: where replies to this channel go")
    chan.add_argument("--status-url", help="configure: where its orders' status notices go (none without it)")
    chan.add_argument("--api-key", action="append", help="configure: an Open311 api_key (repeatable)")
    cal = commands.add_parser("calendar", help="the county's calendar supplement (节假日补充)")
    cal.add_argument("action", choices=["import", "show"])
    cal.add_argument("target", help="import: a .csv or .xlsx file; show: a year")
    cal.add_argument("--year", help="import: every date must be in this year (and it is stored even if empty)")
    cal.add_argument("--by", default="cli", help="import: who stores it (the audit names them)")
    route = commands.add_parser("dispatch", help="route JSON Lines requests by the duty list (offline)")
    route.add_argument("--duty-list", help="a duty list CSV (default: the county list shipped with minyi)")
    hot = commands.add_parser("hotspots", help="hotspot warnings (热点预警) over a CSV of messages (offline)")
    hot.add_argument("--replay", required=True, help="a CSV of messages with their times")
    hot.add_argument("--top", type=int, default=10, help="how many of each kind to print (default 10)")
    hot.add_argument("--level", type=int, choices=[1, 3], default=1, help="matter level 1 (default) or 3")
    hot.add_argument("--duty-list", help="a duty list CSV (default: the county list shipped with minyi)")
    hot.add_argument("--json", action="store_true", help="print JSON")
    kpi = commands.add_parser("kpi", help="assessment counters (考核计数): rebuild from the orders table")
    kpi.add_argument("action", choices=["backfill"])
    kpi.add_argument("--from", dest="first", required=True, help="the first month YYYY-MM")
    kpi.add_argument("--to", dest="last", required=True, help="the last month YYYY-MM (included)")
    kpi.add_argument("--lookback-days", type=int, default=400,
                     help="read orders received this many days before the first month too (default 400)")
    kpi.add_argument("--gauges", action="store_true",
                     help="rebuild the open-order gauges too (the lookback must reach the oldest open order)")
    roster = commands.add_parser("roster", help="7×24 on-call roster and office hours")
    roster.add_argument("action", choices=["on-call", "hours"])
    roster.add_argument("values", nargs="+")
    staff = commands.add_parser("staff", help="staff accounts and sign-in (Cognito user pool)")
    staff.add_argument("action", choices=["add", "token"])
    staff.add_argument("username")
    staff.add_argument("--role", choices=["centre", "leader", "department"])
    staff.add_argument("--department", help="add: the department or township a department account acts for")
    staff.add_argument("--password", help="default: add makes a random one; token reads the local stack's")
    args = parser.parse_args(argv)
    if args.local_dir:
        _use_local_stack(args.local_dir)
    if args.command == "roster":
        expected = 3 if args.action == "on-call" else 2
        if len(args.values) != expected:
            parser.error(f"roster {args.action} takes {expected} values")
        return _roster(args)
    if args.command == "dispatch":
        return _dispatch(args)
    if args.command == "kpi":
        return _kpi(args)
    if args.command == "hotspots":
        return _hotspots(args)
    if args.command == "calendar":
        return _calendar(args)
    if args.command == "channel":
        if args.action != "configure" and not args.file:
            parser.error("channel post/headers need FILE")
        return _channel(args)
    if args.command == "staff":
        if args.action == "add" and not args.role:
            parser.error("staff add needs --role")
        return _staff(args)
    if args.command == "liaisons":
        if args.action == "import" and not (args.file or args.sample):
            parser.error("liaisons import needs FILE or --sample")
        return _liaisons(args)
    if args.command == "duty-list":
        if args.action == "import" and not (args.file or args.sample or args.county):
            parser.error("duty-list import needs FILE, --sample or --county")
        return _duty_list(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
