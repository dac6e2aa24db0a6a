"""The editor's document and its rules, driven without Qt (``desktop/model`` imports no Qt;
``test_boundaries.py`` checks that in a fresh interpreter)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from polychrome.core.hints import HintDocument, Stroke
from polychrome.core.session import Session
from polychrome.desktop.model import (
    EditorDocument,
    Event,
    ResultItem,
    default_export_folder,
    errors,
    plan_export,
    resolve_conflicts,
)
from polychrome.desktop.model import session as rules

SHAPE = (3, 4)  # working resolution of the fake results


def results(n: int = 8) -> list[ResultItem]:
    return [
        ResultItem(i, torch.full((2, *SHAPE), float(i)), 100 + i, np.zeros((3, 4, 3), np.uint8))
        for i in range(n)
    ]


def opened(tmp_path: Path, n: int = 8) -> EditorDocument:
    """A document with a photo "open" (duck-typed: path and size are all the rules read) and n results."""
    doc = EditorDocument()
    doc.set_image(SimpleNamespace(path=tmp_path / "photo.png", size=(40, 30)), None)
    doc.set_prepared(SimpleNamespace(marginals=SimpleNamespace(shape=SHAPE)))
    doc.set_results(results(n))
    return doc


class Recorder:
    def __init__(self, doc: EditorDocument) -> None:
        self.seen: list[tuple] = []
        for name in ("image", "marginals", "results", "hints", "settings", "flags", "selection", "dirty"):
            getattr(doc, f"{name}_changed").connect(lambda *a, name=name: self.seen.append((name, *a)))

    def names(self) -> list[str]:
        return [s[0] for s in self.seen]


def test_events_are_plain_callbacks_in_connection_order():
    e, got = Event("x"), []
    first = e.connect(lambda v: got.append(("a", v)))
    e.connect(lambda v: got.append(("b", v)))
    e.emit(1)
    e.disconnect(first)
    e.emit(2)
    assert got == [("a", 1), ("b", 1), ("b", 2)] and len(e) == 1


def test_the_document_is_the_only_writer_of_its_fields():
    doc = EditorDocument()
    for name in ("selected", "dirty", "hints", "results", "starred", "session_path", "settings"):
        with pytest.raises(AttributeError, match="written only by"):
            setattr(doc, name, getattr(doc, name))


def test_star_and_lock_are_independent_and_fewer_results_release_flags(tmp_path):
    doc = opened(tmp_path)
    rec = Recorder(doc)
    doc.toggle_star(5)
    assert doc.starred == {5} and not doc.locked and doc.dirty  # starring does not lock
    assert rec.names() == ["flags", "dirty"] and rec.seen[-1] == ("dirty", True)
    doc.toggle_lock(5)
    assert doc.locked_seeds[5] == 105
    torch.testing.assert_close(doc.locked[5], torch.full((2, *SHAPE), 5.0))
    doc.toggle_lock(2)
    doc.toggle_star(5)  # unstarring keeps the lock
    assert set(doc.locked) == {2, 5} and doc.starred == set()
    doc.toggle_star(6)
    doc.update_settings(n=4)  # results 4..7 no longer exist: their flags go with them
    assert set(doc.locked) == {2} and doc.starred == set()
    rec.seen.clear()
    assert not doc.update_settings(n=4) and rec.seen == []  # no change, no event, no resample


def test_a_new_photo_drops_everything_derived_from_the_last(tmp_path):
    doc = opened(tmp_path)
    doc.insert_stroke(Stroke(points=[(1.0, 1.0)], radius=2.0, color=(1, 0, 0)))
    doc.toggle_lock(1)
    doc.select(3)
    doc.set_session_path(tmp_path / "s.polychrome")
    rec = Recorder(doc)
    doc.set_image(SimpleNamespace(path=tmp_path / "other.png", size=(8, 8)), None)
    assert (doc.prepared, doc.marginals, doc.results, doc.locked, doc.selected) == (None, None, [], {}, 0)
    assert not doc.hints.strokes and doc.session_path is None and not doc.dirty
    assert rec.names() == ["image", "hints", "results", "flags", "dirty"]


def test_selection_steps_wrap_and_stay_in_range(tmp_path):
    doc = opened(tmp_path, 3)
    rec = Recorder(doc)
    doc.step_selection(-1)
    assert doc.selected == 2 and rec.seen == [("selection", 2)]
    doc.select(7)  # out of range: ignored
    doc.set_results(results(2))  # fewer results: the selection follows
    assert doc.selected == 1


def test_session_round_trip_through_the_rules(tmp_path):
    doc = opened(tmp_path)
    doc.set_hints(HintDocument(strokes=[Stroke(points=[(2.0, 3.0)], radius=4.0, color=(0, 0, 1))]))
    doc.update_settings(seed=77)
    doc.toggle_lock(2)
    doc.toggle_star(4)
    doc.select(4)
    extra = rules.session_extra({"radius": 9, "hardness": 0.2, "strength": 0.7, "reach": 1.5}, "#112233")
    session = rules.build_session(doc, "polychrome-small", extra)
    assert session.starred == [4] and set(session.locked) == {2} and session.selected == 4

    new = EditorDocument()
    new.set_image(SimpleNamespace(path=tmp_path / "photo.png", size=(40, 30)), None)
    notices = rules.apply_session_document(new, session, "polychrome-lite0")
    assert "polychrome-small" in notices[0] and new.settings.seed == 77 and len(new.hints.strokes) == 1
    assert not new.dirty  # reading a session is not an edit
    new.set_prepared(SimpleNamespace(marginals=SimpleNamespace(shape=SHAPE)))
    assert rules.apply_session_results(new, session, tmp_path / "s.polychrome") == []
    assert set(new.locked) == {2} and new.starred == {4} and new.selected == 4 and not new.dirty
    assert new.session_path == tmp_path / "s.polychrome"
    brush, color = rules.brush_from_session(session, {"radius": 1, "hardness": 1, "strength": 1, "reach": 1})
    assert brush == {"radius": 9.0, "hardness": 0.2, "strength": 0.7, "reach": 1.5} and color == "#112233"


def test_session_parts_that_do_not_fit_are_dropped_with_a_notice(tmp_path):
    doc = opened(tmp_path)
    bad = Session(
        image_path=tmp_path / "photo.png",
        hints={"strokes": "not a list"},
        locked={1: np.zeros((2, 9, 9), np.float32), 2: np.zeros((2, *SHAPE), np.float32)},
        starred=[3, 99],
        extra={"brush": {"radius": "wide"}},
    )
    notices = rules.apply_session_document(doc, bad, "m")
    assert notices and "hints could not be read" in notices[0] and not doc.hints.strokes
    notices = rules.apply_session_results(doc, bad, tmp_path / "s.polychrome")
    assert "could not be restored" in notices[0] and set(doc.locked) == {2} and doc.starred == {3}
    current = {"radius": 5.0, "hardness": 0.5, "strength": 0.8, "reach": 1.0}
    assert rules.brush_from_session(bad, current) == (current, None)
    # Another model's working resolution: its locks are released.
    doc.set_prepared(SimpleNamespace(marginals=SimpleNamespace(shape=(6, 8))))
    assert rules.release_mismatched_locks(doc) and not doc.locked


def test_export_plan_numbers_like_the_grid_and_never_overwrites_the_original(tmp_path):
    doc = opened(tmp_path)
    items = plan_export(doc, [0, 2, 42], tmp_path, "png")
    assert [it.dest.name for it in items] == ["photo_colour_1.png", "photo_colour_3.png"]  # 42: no result
    (tmp_path / "photo_colour_3.png").write_bytes(b"x")
    out = resolve_conflicts(items, tmp_path / "photo.png")
    assert [it.dest.name for it in out] == ["photo_colour_1.png", "photo_colour_3 (2).png"]
    # Allowed to overwrite: kept; but never the photo itself, and never twice in one batch.
    (tmp_path / "photo.png").write_bytes(b"original")
    items[1].overwrite = True
    items[0].dest, items[0].overwrite = tmp_path / "photo.png", True
    twice = [*items, plan_export(doc, [2], tmp_path, "png")[0]]
    out = resolve_conflicts(twice, tmp_path / "photo.png")
    assert (
        out[0].dest != tmp_path / "photo.png"
        and out[1].dest.name == "photo_colour_3.png"
        and out[1].overwrite
    )
    assert out[2].dest.name not in {out[0].dest.name, out[1].dest.name}


def test_default_export_folder(tmp_path):
    pasted = tmp_path / "cache" / "pasted"
    assert default_export_folder(tmp_path / "a" / "p.png", "", "/last", pasted) == tmp_path / "a"
    assert default_export_folder(tmp_path / "a" / "p.png", "/saved", "/last", pasted) == Path("/saved")
    assert default_export_folder(pasted / "p.png", "", "/last", pasted) == Path("/last")


def test_failures_become_sentences():
    kind, msg, detail = errors.load_failure(FileNotFoundError(2, "No such file"), "x.png", "tb")
    assert kind == errors.ErrorKind.LOAD and "x.png" in msg and detail == ""
    assert (
        errors.network_failure(RuntimeError("CUDA out of memory"), "m", "tb")[0]
        == errors.ErrorKind.OUT_OF_MEMORY
    )
    assert errors.network_failure(KeyError("m"), "m", "tb")[0] == errors.ErrorKind.MODEL_MISSING
    assert errors.export_failure(OSError("disk full"), "tb")[2] == ""
