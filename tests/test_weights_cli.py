"""Official weights: import, (offline) download, verification, conversion, and the CLI.

Nothing here touches the network: ``urllib.request.urlopen`` is replaced wherever a
download is attempted. The weights files are official-layout state dicts made from
freshly initialised nets, named the torch.hub way after their own sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from polychrome.core.commands.weights import OFFICIAL_NAMES
from polychrome.core.models import download, registry
from polychrome.core.models.download import (
    OFFICIAL,
    DownloadError,
    WeightsError,
    check_layout,
    download_official,
    hash_prefix_in_name,
    import_official,
)
from polychrome.core.models.polynet import PolyNet
from polychrome.core.models.zhang import ECCV16Net, SIGGRAPH17Net, siggraph17_grid
from polychrome.desktop.cli import main

# 313 distinct grid points standing in for Zhang's centres, stored the way the release does.
FAKE_CENTRES = siggraph17_grid()[100:413]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_hub_style(state: dict, folder: Path, stem: str) -> Path:
    """torch.save ``state`` as ``folder/stem-<sha256[:8]>.pth``."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{stem}.pth"
    torch.save(state, tmp)
    return tmp.rename(folder / f"{stem}-{_sha256(tmp)[:8]}.pth")


@pytest.fixture(scope="module")
def eccv16_pth(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    state = ECCV16Net().state_dict()
    state["model_out.weight"] = torch.from_numpy(FAKE_CENTRES.T / 110.0).float()[:, :, None, None]
    return _save_hub_style(state, tmp_path_factory.mktemp("eccv16"), "eccv16")


@pytest.fixture(scope="module")
def siggraph17_pth(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return _save_hub_style(SIGGRAPH17Net().state_dict(), tmp_path_factory.mktemp("siggraph17"), "siggraph17")


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "user-models"
    monkeypatch.setattr(registry, "user_models_dir", lambda: d)
    return d


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    tried: list[str] = []

    def refuse(url, *args, **kwargs):
        tried.append(url)
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def _as_official(monkeypatch, name: str, file: Path) -> str:
    """Pretend ``file`` is the published release of ``name``; returns the fake URL."""
    url = f"https://weights.invalid/{file.name}"
    monkeypatch.setitem(OFFICIAL, name, replace(OFFICIAL[name], url=url))
    return url


class _FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, length: int | None = None) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data) if length is None else length)}


def _serve(monkeypatch, data: bytes, length: int | None = None) -> list[str]:
    fetched: list[str] = []

    def urlopen(url, *args, **kwargs):
        fetched.append(url)
        return _FakeResponse(data, length)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return fetched


def test_official_urls_and_hash_prefixes():
    # From richzhang/colorization, colorizers/eccv16.py and colorizers/siggraph17.py.
    assert OFFICIAL["eccv16"].url == (
        "https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth"
    )
    assert (
        OFFICIAL["siggraph17"].url == "https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth"
    )
    assert OFFICIAL["eccv16"].sha256_prefix == "9b330a0b"
    assert OFFICIAL["siggraph17"].sha256_prefix == "df00044c"
    assert tuple(OFFICIAL) == OFFICIAL_NAMES
    assert hash_prefix_in_name("weights.pth") is None
    assert hash_prefix_in_name("/x/my-model-v2-abcdef12.pth") == "abcdef12"


@pytest.mark.slow
def test_import_eccv16_then_load_and_run(eccv16_pth, user_dir):
    path = import_official("eccv16", eccv16_pth, allow_unofficial=True)
    assert path == user_dir / "eccv16.safetensors"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["sha256"] == _sha256(eccv16_pth)
    assert card["source"] == "imported" and card["official"] is False
    assert card["source_url"] == OFFICIAL["eccv16"].url
    assert "BSD-2-Clause" in card["licence"] and "zhang2016colorful" in card["citation"]
    assert card["logit_scale"] == pytest.approx(2.606)
    # The converted file holds the official keys, unchanged.
    original = torch.load(eccv16_pth, weights_only=True)
    converted = load_file(str(path))
    assert set(converted) == set(original)
    torch.testing.assert_close(converted["model8.6.weight"], original["model8.6.weight"])

    assert "eccv16" in registry.available_models()
    model = registry.load_model("eccv16", device="cpu")
    assert isinstance(model, ECCV16Net) and not model.training
    np.testing.assert_allclose(model.centres.numpy(), FAKE_CENTRES, atol=1e-4)
    with torch.no_grad():
        logits = model(torch.rand(1, 1, 32, 32) * 100)
    assert logits.shape == (1, 313, 8, 8)


