"""`polychrome bench --gui` still drives the window end to end (a smoke test on a tiny photo with
the test model; the numbers themselves are the benchmark's to report, never asserted here)."""

from __future__ import annotations

from polychrome.desktop import bench_gui


def test_the_gui_benchmarks_run_on_a_small_photo(qtbot, model, tmp_path, messages):
    photo = bench_gui.make_photo(tmp_path, 0.02, None)  # synthetic, about 170 x 115
    loader = lambda name, dev: model  # noqa: E731
    stall = bench_gui.stall_bench(photo, tmp_path, loader=loader)
    assert stall["worst_ms"] > 0 and stall["open_to_full_view_s"] >= stall["open_to_network_s"] > 0
    stroke = bench_gui.stroke_bench(photo, tmp_path, repeats=2, loader=loader)
    assert stroke["repeats"] == 2 and stroke["max_ms"] >= stroke["median_ms"] > 0
