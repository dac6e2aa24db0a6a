"""Ending the editor from outside (Ctrl+C in the terminal, SIGTERM from the desktop session)
shuts down as cleanly as closing the window, also while a large photo is still loading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

READY = "Ctrl+C and SIGTERM close the editor"


def _start_editor(photo, tmp_path) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path), OMP_NUM_THREADS="1")
    code = "import sys; from polychrome.desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, "-v", str(photo)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_load_closes_the_editor_cleanly(tmp_path, signum):
    # 24 MP: still loading (or running the network) when the signal arrives, as in the report.
    h, w = 4000, 6000
    yy, xx = np.mgrid[0:h, 0:w]
    photo = tmp_path / "big.jpg"
    Image.fromarray(((xx // 7 + yy // 5) % 256).astype(np.uint8)).save(photo, quality=80)
    proc = _start_editor(photo, tmp_path)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if READY in line:
            break
    assert any(READY in ln for ln in lines), "".join(lines)[-3000:]
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=180)
    text = "".join(lines) + out
    assert proc.returncode == 0, text[-3000:]
    assert "Traceback" not in text and "RuntimeError" not in text, text[-3000:]
    assert f"received {signal.Signals(signum).name}" in text
