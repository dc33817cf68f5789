"""Concurrency and memory probe of the local stack (`make run`), by hand.

    .venv/bin/python bench/local_stack_probe.py                  # against the stack in .local/
    .venv/bin/python bench/local_stack_probe.py --start          # starts (and stops) a stack of its own
    .venv/bin/python bench/local_stack_probe.py --start --requests 3000 --wait 900   # a soak

What it does, with 10 concurrent clients:
1. N distinct signed requests spread over every hmac-sha256 channel (each channel's sample
   with its external id, citizen phone and address varied), each sent 3 times in random order:
   exactly one 201 per request, 200 for the others, one order id per request;
2. hot keys: a few requests each sent by every client at once, several rounds (the
   retry storm of a channel that timed out): again one 201 per request;
3. conflicting staff dispatches: orders in the manual queue each dispatched twice at
   once to different matters: exactly one 200, and the order ends with the winner's
   department;
4. waits until every acknowledged order is readable and out of `received`.

It prints the time taken, the answers counted by status, what became of the orders,
and the moto server's resident memory (VmRSS; VmHWM is the peak) before and after.
`--max-rss-mb` stops sending if the moto server outgrows it (this machine is shared).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "samples" / "channels"
MANUAL_CONTENT = "请问办事大厅周六开门吗，想问问"  # matches no matter: goes to the manual queue
DISPATCH_CHOICES = ("CX-02-04", "CX-10-03")  # 区城管局 / 区住建局


# ---------------------------------------------------------------- requests
def hmac_channels() -> list[str]:
    from minyi.channels.registry import registry

    return sorted(c.id for c in registry().values() if c.auth.scheme == "hmac-sha256")


def _set(payload: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = payload
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def variant(channel_id: str, external_id: str, phone: str, content: str | None = None,
            place: int | None = None) -> dict:
    """The channel's sample with its own external-id and phone fields replaced, and its
    address numbered `place` if given."""
    from minyi.channels.registry import registry

    fields = registry()[channel_id].fields
    payload = copy.deepcopy(json.loads((SAMPLES / f"{channel_id}.json").read_text(encoding="utf-8")))
    _set(payload, fields["external_id"], external_id)
    _set(payload, fields["citizen.phone"], phone)
    if place is not None and "address" in fields:
        address = payload
        for part in fields["address"].split("."):
            address = address[part]
        _set(payload, fields["address"], f"{address}{place}号")
    if content is not None:
        _set(payload, fields["content"], content)
        if "title" in fields:
            _set(payload, fields["title"], "咨询")
    return payload


class Client:
    def __init__(self, api: str, secrets_by_channel: dict[str, str]) -> None:
        self.api = api
        self.secrets = secrets_by_channel

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.api + path, data=body, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except OSError as error:  # a refused or reset connection is an answer too
            return 0, {"error": repr(error)}
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def post_signed(self, channel_id: str, payload: dict) -> tuple[int, Any]:
        from minyi.channels import signatures as auth

        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = auth.signed_headers(self.secrets[channel_id], body)
        return self.call("POST", f"/channels/{channel_id}/requests", body, headers)


# ---------------------------------------------------------------- memory
def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (empty once it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines) if k in ("VmRSS", "VmHWM")}


def find_moto_pid(stack: dict) -> int | None:
    """The pid the stack wrote down, else the process serving the stack's moto port
    (older local stacks do not write it)."""
    if stack.get("moto_pid"):
        return int(stack["moto_pid"])
    port = stack["moto"].rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if any("moto" in w for w in words) and "-p" in words and words[words.index("-p") + 1:][:1] == [port]:
            return int(entry.name)
    return None


class MemoryWatch(threading.Thread):
    """Samples the moto server's RSS every half second; trips `over` past the limit."""

    def __init__(self, pid: int | None, limit_mb: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.limit_kib = pid, limit_mb * 1024
        self.peak = 0
        self.over = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        while self.pid and not self.done.wait(0.5):
            rss = rss_kib(self.pid).get("VmRSS", 0)
            self.peak = max(self.peak, rss)
            if rss > self.limit_kib:
                self.over.set()


# ---------------------------------------------------------------- phases
@dataclass
class Outcome:
    answers: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # order id -> request key


def _tally(outcome: Outcome, key: str, results: list[tuple[int, Any]]) -> None:
    statuses = sorted(status for status, _ in results)
    outcome.answers.update(str(s) for s in statuses)
    ids = {body.get("order_id") for status, body in results if status in (200, 201) and isinstance(body, dict)}
    if statuses.count(201) != 1 or any(s not in (200, 201) for s in statuses):
        outcome.problems.append(f"{key}: answers {statuses}")
    if len(ids) > 1:
        outcome.problems.append(f"{key}: several order ids {sorted(ids)}")
    for order_id in ids:
        outcome.acknowledged[order_id] = key


def distinct_requests(client: Client, channels: list[str], count: int, sends: int, clients: int, tag: str,
                      phone_base: int, watch: MemoryWatch, shared_address: bool = False) -> Outcome:
    requests = {f"{tag}-{n}": channels[n % len(channels)] for n in range(count)}
    phones = {key: f"13{(phone_base + n) % 10**9:09d}" for n, key in enumerate(requests)}
    # Every third request of a channel shares an address (same matter, same place: merged,
    # 并单), as some do in life; with the sample's one address all of a channel's orders
    # would merge onto one parent, whose item and stream images grow with every merge.
    places = {key: None if shared_address else n // (3 * len(channels)) for n, key in enumerate(requests)}
    jobs = [key for key in requests for _ in range(sends)]
    random.shuffle(jobs)
    results: dict[str, list] = {key: [] for key in requests}
    lock = threading.Lock()

    def send(key: str) -> None:
        if watch.over.is_set():
            return
        answer = client.post_signed(requests[key], variant(requests[key], key, phones[key], place=places[key]))
        with lock:
            results[key].append(answer)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, jobs))
    outcome = Outcome()
    for key, answers in results.items():
        if answers:
            _tally(outcome, key, answers)
    return outcome


