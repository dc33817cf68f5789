"""The house's order: each stage of the reform imports only the stages below it, only
the data-access layer touches AWS, package files stay empty, and no function imports
another's handler. Read from the source (ast), so a violation fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "minyi"

# bottom-up; a module may import its own package and any package of a lower rank (timelimits reads
# the county's calendar supplement through dal, and routing counts working days with timelimits)
RANKS = {"core": 0, "models": 1, "dal": 2, "channels": 2, "timelimits": 2.5, "routing": 3, "casework": 4,
         "intake": 5, "sla": 5, "reports": 5, "entrypoints": 6}
AWS_CLIENTS = ("boto3", "botocore", "pynamodb", "aws_lambda_powertools.utilities.parameters")


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" and "data" not in path.parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import, including those inside functions (lazy imports count)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "minyi":  # from minyi import core -> minyi.core
                found += [(node.lineno, f"minyi.{alias.name}") for alias in node.names]
    return found


def package_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def test_every_module_sits_in_a_ranked_stage_package():
    assert {package_of(path) for path in modules()} == set(RANKS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    own = package_of(path)
    upward = [f"line {line}: {name}" for line, name in imported(path)
              if name.startswith("minyi.") and name.split(".")[1] != own and name.split(".")[1] != "data"
              and RANKS[name.split(".")[1]] >= RANKS[own]]
    assert not upward, f"{own} (rank {RANKS[own]}) imports a layer not below it: {upward}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_data_access_layer_touches_aws(path):
    if package_of(path) == "dal":
        return
    touching = [f"line {line}: {name}" for line, name in imported(path)
                if any(name == client or name.startswith(client + ".") for client in AWS_CLIENTS)]
    assert not touching, f"{path.name} talks to AWS outside minyi.dal: {touching}"


def test_package_files_are_empty():
    """A handler imports only what it uses: nothing rides in on a package's __init__."""
    assert [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("__init__.py") if p.read_text().strip()] == []


def test_no_function_imports_another_functions_handler():
    functions = ROOT / "functions"
    own_modules = {path.stem: path.parent.name for path in functions.rglob("*.py")}
    for path in functions.rglob("*.py"):
        for line, name in imported(path):
            top = name.split(".")[0]
            assert top != "functions", f"{path}: line {line} imports {name}"
            if top in own_modules and own_modules[top] != path.parent.name:
                raise AssertionError(f"{path}: line {line} imports {name} of functions/{own_modules[top]}")


def test_the_rule_catches_an_upward_import(tmp_path):
    """The test above would pass on an empty walk; this one proves it sees an import."""
    module = tmp_path / "core_example.py"
    module.write_text("def f():\n    from minyi.casework import shell\n", encoding="utf-8")
    assert imported(module) == [(2, "minyi.casework")]


def test_the_local_placeholder_is_read_in_one_place():
    """属地: how the placeholder 属地乡镇 becomes a township government is written once
    (routing/jurisdiction.py); the duty list's own model and parser name it, nobody else."""
    allowed = {"models/duty.py", "routing/jurisdiction.py", "routing/duty_list.py"}
    using = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if "LOCAL_LEAD" in path.read_text()}
    assert using <= allowed, sorted(using - allowed)
