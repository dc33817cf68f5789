"""The shared layer ships what runs, and everything that runs.

The layer is src/requirements.txt installed without dependencies, plus minyi, less botocore's models of
services the code does not call (src/layer.py). So the list must name every distribution the code
imports and every one those need, and src/layer.py must keep every service the code makes a client of.
These tests read the code (ast) and the installed distributions' metadata: no network, no build. The
last one imports every handler from the layer `make build` made, with nothing else on the path.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import template as cfn

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "src" / "minyi").rglob("*.py"), *(ROOT / "functions").rglob("*.py")])
BUILT = ROOT / ".aws-sam" / "build"

_spec = importlib.util.spec_from_file_location("layer", ROOT / "src" / "layer.py")
layer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layer)

# chalice's requirements for its command-line tool (`chalice deploy/package`), which chalice.app (all
# that a function imports of chalice) never imports; pinned in requirements-dev.txt instead
CLI_ONLY = {"chalice": {"click", "inquirer", "pyyaml", "pip", "setuptools", "wheel"}}

# AWS services a library reaches for the code, by the library call the code makes
IMPLIED_SERVICES = {"get_parameter": "ssm", "get_parameters": "ssm", "get_parameters_by_name": "ssm",
                    "get_secret": "secretsmanager", "get_secrets_by_name": "secretsmanager",
                    "get_app_config": "appconfigdata"}


def runtime_pins() -> dict[str, str]:
    lines = (ROOT / "src" / "requirements.txt").read_text("utf-8").splitlines()
    pins = [line.split("#")[0].strip() for line in lines]
    return {canonicalize_name(name): version for name, version in (p.split("==") for p in pins if p)}


def trees():
    for path in SOURCES:
        yield path, ast.parse(path.read_text("utf-8"), str(path))


def imported_modules() -> dict[str, set[str]]:
    """Top-level module -> files importing it, every import anywhere in a file (lazy ones too)."""
    found: dict[str, set[str]] = {}
    local = {path.stem for path in SOURCES if path.parent.parent == ROOT / "functions"}
    for path, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local and top != "minyi":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def aws_services() -> dict[str, set[str]]:
    """AWS service -> files whose code makes a client of it (boto3/botocore clients and resources,
    pynamodb's DynamoDB, powertools parameters' stores)."""
    found: dict[str, set[str]] = {}
    for path, tree in trees():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("client", "resource", "create_client") and node.args:
                    name = node.args[0]
                    assert isinstance(name, ast.Constant) and isinstance(name.value, str), \
                        f"{where}:{node.lineno}: name the service literally, so that this test sees it"
                    found.setdefault(name.value, set()).add(where)
                elif node.func.attr in IMPLIED_SERVICES:
                    found.setdefault(IMPLIED_SERVICES[node.func.attr], set()).add(where)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pynamodb"):
                found.setdefault("dynamodb", set()).add(where)
    return found


def test_every_distribution_the_code_imports_is_in_the_runtime_list():
    distributions = metadata.packages_distributions()
    pins = runtime_pins()
    imports = imported_modules()
    assert {"chalice", "pydantic", "pynamodb", "openpyxl", "boto3", "aws_lambda_powertools"} <= set(imports)
    for module, files in sorted(imports.items()):
        names = {canonicalize_name(d) for d in distributions.get(module, ())}
        assert names, f"{module} (imported by {sorted(files)}) is installed by no distribution"
        assert names & set(pins), f"{module} (imported by {sorted(files)}) comes from {names}: " \
                                  "not in src/requirements.txt, so not in the layer"


def test_the_runtime_list_holds_every_requirement_of_what_it_lists():
    pins = runtime_pins()
    environment = {**default_environment(), "python_version": "3.12", "sys_platform": "linux",
                   "platform_system": "Linux", "platform_machine": "x86_64", "extra": ""}
    for name, version in pins.items():
        # the installed metadata is the pinned release's (a stale venv would check another's)
        assert metadata.version(name) == version, (name, metadata.version(name), version)
        for text in metadata.requires(name) or ():
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            needed = canonicalize_name(requirement.name)
            if needed in CLI_ONLY.get(name, ()):
                continue
            assert needed in pins, f"{name} requires {text}: not in src/requirements.txt"
            assert requirement.specifier.contains(pins[needed], prereleases=True), (name, text, pins[needed])


def test_no_command_line_tool_or_installer_is_in_the_runtime_list():
    pins = runtime_pins()
    assert not pins.keys() & {"jieba", "pip", "setuptools", "wheel", *CLI_ONLY["chalice"]}
    dev = (ROOT / "requirements-dev.txt").read_text("utf-8")
    # ... but the dev venv, which installs chalice whole, pins them
    for name in CLI_ONLY["chalice"] - {"pip"}:
        assert re.search(rf"^{name}==", dev, re.M | re.I), name


def test_every_aws_service_the_code_calls_keeps_its_botocore_model():
    services = aws_services()
    assert {"dynamodb", "s3", "sqs", "ssm", "events", "cognito-idp"} <= set(services)
    for service, files in sorted(services.items()):
        assert service in layer.BOTOCORE_SERVICES, \
            f"{sorted(files)} make a {service} client: add {service!r} to BOTOCORE_SERVICES in src/layer.py"
    models = Path(importlib.util.find_spec("botocore").origin).parent / "data"
    assert all((models / name).is_dir() for name in layer.BOTOCORE_SERVICES), "a name botocore does not have"


# Run with only one function's code and the layer on sys.path, as Lambda does: the handler, then the
# lazy paths (an xlsx duty list, SSM through powertools parameters, SDK tracing), then a client of every
# service the code calls, down to a signed request for one of its operations (offline).
CHECK = """
import importlib, io, sys