@pytest.mark.slow
def test_import_with_the_official_hash_needs_no_flag(eccv16_pth, user_dir, monkeypatch):
    _as_official(monkeypatch, "eccv16", eccv16_pth)
    renamed = user_dir.parent / "downloaded-elsewhere.pth"  # a name without a hash is fine
    shutil.copy(eccv16_pth, renamed)
    path = import_official("eccv16", renamed)
    assert json.loads(path.with_suffix(".json").read_text())["official"] is True


def test_import_refuses_a_file_that_is_not_the_release(eccv16_pth, user_dir):
    with pytest.raises(WeightsError, match=r"not the official eccv16 release.*9b330a0b.*--allow-unofficial"):
        import_official("eccv16", eccv16_pth)
    assert not user_dir.exists() or not any(user_dir.iterdir())


def test_import_refuses_a_hash_that_contradicts_the_name(eccv16_pth, tmp_path, user_dir):
    wrong = tmp_path / "colorization_release_v2-9b330a0b.pth"
    wrong.symlink_to(eccv16_pth)
    with pytest.raises(WeightsError, match="name says the sha256 starts with 9b330a0b"):
        import_official("eccv16", wrong, allow_unofficial=True)
    assert not user_dir.exists()


def test_wrong_keys_give_a_clear_error(tmp_path, user_dir):
    small = {"model1.0.weight": torch.zeros(64, 1, 3, 3), "model9.0.weight": torch.zeros(3)}
    f = _save_hub_style(small, tmp_path, "partial")
    with pytest.raises(WeightsError, match="does not match the eccv16 architecture: 74 missing keys") as e:
        import_official("eccv16", f, allow_unofficial=True)
    assert "model1.2.weight" in str(e.value) and "1 unexpected keys (model9.0.weight)" in str(e.value)
    assert not user_dir.exists()


def test_check_layout_names_renamed_and_reshaped_tensors():
    torch.manual_seed(0)
    with torch.device("meta"):
        state = SIGGRAPH17Net().state_dict()
    state["model_class.0.weight"] = torch.empty(313, 256, 1, 1, device="meta")
    state["model_clazz.0.bias"] = state.pop("model_class.0.bias")
    del state["model1.4.num_batches_tracked"]  # optional: older PyTorch did not save it
    with pytest.raises(WeightsError) as e:
        check_layout(state, "siggraph17", "x.pth")
    msg = str(e.value)
    assert "1 missing keys (model_class.0.bias)" in msg
    assert "1 unexpected keys (model_clazz.0.bias)" in msg
    assert "model_class.0.weight (313, 256, 1, 1) instead of (529, 256, 1, 1)" in msg
    assert "num_batches_tracked" not in msg


class _Arbitrary:
    """Something only a full (unsafe) unpickler would rebuild."""


def test_unsafe_or_foreign_files_are_refused(tmp_path, user_dir):
    pickled = tmp_path / "evil.pth"
    torch.save({"model1.0.weight": _Arbitrary()}, pickled)
    with pytest.raises(WeightsError, match="cannot be loaded safely|can be loaded safely"):
        import_official("eccv16", pickled, allow_unofficial=True)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="loaded safely"):
        import_official("eccv16", junk, allow_unofficial=True)
    nested = tmp_path / "nested.pth"
    torch.save({"state_dict": {"a": torch.zeros(1)}}, nested)
    with pytest.raises(WeightsError, match="does not hold a state dict"):
        import_official("eccv16", nested, allow_unofficial=True)
    with pytest.raises(FileNotFoundError):
        import_official("eccv16", tmp_path / "missing.pth")


