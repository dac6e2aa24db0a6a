"""The layer rules at run time: what import-linter (pyproject.toml, run by .ci/run) cannot see.

import-linter reads the import statements of our own sources, lazy ones included. It cannot
see a *third-party* package that loads Qt behind our back, nor ``importlib`` by name. So these
import every core module, the editor's model and the jobs in a fresh interpreter (a module
another test imported cannot hide or fake an import) and check that PySide6 never got loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import importlib, json, pkgutil, sys
import polychrome.core as core
names = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "polychrome.core."))
names += EXTRA
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m == "PySide6" or m.startswith(("PySide6.", "polychrome.desktop")))
print(json.dumps({"imported": names, "bad": [m for m in bad if m not in ALLOWED]}))
"""


def probe(extra: list[str], allowed: list[str]) -> dict:
    code = PROBE.replace("EXTRA", repr(extra)).replace("ALLOWED", repr(allowed))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_core_module_loads_qt_or_the_desktop_package():
    result = probe([], [])
    assert len(result["imported"]) > 30 and "polychrome.core.cli" in result["imported"]
    assert result["bad"] == []


def test_the_polychrome_command_loads_qt_only_to_open_the_editor():
    # The launcher lives in the desktop package but runs the core subcommands without Qt.
    result = probe(["polychrome.desktop.cli"], ["polychrome.desktop", "polychrome.desktop.cli"])
    assert result["bad"] == []


def _model_modules() -> list[str]:
    """Every module of the editor's model, found (a new one cannot be forgotten)."""
    import pkgutil

    import polychrome.desktop.model as model

    found = [m.name for m in pkgutil.walk_packages(model.__path__, "polychrome.desktop.model.")]
    return ["polychrome.desktop.model", *sorted(found)]


def test_the_editor_model_and_the_jobs_load_no_qt():
    modules = _model_modules()
    assert "polychrome.desktop.model.strokes" in modules and len(modules) >= 7
    glue = ["polychrome.desktop.jobs"]
    result = probe(modules + glue, ["polychrome.desktop", *modules, *glue])
    assert result["bad"] == []
