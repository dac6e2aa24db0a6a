"""core.session: JSON + sidecar round trip, portability, and clear errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from polychrome.core.session import Session, SessionError, load_session, save_session, sidecar_path


def _session(image, rng) -> Session:
    return Session(
        image_path=image,
        model="polychrome-small",
        sampler={"n": 6, "temperature": 0.5, "seed": 42},
        hints={"strokes": [{"points": [[1.0, 2.0], [3.0, 4.0]], "radius": 5.0, "color": [1, 0, 0]}]},
        locked={
            2: rng.normal(size=(2, 4, 5)).astype(np.float32),
            4: rng.normal(size=(2, 4, 5)).astype(np.float32),
        },
        locked_seeds={2: 1234, 4: 99},
        starred=[4, 2],
        selected=2,
        extra={"brush": {"radius": 12}},
    )


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "photos" / "photo.png"
    p.parent.mkdir()
    p.write_bytes(b"not decoded by the session module")
    return p


def test_round_trip_keeps_everything(tmp_path, photo, rng):
    s = _session(photo, rng)
    path = save_session(tmp_path / "edit.polychrome", s)
    assert sidecar_path(path).is_file()
    back = load_session(path)
    assert back.image_path == photo.resolve()
    assert back.model == s.model and back.sampler == s.sampler and back.hints == s.hints
    assert back.starred == [2, 4] and back.selected == 2 and back.extra == s.extra
    assert back.locked_seeds == s.locked_seeds
    assert set(back.locked) == {2, 4}
    for i in s.locked:
        np.testing.assert_array_equal(back.locked[i], s.locked[i])
        assert back.locked[i].dtype == np.float32


def test_moved_folder_resolves_image_relative_to_session(tmp_path, photo, rng):
    save_session(tmp_path / "edit.polychrome", _session(photo, rng))
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.move(str(tmp_path), str(moved))
    back = load_session(moved / "edit.polychrome")
    assert back.image_path == (moved / "photos" / "photo.png").resolve()
    assert back.image_path.is_file()


def test_unlocking_everything_removes_stale_sidecar(tmp_path, photo, rng):
    path = save_session(tmp_path / "edit.polychrome", _session(photo, rng))
    s = _session(photo, rng)
    s.locked, s.locked_seeds = {}, {}
    save_session(path, s)
    assert not sidecar_path(path).exists()
    assert load_session(path).locked == {}


def test_errors_are_session_errors(tmp_path, photo, rng):
    with pytest.raises(SessionError, match="not found"):
        load_session(tmp_path / "missing.polychrome")
    bad = tmp_path / "bad.polychrome"
    bad.write_text("{ not json")
    with pytest.raises(SessionError):
        load_session(bad)
    other = tmp_path / "other.polychrome"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(SessionError, match="not a Polychrome session"):
        load_session(other)
    path = save_session(tmp_path / "edit.polychrome", _session(photo, rng))
    doc = json.loads(path.read_text())
    doc["version"] = 999
    newer = tmp_path / "newer.polychrome"
    newer.write_text(json.dumps(doc))
    with pytest.raises(SessionError, match="newer"):
        load_session(newer)
    sidecar_path(path).unlink()
    with pytest.raises(SessionError, match="missing"):
        load_session(path)
