"""The hint document: brush strokes, global saturation and palette, saved as JSON.

Format (every field but ``points``, ``radius`` and ``color`` of a stroke is optional;
the defaults are the class defaults below and are listed in the README)::

    {"version": 2, "saturation": 1.0, "palette": [[r, g, b], ...], "palette_strength": 0.5,
     "strokes": [{"points": [[x, y], ...], "radius": 12, "color": [r, g, b],
                  "strength": 1.0, "hardness": 0.5, "reach": 1.0, "id": "...", "ab": null}]}

``version`` defaults to :data:`FORMAT_VERSION` when absent (hand-written files). Version 1
called ``reach`` ``spread``; that key is still read (``reach`` wins when both are given).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

if TYPE_CHECKING:
    from .sampler import SamplerSettings

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: the stroke's reach was stored as "spread"


def _finite(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def _in_range(x: Any, name: str, lo: float, hi: float = math.inf) -> float:
    v = _finite(x, name)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {v}")
    return v


def _rgb(x: Any, name: str) -> tuple[float, float, float]:
    if not isinstance(x, list | tuple) or len(x) != 3:
        raise ValueError(f"{name} must be 3 sRGB values in [0, 1], got {x!r}")
    r, g, b = (_in_range(v, name, 0.0, 1.0) for v in x)
    return r, g, b


@dataclass
class Stroke:
    """One brush stroke: a polyline in full-resolution image pixels.

    ``color`` is sRGB in [0, 1] and means "this hue and saturation": at every pixel it
    reaches, the colour is re-lit to that pixel's L* (chroma proportional to L*, then
    reduced into the sRGB gamut there). ``ab``, when given, is the target ab *at the
    painted lightness* and takes precedence over ``color``. ``reach`` scales how far the
    colour flows along the object beyond the paint (1 = the whole object, 0 = the paint
    only; the editor's *Reach* slider, 100 % = 1).
    """

    points: list[tuple[float, float]]
    radius: float
    color: tuple[float, float, float]
    strength: float = 1.0  # 0..1: how strongly results are pulled to the colour; 1 = guaranteed
    hardness: float = 0.5  # 0 = soft brush edge, 1 = hard
    reach: float = 1.0  # propagation length multiplier (0 = paint only)
    id: str = field(default_factory=lambda: uuid4().hex)
    ab: tuple[float, float] | None = None

    def validate(self) -> None:
        """Raise ValueError on malformed fields."""
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("stroke id must be a non-empty string")
        if not isinstance(self.points, list | tuple) or not self.points:
            raise ValueError(f"stroke {self.id}: points must be a non-empty list of (x, y)")
        for pt in self.points:
            if not isinstance(pt, list | tuple) or len(pt) != 2:
                raise ValueError(f"stroke {self.id}: every point must be (x, y), got {pt!r}")
            _finite(pt[0], "x"), _finite(pt[1], "y")
        if _finite(self.radius, "radius") <= 0:
            raise ValueError(f"stroke {self.id}: radius must be positive")
        _rgb(self.color, "color")
        _in_range(self.strength, "strength", 0.0, 1.0)
        _in_range(self.hardness, "hardness", 0.0, 1.0)
        _in_range(self.reach, "reach", 0.0)
        if self.ab is not None:
            if not isinstance(self.ab, list | tuple) or len(self.ab) != 2:
                raise ValueError(f"stroke {self.id}: ab must be (a, b) or None")
            _finite(self.ab[0], "a"), _finite(self.ab[1], "b")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "points": [[float(x), float(y)] for x, y in self.points],
            "radius": float(self.radius),
            "color": [float(v) for v in self.color],
            "strength": float(self.strength),
            "hardness": float(self.hardness),
            "reach": float(self.reach),
            "ab": None if self.ab is None else [float(v) for v in self.ab],
        }

    @classmethod
    def from_dict(cls, d: Any) -> Stroke:
        if not isinstance(d, dict):
            raise ValueError(f"a stroke must be a JSON object, got {type(d).__name__}")
        missing = {"points", "radius", "color"} - d.keys()
        if missing:
            raise ValueError(f"stroke is missing {sorted(missing)}")
        pts = d["points"]
        if not isinstance(pts, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in pts):
            raise ValueError("stroke points must be a list of [x, y]")
        color = d["color"]
        ab = d.get("ab")
        stroke = cls(
            points=[(p[0], p[1]) for p in pts],
            radius=d["radius"],
            color=tuple(color) if isinstance(color, list | tuple) else color,
            strength=d.get("strength", 1.0),
            hardness=d.get("hardness", 0.5),
            reach=d["reach"] if "reach" in d else d.get("spread", 1.0),  # "spread": the version-1 name
            id=d.get("id") or uuid4().hex,
            ab=tuple(ab) if isinstance(ab, list | tuple) else ab,
        )
        stroke.validate()
        return stroke


@dataclass
class HintDocument:
    """All hints of one image: strokes, global saturation, palette. Saved as versioned JSON."""

    strokes: list[Stroke] = field(default_factory=list)
    saturation: float = 1.0  # multiplies the ab of every result (see sampler_settings)
    palette: list[tuple[float, float, float]] = field(default_factory=list)  # sRGB favoured image-wide
    palette_strength: float = 0.5

    def validate(self) -> None:
        """Raise ValueError on malformed fields or duplicate stroke ids."""
        ids = set()
        for s in self.strokes:
            if not isinstance(s, Stroke):
                raise ValueError(f"strokes must be Stroke objects, got {type(s).__name__}")
            s.validate()
            if s.id in ids:
                raise ValueError(f"duplicate stroke id {s.id!r}")
            ids.add(s.id)
        _in_range(self.saturation, "saturation", 0.0)
        _in_range(self.palette_strength, "palette_strength", 0.0)
        for c in self.palette:
            _rgb(c, "palette colour")

    # -- editing
    def add(self, stroke: Stroke) -> None:
        """Append a stroke (ValueError if invalid or its id is taken)."""
        stroke.validate()
        if any(s.id == stroke.id for s in self.strokes):
            raise ValueError(f"duplicate stroke id {stroke.id!r}")
        self.strokes.append(stroke)

    def remove(self, stroke_id: str) -> Stroke:
        """Remove and return the stroke with this id (KeyError if absent)."""
        for i, s in enumerate(self.strokes):
            if s.id == stroke_id:
                return self.strokes.pop(i)
        raise KeyError(stroke_id)

    def copy(self) -> HintDocument:
        """Deep copy (for undo stacks)."""
        return copy.deepcopy(self)

    def sampler_settings(self, settings: SamplerSettings) -> SamplerSettings:
        """``settings`` with this document's saturation folded in (multiplied)."""
        return replace(settings, saturation=settings.saturation * self.saturation)

    # -- serialisation
    def to_dict(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "saturation": float(self.saturation),
            "palette": [[float(v) for v in c] for c in self.palette],
            "palette_strength": float(self.palette_strength),
            "strokes": [s.to_dict() for s in self.strokes],
        }

    @classmethod
    def from_dict(cls, d: Any) -> HintDocument:
        if not isinstance(d, dict):
            raise ValueError(f"a hint document must be a JSON object, got {type(d).__name__}")
        version = d.get("version", FORMAT_VERSION)  # hand-written files may leave it out
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            raise ValueError(
                f"unsupported hint document version {version!r} "
                f"(this Polychrome reads {', '.join(map(str, READABLE_VERSIONS))})"
            )
        strokes, palette = d.get("strokes", []), d.get("palette", [])
        if not isinstance(strokes, list) or not isinstance(palette, list):
            raise ValueError("'strokes' and 'palette' must be lists")
        doc = cls(
            strokes=[Stroke.from_dict(s) for s in strokes],
            saturation=d.get("saturation", 1.0),
            palette=[_rgb(c, "palette colour") for c in palette],
            palette_strength=d.get("palette_strength", 0.5),
        )
        doc.validate()
        return doc

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | Path) -> HintDocument:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from e
        return cls.from_dict(data)