module, services = sys.argv[1], [s for s in sys.argv[2].split(",") if s]
importlib.import_module(module)
assert "site" not in sys.modules and not any("site-packages" in p for p in sys.path), sys.path
if services:
    from openpyxl import Workbook
    from minyi.core.errors import ValidationFailed
    from minyi.routing import duty_list
    book = Workbook()
    book.active.append(["matter"])
    data = io.BytesIO()
    book.save(data)
    try:
        duty_list.parse_xlsx(data.getvalue())  # openpyxl reads it; our own rules refuse a header alone
    except ValidationFailed:
        pass
    from aws_lambda_powertools.utilities import parameters
    parameters.SSMProvider()
    from minyi.core import observability
    assert type(observability.tracer.provider).__name__ != "_NoTracing" and "aws_xray_sdk.core" in sys.modules
    import boto3
    for name in services:
        client = boto3.client(name)
        model = client.meta.service_model
        method = next(method for method, operation in client.meta.method_to_api_mapping.items()
                      if not (model.operation_model(operation).input_shape or {}) or
                      not model.operation_model(operation).input_shape.required_members)
        assert client.generate_presigned_url(method).startswith("https://"), name
print("ok")
"""


class _ByName(dict):
    def __missing__(self, key):
        return "-".join(key) if isinstance(key, tuple) else key


@pytest.mark.skipif(not (BUILT / "SharedLayer" / "python").is_dir(), reason="no layer built (make build)")
def test_the_built_layer_runs_every_handler(tmp_path):
    python = BUILT / "SharedLayer" / "python"
    installed = dict(p.name.removesuffix(".dist-info").split("-") for p in python.glob("*.dist-info"))
    installed = {canonicalize_name(name): version for name, version in installed.items()}
    assert installed == runtime_pins(), "the build is older than src/requirements.txt: make build"
    base = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "ap-east-1", "AWS_DEFAULT_REGION": "ap-east-1",
            "AWS_ACCESS_KEY_ID": "check", "AWS_SECRET_ACCESS_KEY": "check", "LANG": "C.UTF-8"}
    # each function's environment from the template, at the parameters' defaults; resources by name
    template = cfn.load()
    resolver = cfn.Resolver(template, _ByName(), _ByName(), "ap-east-1", "minyi-check")
    runs = []
    for fn in cfn.functions(template):
        variables = fn.properties["Environment"]["Variables"]
        env = {name: str(resolver.resolve(value)) for name, value in variables.items()}
        runs.append((BUILT / fn.logical_id, fn.handler.rsplit(".", 1)[0], {**env, **base}, ""))
    # once more with SDK tracing on, the lazy paths and every client
    directory, module, env, _ = runs[0]
    traced = {**env, "POWERTOOLS_TRACE_DISABLED": "false"}
    runs.append((directory, module, traced, ",".join(sorted(aws_services()))))
    for directory, module, env, services in runs:
        # -S: no site-packages (the dev venv's); PYTHONPATH: the function's code, then the layer;
        # -B: no __pycache__ written into the build (sam deploy would ship it)
        done = subprocess.run([sys.executable, "-S", "-B", "-c", CHECK, module, services], cwd=tmp_path,
                              env={**env, "PYTHONPATH": f"{directory}{os.pathsep}{python}"},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.strip().endswith("ok"), \
            f"{directory.name} from the built layer (older than the code? make build): {done.stderr[-3000:]}"
