"""An object painted in two clearly different colours is cut at its parts' borders.

Propagator-level: one flat object (no luminance edge anywhere) made of two parts, so only
the parts' labels can tell where one colour should stop and the other begin.
"""

from __future__ import annotations

import numpy as np
import pytest

from polychrome.core.propagation import PropagationParams, Propagator

H, W = 20, 30
PARAMS = PropagationParams()
HINT = 1e3


def _one_object_two_parts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = np.full((H, W), 55.0)
    regions = np.zeros((H, W), np.int64)  # one object...
    parts = np.zeros((H, W), np.int64)
    parts[:, W // 2 :] = 1  # ...of two halves
    return L, regions, parts


def _hints(
    left: tuple[float, float], right: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dab near each end: hint weights ``(h, w)``, rhs ``(3, h, w)`` (1, sat a, sat b) and
    the painted colours ``(2, h, w)``."""
    alpha = np.zeros((H, W))
    colours = np.zeros((2, H, W))
    for x, c in ((3, left), (W - 4, right)):
        alpha[H // 2 - 1 : H // 2 + 1, x - 1 : x + 1] = HINT
        colours[:, H // 2 - 1 : H // 2 + 1, x - 1 : x + 1] = np.asarray(c)[:, None, None]
    rhs = np.concatenate([np.ones((1, H, W)), colours])
    return alpha, rhs, colours


def _colour(x: np.ndarray) -> np.ndarray:
    return x[1:] / np.maximum(x[0], 1e-12)[None]


def test_two_colours_in_one_object_stop_at_its_parts_border() -> None:
    L, regions, parts = _one_object_two_parts()
    prop = Propagator(L, None, None, PARAMS, regions, parts)
    red, green = (20.0, 5.0), (-20.0, 5.0)  # 40 apart: far more than split_spread
    assert np.hypot(40.0, 0.0) > PARAMS.split_spread > 0
    alpha, rhs, colours = _hints(red, green)
    split = _colour(prop.solve(alpha, rhs, 1.0, colours))
    mixed = _colour(prop.solve(alpha, rhs, 1.0))  # without the colours: the object is not split
    a_l, a_r = split[0, :, W // 2 - 1], split[0, :, W // 2]  # either side of the parts' border
    # Cut: each half keeps most of its own hint's colour up to the border (measured 15 of 20
    # there: the cut link still carries 1 %), so the colour jumps across it...
    assert (a_l > 10.0).all() and (a_r < -10.0).all()
    # ...where without the cut it ramps through gray across the flat object (measured |a| < 1.5).
    assert np.abs(mixed[0, :, W // 2 - 1 : W // 2 + 1]).max() < 5.0


def test_one_colour_in_an_object_leaves_it_whole() -> None:
    L, regions, parts = _one_object_two_parts()
    prop = Propagator(L, None, None, PARAMS, regions, parts)
    alpha, rhs, colours = _hints((20.0, 5.0), (22.0, 6.0))  # nearly the same colour
    np.testing.assert_allclose(prop.solve(alpha, rhs, 1.0, colours), prop.solve(alpha, rhs, 1.0), atol=1e-7)
    # The parts' border is cut only when asked for: split_spread 0 never splits.
    never = Propagator(L, None, None, PropagationParams(split_spread=0.0), regions, parts)
    alpha, rhs, colours = _hints((20.0, 5.0), (-20.0, 5.0))
    np.testing.assert_allclose(never.solve(alpha, rhs, 1.0, colours), prop.solve(alpha, rhs, 1.0), atol=1e-7)


@pytest.mark.parametrize("spread", [8.0, 39.0])
def test_the_split_is_decided_by_the_painted_colours_spread(spread: float) -> None:
    L, regions, parts = _one_object_two_parts()
    prop = Propagator(L, None, None, PropagationParams(split_spread=spread), regions, parts)
    alpha, rhs, colours = _hints((20.0, 5.0), (-20.0, 5.0))  # 40 apart: split at both
    assert prop._split is not None
    assert prop._split.split_objects(alpha, colours, spread).tolist() == [True]
    assert prop._split.split_objects(alpha, colours, 41.0).tolist() == [False]
