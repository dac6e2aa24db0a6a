"""Export-plan rules: where each result goes, and how name conflicts are settled.

Files get the default names (numbered like the grid: 1 is the best guess); nothing is
overwritten unless the user said so for that file, the original photo never is, and
two items of one batch never land on the same name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from polychrome.core.export import default_export_name, unique_path

from .document import EditorDocument


@dataclass
class ExportItem:
    index: int  # among the results (0 = the best guess)
    ab: torch.Tensor
    dest: Path
    overwrite: bool
    seed: int | None = None  # the result's sampling seed (negative or None: the best guess)


def default_export_folder(image_path: Path, saved_folder: str, last_folder: str, pasted: Path) -> Path:
    """The folder the export dialog proposes: the last export folder, else the photo's own;
    a pasted photo's folder is a cache, so it falls back to the last folder used."""
    if saved_folder:
        return Path(saved_folder)
    if Path(image_path).parent == pasted:
        return Path(last_folder)
    return Path(image_path).parent


def plan_export(doc: EditorDocument, indices: list[int], folder: Path, fmt: str) -> list[ExportItem]:
    """Destination per result (default names); ``overwrite`` is False everywhere."""
    image = doc.image
    assert image is not None
    items = []
    for i in indices:
        item = doc.result(i)
        if item is None:
            continue
        name = default_export_name(Path(image.path), i + 1, fmt)
        items.append(ExportItem(i, item.ab, Path(folder) / name, overwrite=False, seed=item.seed))
    return items


def resolve_conflicts(items: list[ExportItem], original: Path | None) -> list[ExportItem]:
    """Rename on conflict unless the item may overwrite (the user said so); never ``original``."""
    original = Path(original).resolve() if original is not None else None
    out: list[ExportItem] = []
    taken: set[Path] = set()

    def blocked(p: Path, overwrite: bool) -> bool:
        r = p.resolve()
        return r == original or r in taken or (p.exists() and not overwrite)

    for it in items:
        dest = Path(it.dest)
        overwrite = it.overwrite
        if blocked(dest, overwrite):
            overwrite = False
            candidate = unique_path(dest)
            k = 2
            while blocked(candidate, False):
                candidate = dest.with_name(f"{dest.stem} ({k}){dest.suffix}")
                k += 1
            dest = candidate
        taken.add(dest.resolve())
        out.append(dataclasses.replace(it, dest=dest, overwrite=overwrite and dest.exists()))
    return out
