"""What a user gets from the wheel: run from a folder outside the checkout, in a venv holding the
installed (non-editable) package, so the source tree cannot leak in.

Imports every module of the installed package, colourises a generated photo with
``polychrome colorize`` and opens the editor offscreen on it, with the shipped model.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def import_everything(checkout: Path) -> int:
    import polychrome

    roots = [Path(p).resolve() for p in polychrome.__path__]
    assert all(checkout not in r.parents and r != checkout for r in roots), f"source tree leaked in: {roots}"
    names = sorted(m.name for m in pkgutil.walk_packages(polychrome.__path__, "polychrome."))
    for name in names:
        importlib.import_module(name)
    for pkg in ("core.imageio", "desktop.model", "core.sampler", "core.models"):
        assert f"polychrome.{pkg}" in names, f"polychrome.{pkg} missing from the wheel"
    models = Path(importlib.import_module("polychrome.models").__file__).parent
    assert (models / "polychrome-lite0.safetensors").stat().st_size > 1_000_000
    assert (models / "polychrome-lite0.json").exists()
    icons = Path(importlib.import_module("polychrome.resources").__file__).parent / "icons"
    assert len(list(icons.glob("*.svg"))) > 10
    return len(names)


def main() -> int:
    checkout = Path(sys.argv[1]).resolve()
    n = import_everything(checkout)
    exe = Path(sys.executable).with_name("polychrome")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        yy, xx = np.mgrid[0:240, 0:320]
        gray = (128 + 90 * np.sin(xx / 23.0) * np.cos(yy / 31.0)).astype(np.uint8)
        Image.fromarray(gray).save(work / "photo.png")
        subprocess.run([str(exe), "colorize", str(work / "photo.png"), "-o", str(work / "out")],
                       check=True, cwd=work, timeout=600)
        outs = list((work / "out").glob("*.png"))
        assert outs, "colorize wrote nothing"
        with Image.open(outs[0]) as im:
            assert im.size == (320, 240) and im.mode == "RGB", (im.size, im.mode)
        # The editor, offscreen, on the photo: ends cleanly on SIGTERM once it is up.
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(work / "config"))
        proc = subprocess.Popen([str(exe), "-v", str(work / "photo.png")], cwd=work, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "results sampled" in line:  # the photo is open and its results are on show
                break
        proc.terminate()
        rest, _ = proc.communicate(timeout=300)
        text = "".join(seen) + rest
        assert any("results sampled" in ln for ln in seen), text[-3000:]
        assert proc.returncode == 0 and "Traceback" not in text, text[-3000:]
    print(f"installed wheel: {n} modules import, colorize wrote {outs[0].name}, the editor opened and closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
