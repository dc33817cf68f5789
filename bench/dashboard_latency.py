"""The staff dashboard's latency on the local stack, warm (issue 11: "within 300 ms warm").

Starts a local stack of its own (or uses the one in --local-dir), takes in N real messages
(../shared/data/messages-unlabeled.csv when present, else varied samples) over the 12345
webhook, waits until the assess function has counted every one of them (the dashboard's
received total), then times, interleaved, R warm requests of each:
  - GET /staff/dashboard?period=<this month> as the centre (every department) and as a
    department (its own row): the counters and gauges only;
  - the baseline, measured in the same run: GET /orders/<id> (the public status: one GetItem),
    the cheapest request through the same HTTP stack, so the ratio says what the dashboard
    costs beyond the stack's own overhead on this (noisy) machine.
Prints median and p95 of each and the ratios; exits 1 if a request fails or the dashboard's
warm median is over 300 ms.

    .venv/bin/python bench/dashboard_latency.py [--orders 500] [--rounds 40] [--local-dir .local]
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.local_stack_probe import Client, start_stack  # noqa: E402
from minyi.core.clock import SHANGHAI  # noqa: E402

MESSAGES = ROOT.parent / "shared" / "data" / "messages-unlabeled.csv"


def messages(count: int) -> list[tuple[str, str]]:
    if MESSAGES.exists():
        with MESSAGES.open(encoding="utf-8-sig", newline="") as handle:
            rows = [(r["subject"], r["detail"]) for r in csv.DictReader(handle) if r.get("detail")]
        return [rows[i % len(rows)] for i in range(count)]
    samples = [("路灯坏了", "梅林镇华丰社区路灯坏了一周"), ("噪音扰民", "田村镇圩镇主街夜间施工噪音"),
               ("占道经营", "王母渡镇菜市场门口占道经营")]
    return [samples[i % len(samples)] for i in range(count)]


def token(state_dir: Path, username: str) -> str:
    done = subprocess.run([str(Path(sys.executable).with_name("minyi")), "--local-dir", str(state_dir),
                           "staff", "token", username], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def timed(client: Client, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    status, body = client.call("GET", path, headers=headers)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"GET {path} answered {status}: {body}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--local-dir", type=Path, help="a running stack's state dir (default: start one)")
    args = parser.parse_args()
    process = None
    state_dir = args.local_dir
    if state_dir is None:
        state_dir = Path(tempfile.mkdtemp(prefix="minyi-dashboard-"))
        process = start_stack(state_dir)
    try:
        stack = json.loads((state_dir / "stack.json").read_text(encoding="utf-8"))
        local = json.loads((state_dir / "channel-secrets.json").read_text(encoding="utf-8"))
        client = Client(stack["api"], local["secrets"])
        centre = {"Authorization": token(state_dir, "zhongxin01")}
        department = {"Authorization": token(state_dir, "chengguan01")}
        period = datetime.now(SHANGHAI).strftime("%Y-%m")
        board = f"/staff/dashboard?period={period}"
        _, before = client.call("GET", board, headers=centre)
        start_total = before["totals"]["counts"]["received"]
        tag = f"dash-{int(time.time())}"
        order_ids = []
        started = time.monotonic()
        for i, (title, detail) in enumerate(messages(args.orders)):
            status, body = client.post_signed("12345", {
                "external_id": f"{tag}-{i}", "title": (title or "诉求")[:100], "content": detail[:2000],
                "citizen": {"name": "测试", "phone": f"139{i:08d}"}})
            if status != 201:
                raise SystemExit(f"intake answered {status}: {body}")
            order_ids.append(body["order_id"])
        sent = time.monotonic() - started
        deadline = time.monotonic() + 600
        while True:
            _, now = client.call("GET", board, headers=centre)
            counted = now["totals"]["counts"]["received"] - start_total
            if counted >= args.orders or time.monotonic() > deadline:
                break
            time.sleep(1)
        settled = time.monotonic() - started
        print(f"{args.orders} orders taken in in {sent:.1f} s; counted {counted} of them after {settled:.1f} s; "
              f"{len(now['departments'])} departments on the dashboard")
        samples: dict[str, list[float]] = {"dashboard (centre)": [], "dashboard (department)": [],
                                           "baseline GET /orders/{id}": []}
        for _ in range(3):  # warm every worker
            timed(client, board, centre), timed(client, board, department)
        for r in range(args.rounds):
            samples["dashboard (centre)"].append(timed(client, board, centre))
            samples["dashboard (department)"].append(timed(client, board, department))
            samples["baseline GET /orders/{id}"].append(timed(client, f"/orders/{order_ids[r % len(order_ids)]}", {}))
        base = statistics.median(samples["baseline GET /orders/{id}"])
        for name, values in samples.items():
            values.sort()
            p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
            print(f"  {name:28s} median {statistics.median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
                  f"x{statistics.median(values) / base:.2f} of the baseline")
        worst = max(statistics.median(samples["dashboard (centre)"]),
                    statistics.median(samples["dashboard (department)"]))
        print(f"dashboard warm median {worst * 1000:.0f} ms (goal: within 300 ms)")
        return 0 if counted >= args.orders and worst <= 0.3 else 1
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
