"""The layering rules of docs/architecture.md, checked on the source so a violation cannot land quietly."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIUCUN = ROOT / "liucun"
WXSIM = ROOT / "wxsim"


def sources(top: Path, *, tests: bool = False) -> Iterator[Path]:
    for path in sorted(top.rglob("*.py")):
        parts = set(path.relative_to(top).parts)
        if not tests and ("tests" in parts or "testing" in parts):
            continue
        if "migrations" in parts:
            continue
        yield path


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(top: Path, forbidden: tuple[str, ...], *, tests: bool = False) -> list[str]:
    bad = []
    for path in sources(top, tests=tests):
        for module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


def test_wxsim_never_imports_liucun() -> None:
    # The simulator stands in for WeChat: sharing code would let it agree with Liucun's mistakes.
    assert offenders(WXSIM, ("liucun",), tests=True) == []


def test_the_protocol_layer_has_no_django() -> None:
    assert offenders(LIUCUN / "wechat", ("django", "liucun.accounts", "liucun.fans")) == []


# Statistics (Kaplan-Meier, tests of push impact, the service report's percentiles over a year of measures
# and its values of one channel's conversations) run on numpy, which scipy and lifelines need anyway.
STATISTICS = {
    "liucun/activity/service.py",
    "liucun/activity/service_channels.py",
    "liucun/activity/service_days.py",
    "liucun/cohorts/km.py",
    "liucun/cohorts/quality.py",
    "liucun/pushimpact/statistics.py",
}


def test_only_the_statistics_modules_use_numpy() -> None:
    # The callback, the history import and every other module stay free of it (ADR 12: the product reads
    # wxsim's bulk file without numpy); a report imports it only when it computes.
    found = offenders(LIUCUN, ("numpy", "scipy", "lifelines", "pandas"))
    assert sorted({line.split(" imports ")[0] for line in found} - STATISTICS) == []


def test_domain_apps_never_import_the_api_or_the_console() -> None:
    bad = []
    for app in sorted(p for p in LIUCUN.iterdir() if (p / "__init__.py").exists()):
        if app.name in ("api", "console", "testing", "tests"):
            continue
        bad += offenders(app, ("liucun.api", "liucun.console"))
    assert bad == []


def test_starting_liucun_loads_no_statistics_library() -> None:
    # Every process (the callback server included) imports each app's reports.py at start-up: statistics
    # must be imported where a report computes, or each start pays for numpy, scipy and lifelines.
    probe = (
        "import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'liucun.settings'; django.setup(); "
        "import liucun.urls; "
        "print(' '.join(m for m in ('numpy', 'scipy', 'lifelines', 'pandas') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == ""
