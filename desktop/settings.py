"""Persistent preferences (QSettings): recent files, last folder, model, device, layout.

The QSettings object is injected so tests can point it at a temporary INI file
and never touch the user's real settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
MAX_RECENT_COLORS = 10
DEVICES = ("auto", "cpu", "cuda", "mps")


def default_qsettings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Polychrome", "Polychrome")


class AppSettings:
    """Typed access to the values Polychrome keeps between runs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else default_qsettings()

    # -- helpers -----------------------------------------------------------------------------
    def _get(self, key: str, default: Any, kind: type) -> Any:
        value = self.q.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _list(self, key: str) -> list[str]:
        value = self.q.value(key, [])
        if value is None:
            return []
        if isinstance(value, str):  # INI stores a one-element list as a plain string
            return [value] if value else []
        return [str(v) for v in value]

    # -- files -------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return self._list("files/recent")

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        files = files[:MAX_RECENT]
        self.q.setValue("files/recent", files)
        return files

    def remove_recent_file(self, path: str) -> None:
        self.q.setValue("files/recent", [f for f in self.recent_files() if f != path])

    def clear_recent_files(self) -> None:
        self.q.setValue("files/recent", [])

    def last_folder(self) -> str:
        return self._get("files/last_folder", str(Path.home()), str)

    def set_last_folder(self, folder: str | Path) -> None:
        self.q.setValue("files/last_folder", str(folder))

    def export_folder(self) -> str:
        return self._get("export/folder", "", str)

    def set_export_folder(self, folder: str | Path) -> None:
        self.q.setValue("export/folder", str(folder))

    def export_format(self) -> str:
        return self._get("export/format", "png", str)

    def set_export_format(self, fmt: str) -> None:
        self.q.setValue("export/format", fmt)

    def export_quality(self) -> int:
        return self._get("export/quality", 92, int)

    def set_export_quality(self, quality: int) -> None:
        self.q.setValue("export/quality", int(quality))

    # -- model -------------------------------------------------------------------------------
    def model(self, default: str) -> str:
        return self._get("model/name", default, str)

    def set_model(self, name: str) -> None:
        self.q.setValue("model/name", name)

    def device(self) -> str:
        d = self._get("model/device", "auto", str)
        return d if d in DEVICES else "auto"

    def set_device(self, device: str) -> None:
        self.q.setValue("model/device", device)

    # -- editing defaults --------------------------------------------------------------------
    def samples(self) -> int:
        return max(1, min(64, self._get("sampler/n", 8, int)))

    def set_samples(self, n: int) -> None:
        self.q.setValue("sampler/n", int(n))

    def recent_colors(self) -> list[str]:
        return self._list("brush/recent_colors")[:MAX_RECENT_COLORS]

    def set_recent_colors(self, colors: list[str]) -> None:
        self.q.setValue("brush/recent_colors", list(colors)[:MAX_RECENT_COLORS])

    def brush(self) -> dict[str, float]:
        return {
            "radius": self._get("brush/radius", 24.0, float),
            "hardness": self._get("brush/hardness", 0.5, float),
            "strength": self._get("brush/strength", 0.8, float),
            "reach": self._get("brush/reach", 1.0, float),
        }

    def set_brush(self, radius: float, hardness: float, strength: float, reach: float = 1.0) -> None:
        self.q.setValue("brush/reach", float(reach))
        self.q.setValue("brush/radius", float(radius))
        self.q.setValue("brush/hardness", float(hardness))
        self.q.setValue("brush/strength", float(strength))

    # -- window ------------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        v = self.q.value("window/geometry")
        return v if isinstance(v, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        v = self.q.value("window/state")
        return v if isinstance(v, QByteArray) else None

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def splitter_state(self, name: str) -> QByteArray | None:
        v = self.q.value(f"window/splitter_{name}")
        return v if isinstance(v, QByteArray) else None

    def set_splitter_state(self, name: str, state: QByteArray) -> None:
        self.q.setValue(f"window/splitter_{name}", state)

    def show_original(self) -> bool:
        return self._get("view/show_original", True, bool)

    def set_show_original(self, on: bool) -> None:
        self.q.setValue("view/show_original", bool(on))

    def sync(self) -> None:
        self.q.sync()
