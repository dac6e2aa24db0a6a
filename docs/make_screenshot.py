"""Take a screenshot of the real editor for the docs (run under a display, e.g. Xvfb).

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/make_screenshot.py \\
        ../shared/data/dev/mcmaster_0013.jpg --stroke 0.62,0.86,0.66,0.9 --colour "#2f5fa8" \\
        --split 50 --out docs/screenshot.jpg

The photo opens as a user would open it (a colour photo is read for its luminance);
``--stroke`` paints one hint (fractions of the photo's width and height, pairs of
x,y) in ``--colour``; ``--select`` shows another result; ``--split`` sets
the before/after line (percent), ``--no-original`` hides the original view. The
window is grabbed once the results and the full-resolution view have arrived.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photo", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--stroke", default=None, help="x0,y0,x1,y1,... as fractions of the photo")
    p.add_argument("--colour", default="#c0392b")
    p.add_argument("--radius", type=float, default=None, help="brush radius in photo pixels")
    p.add_argument("--split", type=int, default=0)
    p.add_argument("--select", type=int, default=0, help="the result on show")
    p.add_argument("--no-original", action="store_true")
    p.add_argument("--size", default="1440x900")
    p.add_argument("--quality", type=int, default=88)
    args = p.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtGui import QColor

    from polychrome.desktop.app import create_application
    from polychrome.desktop.brush import color_to_rgb
    from polychrome.desktop.main_window import MainWindow
    from polychrome.desktop.settings import AppSettings
    from polychrome.desktop.strokes import make_stroke
    from polychrome.desktop.undo_commands import AddStrokeCommand

    create_application()
    tmp = tempfile.mkdtemp(prefix="polychrome-shot-")
    settings = AppSettings(QSettings(f"{tmp}/settings.ini", QSettings.Format.IniFormat))
    w = MainWindow(settings=settings)
    width, height = (int(v) for v in args.size.split("x"))
    w.resize(width, height)
    w.show()
    full = []
    w.controller.detail_ready.connect(lambda i, px: full.append(i) if px.shape[-1] == 4 else None)

    loop = QEventLoop()  # its processEvents: PySide6 6.12's static one leaks a reference to None

    def wait(cond, timeout=600.0) -> None:
        t0 = time.monotonic()
        while not cond():
            if time.monotonic() - t0 > timeout:
                raise TimeoutError
            loop.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.005)

    def settled() -> bool:
        st = w.state
        n = st.settings.n
        return not w.controller.is_busy() and len(st.results) == n and w.grid.count() == n

    w.open_path(args.photo, ask=False)
    wait(settled)
    if args.no_original:
        w.act_show_original.setChecked(False)
    W, H = w.state.image.size
    if args.stroke:
        f = [float(v) for v in args.stroke.split(",")]
        points = [(f[i] * W, f[i + 1] * H) for i in range(0, len(f) - 1, 2)]
        b = w.brush
        radius = args.radius if args.radius else b.radius()
        b.set_values(radius, b.hardness_value(), b.strength_value())  # the panel shows what was painted
        b.set_color(QColor(args.colour))
        stroke = make_stroke(
            points, radius, color_to_rgb(QColor(args.colour)), b.strength_value(), b.hardness_value()
        )
        w.undo_stack.push(AddStrokeCommand(w.state, stroke))
        wait(lambda: w.controller.is_busy())
        wait(settled)
    if args.select:
        w.state.select(args.select)
        wait(settled)
    w.split_slider.setValue(args.split)
    n = len(full)
    w.controller._schedule_detail(0)
    wait(lambda: len(full) > n or w.controller._detail_runner.busy is False, 120)
    wait(lambda: not w.controller._detail_runner.busy, 120)
    for _ in range(20):
        loop.processEvents()
        time.sleep(0.02)
    img = w.grab().toImage()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok = img.save(str(args.out), None, args.quality)
    print(f"{args.out}: {img.width()}x{img.height()}, strokes {len(w.state.hints.strokes)}", file=sys.stderr)
    w.state.mark_clean()
    w.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
