"""Builds SharedLayer: what the functions run, and nothing else.

`sam build` runs `make build-SharedLayer` in a copy of src/ (template.yaml: `BuildMethod: makefile`),
and src/Makefile runs `python layer.py "$ARTIFACTS_DIR"`. The layer is:

- the distributions in requirements.txt, installed with --no-deps: that list is the runtime closure,
  without chalice's command-line tool (click, inquirer, PyYAML, ...) and pip, setuptools and wheel,
  which chalice requires for `chalice package` but chalice.app never imports. Binary wheels only, for
  Lambda's platform (x86_64, CPython 3.12), whatever machine builds;
- the `minyi` package;
- less what never runs: botocore's models of AWS services the code does not call (most of botocore's
  size: ~420 services), boto3's resource models of the same, and each dist-info's RECORD (the list of
  installed files pip uninstalls by; it would no longer match).

tests/unit/test_layer.py holds both lists (requirements.txt, BOTOCORE_SERVICES) to the code, and after
`make build` imports every handler from the built layer with nothing else on the path, as Lambda does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# botocore service models the layer keeps; a client of any other service fails to be created
# (tests/unit/test_layer.py fails first: every client the code creates must be named here)
BOTOCORE_SERVICES = {
    "dynamodb": "pynamodb (every table)",
    "dynamodbstreams": "the orders and reports streams' records (kept with dynamodb; small)",
    "s3": "report files and their presigned links (minyi.dal.reports)",
    "sqs": "reply retries and dead letters (minyi.dal.queues)",
    "ssm": "channel secrets through powertools parameters (minyi.dal.channel_config)",
    "secretsmanager": "powertools parameters' other store (kept; small)",
    "events": "emergency alerts on the event bus (minyi.dal.events)",
    "cognito-idp": "staff accounts (minyi.dal.staff_directory)",
    "sts": "botocore's assume-role credential providers",
    "xray": "the X-Ray SDK's sampling-rules client (used outside Lambda; kept with SdkTracing; small)",
}

# Lambda python3.12: x86_64 (template.yaml Architectures), Amazon Linux 2023 (glibc 2.34)
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")


def build(artifacts: Path) -> None:
    target = artifacts / "python"
    if target.exists():
        shutil.rmtree(target)
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--no-compile", "--only-binary=:all:", *platforms, "--implementation", "cp", "--python-version", "3.12",
           "--abi", "cp312", "--target", str(target), "-r", str(HERE / "requirements.txt")]
    subprocess.run(pip, check=True)  # noqa: S603 - fixed arguments, this interpreter's pip
    shutil.copytree(HERE / "minyi", target / "minyi", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    prune(target)


def prune(target: Path) -> None:
    # service models: a directory per service; the files beside them (endpoints, partitions,
    # retry and default configuration) every client needs
    for data in (target / "botocore" / "data", target / "boto3" / "data"):
        for service in data.iterdir():
            if service.is_dir() and service.name not in BOTOCORE_SERVICES:
                shutil.rmtree(service)
    for record in target.glob("*.dist-info/RECORD"):
        record.unlink()


if __name__ == "__main__":
    build(Path(sys.argv[1]))
