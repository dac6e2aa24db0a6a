"""``polychrome PHOTO`` opens the photo like ``polychrome open PHOTO``; commands keep their names."""

from __future__ import annotations

import pytest

import polychrome.desktop.app as app_module
from polychrome.desktop import cli


@pytest.fixture
def opened(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(app_module, "run_app", lambda argv=None: calls.append(argv) or 0)
    return calls


def test_a_bare_photo_opens_in_the_editor(opened, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    assert cli.main([str(photo)]) == 0
    assert cli.main(["-v", str(photo)]) == 0
    assert cli.main(["open", str(photo)]) == 0
    assert cli.main([str(tmp_path / "not-yet.polychrome")]) == 0  # a path by its suffix: the editor says why
    assert opened == [[str(photo)]] * 3 + [[str(tmp_path / "not-yet.polychrome")]]


def test_no_argument_opens_an_empty_editor(opened):
    assert cli.main([]) == 0
    assert opened == [None]


def test_commands_keep_their_names_and_a_typo_is_not_opened(opened, capsys):
    with pytest.raises(SystemExit):
        cli.main(["weights", "--help"])
    assert "weights" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.main(["colourize"])  # no suffix, no such file: argparse lists the commands
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert opened == []


def test_the_rewrite_touches_only_a_leading_path():
    commands = {"colorize", "open", "train"}
    assert cli.with_implicit_open(["colorize", "a.jpg"], commands) == ["colorize", "a.jpg"]
    assert cli.with_implicit_open(["a.jpg", "b.tif"], commands) == ["open", "a.jpg", "b.tif"]
    assert cli.with_implicit_open(["--help"], commands) == ["--help"]
