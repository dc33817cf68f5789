"""One emulated Lambda execution environment: a process of its own with the
function's environment variables, its code directory first on sys.path (as
LAMBDA_TASK_ROOT is), and its handler imported once (the cold start) and then
invoked once per event."""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path


def serve(conn: Connection, env: dict[str, str], code_dir: str, handler: str, function_name: str,
          timeout: int, memory: int, log_path: str) -> None:
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    os.environ.update(env)
    sys.path.insert(0, code_dir)
    from infra.events import LambdaContext

    module_name, handler_name = handler.rsplit(".", 1)
    started = time.perf_counter()
    try:
        function = getattr(importlib.import_module(module_name), handler_name)
    except Exception:
        conn.send(("init_error", traceback.format_exc()))
        return
    print(f"INIT {function_name} {Path(code_dir).name} {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        if event is None:
            return
        context = LambdaContext(function_name, timeout, memory, env.get("AWS_REGION", "us-east-1"))
        try:
            result = function(event, context)
        except Exception as error:
            traceback.print_exc()
            conn.send(("error", {"errorType": type(error).__name__, "errorMessage": str(error)}))
            continue
        conn.send(("ok", result))
