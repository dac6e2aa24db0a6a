"""The layer rules: ``polychrome.core`` is Qt-free numerics and never imports the desktop editor;
the editor's model (``polychrome.desktop.model``) and the workers' glue (``desktop/jobs.py``)
import no Qt either, so tests drive them without it.

Each check runs in a fresh interpreter, so a module another test already imported
cannot hide (or fake) an import.
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


def test_no_core_source_imports_qt_or_the_desktop_package_even_lazily():
    """Imports inside functions count too (the old ``core/cli.py`` opened the editor that way)."""
    import ast
    from pathlib import Path

    import polychrome.core as core

    forbidden = ("PySide6", "superqt", "polychrome.desktop")
    found = []
    files = sorted(Path(core.__path__[0]).rglob("*.py"))
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            found += [f"{f.name}: {n}" for n in names if n.startswith(forbidden)]
    assert len(files) > 30 and found == []


MODEL_MODULES = [
    "polychrome.desktop.model",
    "polychrome.desktop.model.document",
    "polychrome.desktop.model.events",
    "polychrome.desktop.model.session",
    "polychrome.desktop.model.export_plan",
    "polychrome.desktop.model.errors",
]


def test_the_editor_model_and_the_jobs_load_no_qt():
    glue = ["polychrome.desktop.jobs"]
    result = probe(MODEL_MODULES + glue, ["polychrome.desktop", *MODEL_MODULES, *glue])
    assert result["bad"] == []


def test_every_model_module_is_listed_and_none_imports_qt_even_lazily():
    import ast
    from pathlib import Path

    import polychrome.desktop.model as model

    files = sorted(Path(model.__path__[0]).glob("*.py"))
    listed = {f"polychrome.desktop.model.{f.stem}" for f in files if f.stem != "__init__"}
    assert listed <= set(MODEL_MODULES)  # a new model module must join the import check above
    found = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["." * node.level + (node.module or "")]
            else:
                continue
            # Relative imports may only stay inside the model package (one dot).
            found += [
                f"{f.name}: {n}" for n in names if n.startswith(("PySide6", "superqt", "..")) or "Qt" in n
            ]
    assert found == []
