"""Settings are read once at cold start, validated, and used: each function's handler
refuses to start without a variable it needs (naming it), a bad value is an error, and
no table has a default name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra import template as cfn

FUNCTIONS = cfn.functions()
RESOURCE_SUFFIXES = ("_TABLE", "_BUCKET", "_PATH", "_URL", "_BUS_NAME", "_SECRET")

PROBE = """
import importlib, json, os, sys
from minyi.core import settings
env, module, names = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
results = {}
for name in [None, *names]:
    os.environ.clear()
    os.environ.update({k: v for k, v in env.items() if k != name})
    settings.reset()
    sys.modules.pop(module, None)
    try:
        importlib.import_module(module)
        results[name or ""] = "started"
    except settings.SettingsError as error:
        results[name or ""] = str(error)
print(json.dumps(results))
"""


def environment(fn: cfn.Function) -> dict[str, str]:
    """The function's environment as the template gives it, intrinsics as placeholders."""
    variables = fn.properties.get("Environment", {}).get("Variables", {})
    env = {name: value for name, value in variables.items() if isinstance(value, str)}
    env.update({name: f"placeholder-{name.lower()}" for name, value in variables.items()
                if not isinstance(value, str) and name.endswith(RESOURCE_SUFFIXES)})
    return {**env, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
            "PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(fn.code_uri), *sys.path])}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=[fn.logical_id for fn in FUNCTIONS])
def test_a_function_starts_with_its_template_environment_and_not_without_any_resource_it_names(fn):
    env = environment(fn)
    resources = [name for name in env if name.endswith(RESOURCE_SUFFIXES)]
    module = fn.handler.rsplit(".", 1)[0]
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(env), module, json.dumps(resources)],
                          cwd=fn.code_uri, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results[""] == "started"
    for name in resources:
        assert name in results[name], f"{fn.logical_id} started without {name}: {results[name]}"


def test_no_table_name_has_a_default():
    probe = ("import os; os.environ.pop('ORDERS_TABLE', None)\n"
             "from minyi.core.settings import SettingsError\n"
             "from minyi.dal.order_records import OrderRecord\n"
             "try:\n    print(OrderRecord.Meta.table_name)\n"
             "except SettingsError as error:\n    print('refused:', error)")
    env = {k: v for k, v in os.environ.items() if k != "ORDERS_TABLE"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused:") and "ORDERS_TABLE" in out


@pytest.mark.parametrize(("name", "value"), [("REPLY_RETRY_DELAYS", "10,abc"), ("REPLY_RETRY_DELAYS", "10,901"),
                                             ("AUTO_DISPATCH_THRESHOLD", "1.5"), ("REPORT_URL_SECONDS", "3600"),
                                             ("DUTY_LIST_CACHE_SECONDS", "-1"), ("ORDERS_TABLE", "")])
def test_a_bad_value_is_refused_at_load_with_its_name(monkeypatch, name, value):
    from minyi.core import settings

    monkeypatch.setenv(name, value)
    try:
        with pytest.raises(settings.SettingsError, match=name):
            settings.load()
    finally:
        monkeypatch.undo()
        settings.reset()