def test_download_without_network_explains_the_offline_route(no_network, user_dir):
    with pytest.raises(DownloadError) as e:
        download_official("eccv16", progress=False)
    msg = str(e.value)
    assert "no network connection" in msg
    assert OFFICIAL["eccv16"].url in msg
    assert "polychrome weights import eccv16 FILE.pth" in msg
    assert no_network == [OFFICIAL["eccv16"].url]
    assert not user_dir.exists()


@pytest.mark.slow
def test_download_streams_verifies_and_converts(siggraph17_pth, user_dir, monkeypatch):
    url = _as_official(monkeypatch, "siggraph17", siggraph17_pth)
    fetched = _serve(monkeypatch, siggraph17_pth.read_bytes())
    path = download_official("siggraph17", progress=False)
    assert fetched == [url]
    assert path == user_dir / "siggraph17.safetensors"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["source"] == "downloaded" and card["official"] is True
    assert card["sha256"] == _sha256(siggraph17_pth) and card["source_url"] == url
    assert sorted(p.name for p in user_dir.iterdir()) == ["siggraph17.json", "siggraph17.safetensors"]
    model = registry.load_model("siggraph17", device="cpu")
    assert isinstance(model, SIGGRAPH17Net)
    with torch.no_grad():
        assert model(torch.rand(1, 1, 32, 32) * 100).shape == (1, 529, 8, 8)


def test_download_with_a_wrong_hash_writes_nothing(user_dir, monkeypatch):
    _serve(monkeypatch, b"tampered bytes")
    with pytest.raises(WeightsError, match="not 9b330a0b"):
        download_official("eccv16", progress=False)
    assert list(user_dir.iterdir()) == []  # the temporary .part file is gone too


def test_truncated_download_is_an_error(user_dir, monkeypatch):
    _serve(monkeypatch, b"only part of it", length=10_000)
    with pytest.raises(DownloadError, match="stopped after 15 of 10000 bytes"):
        download_official("eccv16", progress=False)
    assert list(user_dir.iterdir()) == []


def test_http_errors_are_reported(user_dir, monkeypatch):
    def urlopen(url, *args, **kwargs):
        raise urllib.error.HTTPError(url, 403, "Forbidden", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(DownloadError, match="HTTP 403 Forbidden.*polychrome weights import siggraph17"):
        download.download_official("siggraph17", progress=False)


def test_cli_list(user_dir, capsys):
    model = PolyNet()
    registry.save_model(model, user_dir / "my-small.safetensors", {"arch": "polychrome-small"})
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "SOURCE", "ARCH", "Q", "PATH"]
    row = next(line for line in out if line.startswith("my-small"))
    assert row.split() == [
        "my-small",
        "downloaded",
        "polychrome-small",
        str(model.num_bins),
        str(user_dir / "my-small.safetensors"),
    ]
    assert "Not on this machine: eccv16, siggraph17" in out[-1]


@pytest.mark.slow
def test_cli_import_then_list(siggraph17_pth, user_dir, capsys):
    assert main(["weights", "import", "siggraph17", str(siggraph17_pth), "--allow-unofficial"]) == 0
    assert capsys.readouterr().out.strip() == f"siggraph17: {user_dir / 'siggraph17.safetensors'}"
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("siggraph17"))
    assert row.split()[1:4] == ["imported", "(unofficial)", "siggraph17"] and row.split()[4] == "529"
    assert "Not on this machine: eccv16 " in out


def test_cli_errors_are_one_line_with_exit_code_1(no_network, user_dir, tmp_path, capsys):
    assert main(["weights", "download", "eccv16", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("polychrome weights: error: no network connection")
    assert "polychrome weights import eccv16 FILE.pth" in err and "Traceback" not in err

    assert main(["weights", "import", "siggraph17", str(tmp_path / "nope.pth")]) == 1
    err = capsys.readouterr().err
    assert err == f"polychrome weights: error: no such file: {tmp_path / 'nope.pth'}\n"

    (tmp_path / "x.pth").write_bytes(b"junk")
    assert main(["weights", "import", "siggraph17", str(tmp_path / "x.pth")]) == 1
    assert "not the official siggraph17 release" in capsys.readouterr().err