def hot_keys(client: Client, channels: list[str], keys: int, rounds: int, clients: int, tag: str,
             phone_base: int, watch: MemoryWatch) -> Outcome:
    """Every client sends the same request at the same moment, `rounds` times over."""
    outcome = Outcome()
    for n in range(keys):
        if watch.over.is_set():
            break
        key, channel_id = f"{tag}-hot-{n}", channels[n % len(channels)]
        payload = variant(channel_id, key, f"13{(phone_base + 10**6 + n) % 10**9:09d}")
        barrier = threading.Barrier(clients)

        def storm(_: int, channel_id=channel_id, payload=payload, barrier=barrier) -> list:
            answers = []
            for _round in range(rounds):
                barrier.wait()
                answers.append(client.post_signed(channel_id, payload))
            return answers

        with ThreadPoolExecutor(clients) as pool:
            answers = [a for batch in pool.map(storm, range(clients)) for a in batch]
        _tally(outcome, key, answers)
    return outcome


def dispatch_conflicts(client: Client, state_dir: Path, pairs: int, tag: str, phone_base: int,
                       wait: float, watch: MemoryWatch) -> Outcome:
    """Orders in the manual queue, each dispatched at once to two different matters."""
    outcome = Outcome()
    if pairs <= 0 or watch.over.is_set():
        return outcome
    token = subprocess.run([str(Path(sys.executable).with_name("minyi")), "--local-dir", str(state_dir),
                            "staff", "token", "zhongxin01"], capture_output=True, text=True, check=True).stdout.strip()
    auth_header = {"Authorization": token}
    manual = []
    for n in range(pairs):
        key = f"{tag}-manual-{n}"
        phone = f"13{(phone_base + 2 * 10**6 + n) % 10**9:09d}"
        status, body = client.post_signed("12345", variant("12345", key, phone, content=MANUAL_CONTENT))
        if status != 201:
            outcome.problems.append(f"{key}: posting answered {status} {body}")
            continue
        manual.append((key, body["order_id"]))
    deadline = time.monotonic() + wait
    for key, order_id in manual:
        while time.monotonic() < deadline:
            status, body = client.call("GET", f"/orders/{order_id}")
            if status == 200 and body["status"] != "received":
                break
            time.sleep(0.3)
        if body["status"] != "manual":
            outcome.problems.append(f"{key}: expected manual, is {body['status']}")
            continue
        barrier = threading.Barrier(2)

        def dispatch(matter: str, order_id=order_id, barrier=barrier) -> tuple[int, Any]:
            barrier.wait()
            return client.call("POST", f"/orders/{order_id}/dispatch",
                               json.dumps({"matter_code": matter}).encode(), auth_header)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(dispatch, DISPATCH_CHOICES))
        statuses = sorted(status for status, _ in answers)
        outcome.answers.update(str(s) for s in statuses)
        winners = [body for status, body in answers if status == 200]
        final = client.call("GET", f"/orders/{order_id}")[1]
        if statuses != [200, 409]:
            outcome.problems.append(f"{key}: concurrent dispatches answered {statuses}")
        if winners and final.get("department") != winners[-1].get("department"):
            outcome.problems.append(f"{key}: the order is with {final.get('department')}, the 200 said "
                                    f"{winners[-1].get('department')}")
    return outcome


