"""`polychrome bench --quick`: every stage timed next to its baseline, in a few seconds."""

from __future__ import annotations

import numpy as np
import torch

from polychrome.core import benchmark as B
from polychrome.core.models import build_model
from polychrome.desktop.cli import main


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("polychrome-small").eval()


def test_synthetic_l_is_deterministic_and_in_range():
    a, b = B.synthetic_l(60, 80, seed=3), B.synthetic_l(60, 80, seed=3)
    assert a.shape == (60, 80) and a.dtype == np.float32 and np.array_equal(a, b)
    assert 0.0 <= a.min() and a.max() <= 100.0 and a.std() > 5


def test_quick_benchmark_rows_and_baselines():
    res = B.run_benchmark(_model(), [torch.device("cpu")], B.BenchConfig.quick())
    stages = [r.stage for r in res.rows]
    assert any(s.startswith("network") for s in stages)
    assert any(s.startswith("sampler") for s in stages)
    assert any(s.startswith("hint") for s in stages)
    assert any("export" in s for s in stages)
    for r in res.rows:
        assert r.ms > 0
        if not r.stage.startswith("network"):
            assert r.baseline_ms and r.baseline_ms > 0 and r.ratio > 0
    targets = [r for r in res.rows if r.target_ms is not None]
    assert {r.target_ms for r in targets} == {B.HINT_TARGET_MS, B.EXPORT_TARGET_MS}
    assert any("numpy" in k for k in res.memory) and any("RSS" in k for k in res.memory)
    md = res.to_markdown()
    assert "| Stage | Device | Median ms |" in md and "≤ 150 ms" in md and "≤ 2000 ms" in md


def test_bench_cli_quick(monkeypatch, capsys, tmp_path):
    model = _model()
    monkeypatch.setattr("polychrome.core.models.load_model", lambda name, device: model)
    out = tmp_path / "RESULTS.md"
    assert main(["bench", "--quick", "--device", "cpu", "--format", "jpg", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "Command: `polychrome bench --device cpu" in table and "export JPG" in table
    assert "<!-- bench:begin -->" in out.read_text()
    assert main(["bench", "--repeats", "0"]) == 2
