"""Cold-start import cost of each handler module, as a ratio to `import boto3`.

Each measurement runs in a fresh interpreter (as a cold Lambda does), with the
function's environment from template.yaml, several times; the median is reported.
The baseline is measured in the same run, so the ratios hold on a noisy machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import template as cfn  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "11"))
PROBE = "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); " \
        "print(time.perf_counter() - t)"


def cold_import_seconds(module: str, cwd: Path, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, module], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
           "POWERTOOLS_TRACE_DISABLED": "true",
           "ORDERS_TABLE": "t", "DUTY_LIST_TABLE": "t", "REPORTS_TABLE": "t", "REPORTS_BUCKET": "b"}
    subjects = [("boto3 (baseline)", "boto3", ROOT)]
    envs = {"boto3 (baseline)": env}
    for fn in cfn.functions():
        module = fn.handler.rsplit(".", 1)[0]
        label = f"{fn.logical_id} ({fn.code_uri.name}/{module}.py)"
        subjects.append((label, module, fn.code_uri))
        # the function's own environment from the template: literals as they are, the names
        # CloudFormation resolves (tables, queues, the bus, the key's secret) as placeholders
        variables = fn.properties["Environment"]["Variables"]
        literal = {k: v for k, v in variables.items() if isinstance(v, str)}
        names = ("_TABLE", "_BUCKET", "_PATH", "_URL", "_NAME", "_SECRET")
        resolved = {k: f"placeholder-{k.lower()}" for k, v in variables.items()
                    if not isinstance(v, str) and k.endswith(names)}
        envs[label] = {**env, **literal, **resolved}
    # Bytecode as a built layer has it: pip compiles what it installs; one warm-up pass
    # compiles the rest, so the runs measure importing, not compiling.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for label, module, cwd in subjects:
        cold_import_seconds(module, cwd, envs[label])
    samples: dict[str, list[float]] = {label: [] for label, _, _ in subjects}
    # round-robin, so drift in the machine's load touches every subject alike
    for _ in range(RUNS):
        for label, module, cwd in subjects:
            samples[label].append(cold_import_seconds(module, cwd, envs[label]))
    baseline = statistics.median(samples["boto3 (baseline)"])
    print(f"cold import, median of {RUNS} fresh interpreters each, interleaved (python {sys.version.split()[0]})")
    print(f"{'module':<42}{'ms':>9}{'ratio to import boto3':>24}")
    for label, _, _ in subjects:
        seconds = statistics.median(samples[label])
        print(f"{label:<42}{seconds * 1000:>9.1f}{seconds / baseline:>24.2f}")


if __name__ == "__main__":
    main()