def settle(client: Client, order_ids: list[str], wait: float, clients: int,
           watch: MemoryWatch) -> tuple[Counter, float]:
    """Reads every acknowledged order until none is `received` (or the wait is over)."""
    started = time.monotonic()
    pending = set(order_ids)
    final: dict[str, str] = {}

    def read(order_id: str) -> tuple[str, str]:
        status, body = client.call("GET", f"/orders/{order_id}")
        return order_id, (body["status"] if status == 200 else f"http {status}")

    with ThreadPoolExecutor(clients) as pool:
        while True:
            for order_id, state in pool.map(read, sorted(pending)):
                final[order_id] = state
                if state not in ("received", "http 404"):
                    pending.discard(order_id)
            if not pending or time.monotonic() - started > wait or watch.over.is_set():
                break
            time.sleep(1)
    return Counter(final.values()), time.monotonic() - started


# ---------------------------------------------------------------- stack
def start_stack(state_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PORT": "0", "MINYI_LOCAL_DIR": str(state_dir)}
    for name in ("AWS_ENDPOINT_URL", "ORDERS_TABLE", "DUTY_LIST_TABLE", "REPORTS_TABLE", "REPORTS_BUCKET"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "infra.local_stack"], cwd=ROOT, env=env,
                               stdout=open(state_dir / "stack.out", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if "READY " in (state_dir / "stack.out").read_text(encoding="utf-8", errors="replace"):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"local stack did not start; see {state_dir / 'stack.out'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="distinct requests (default 300)")
    parser.add_argument("--sends", type=int, default=3, help="times each request is sent (default 3)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients (default 10)")
    parser.add_argument("--hot-keys", type=int, default=5, help="requests sent by every client at once (default 5)")
    parser.add_argument("--hot-rounds", type=int, default=3, help="rounds of each hot key (default 3)")
    parser.add_argument("--dispatch-pairs", type=int, default=5,
                        help="manual orders dispatched twice at once (default 5)")
    parser.add_argument("--shared-address", action="store_true",
                        help="every request of a channel at its sample's address: they merge onto a few orders")
    parser.add_argument("--wait", type=float, default=180, help="seconds to wait for orders to leave `received`")
    parser.add_argument("--local-dir", type=Path, default=ROOT / ".local", help="state dir of a running stack")
    parser.add_argument("--start", action="store_true", help="start a local stack of its own (and stop it)")
    parser.add_argument("--max-rss-mb", type=float, default=6000, help="stop sending past this moto RSS")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    process = None
    state_dir = args.local_dir
    if args.start:
        state_dir = Path(tempfile.mkdtemp(prefix="minyi-probe-"))
        process = start_stack(state_dir)
    try:
        stack = json.loads((state_dir / "stack.json").read_text(encoding="utf-8"))
        local = json.loads((state_dir / "channel-secrets.json").read_text(encoding="utf-8"))
        client = Client(stack["api"], local["secrets"])
        channels = hmac_channels()
        pid = find_moto_pid(stack)
        before = rss_kib(pid) if pid else {}
        watch = MemoryWatch(pid, args.max_rss_mb)
        watch.start()
        tag, phone_base = f"probe-{secrets.token_hex(3)}", random.randrange(10**9)
        print(f"stack {stack['api']}  moto pid {pid}  RSS before {before.get('VmRSS', 0) / 1024:.0f} MiB  "
              f"{len(channels)} hmac channels  tag {tag}", flush=True)

        started = time.monotonic()
        distinct = distinct_requests(client, channels, args.requests, args.sends, args.clients, tag, phone_base,
                                     watch, args.shared_address)
        send_seconds = time.monotonic() - started
        print(f"distinct: {args.requests} x {args.sends} in {send_seconds:.1f} s "
              f"({args.requests * args.sends / send_seconds:.1f} req/s)  answers {dict(distinct.answers)}", flush=True)
        hot = hot_keys(client, channels, args.hot_keys, args.hot_rounds, args.clients, tag, phone_base, watch)
        print(f"hot keys: {args.hot_keys} x {args.clients} clients x {args.hot_rounds} rounds  "
              f"answers {dict(hot.answers)}", flush=True)
        conflicts = dispatch_conflicts(client, state_dir, args.dispatch_pairs, tag, phone_base, args.wait,
                                       watch)
        print(f"dispatch conflicts: {args.dispatch_pairs} pairs  answers {dict(conflicts.answers)}", flush=True)
        acknowledged = {**distinct.acknowledged, **hot.acknowledged}
        states, settle_seconds = settle(client, sorted(acknowledged), args.wait, args.clients, watch)
        total = time.monotonic() - started
        after = rss_kib(pid) if pid else {}
        watch.done.set()
        problems = distinct.problems + hot.problems + conflicts.problems
        unsettled = sum(n for state, n in states.items() if state in ("received", "http 404"))
        figures = {
            "requests": args.requests, "sends": args.sends, "clients": args.clients,
            "send_seconds": round(send_seconds, 1), "settle_seconds": round(settle_seconds, 1),
            "total_seconds": round(total, 1),
            "answers": dict(distinct.answers + hot.answers), "dispatch_answers": dict(conflicts.answers),
            "acknowledged_orders": len(acknowledged), "order_states": dict(states),
            "problems": len(problems), "stopped_over_rss": watch.over.is_set(),
            "moto_rss_mib_before": round(before.get("VmRSS", 0) / 1024),
            "moto_rss_mib_after": round(after.get("VmRSS", 0) / 1024),
            "moto_rss_mib_peak": round(max(after.get("VmHWM", 0), watch.peak) / 1024),
        }
        print(f"orders: {len(acknowledged)} acknowledged; after {settle_seconds:.0f} s: {dict(states)}")
        for problem in problems[:20]:
            print(f"  ! {problem}")
        if len(problems) > 20:
            print(f"  ! ... and {len(problems) - 20} more")
        stopped = "; STOPPED over --max-rss-mb" if watch.over.is_set() else ""
        print(f"total {total:.1f} s; moto RSS {figures['moto_rss_mib_before']} -> {figures['moto_rss_mib_after']} MiB "
              f"(peak {figures['moto_rss_mib_peak']} MiB){stopped}")
        print(json.dumps(figures, ensure_ascii=False))
        if args.json:
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
        return 1 if problems or unsettled or watch.over.is_set() else 0
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
