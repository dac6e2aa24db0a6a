"""The editor's model, without Qt: the document, its change events, and the session and
export-plan rules. Views and the Qt controller observe it; tests drive it directly.

Nothing in this package imports PySide6 (``tests/test_boundaries.py`` checks it).
"""

from .document import EditorDocument, ImageDisplay, ResultItem, Timings, default_sampler_settings
from .events import Event
from .export_plan import ExportItem, default_export_folder, plan_export, resolve_conflicts

__all__ = [
    "EditorDocument",
    "Event",
    "ExportItem",
    "ImageDisplay",
    "ResultItem",
    "Timings",
    "default_export_folder",
    "default_sampler_settings",
    "plan_export",
    "resolve_conflicts",
]
