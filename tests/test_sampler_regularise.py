"""Luminance-guided vectorial TV regularisation (Chambolle-Pock)."""

from __future__ import annotations

import pytest
import torch

from polychrome.core.sampler.regularise import (
    edge_weights,
    energy,
    regularise,
    weighted_grad,
    weighted_grad_adjoint,
)


def two_halves(h: int = 24, w: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """L with a vertical edge in the middle, and the clean ab it should carry ``(1, 2, h, w)``."""
    L = torch.full((1, 1, h, w), 30.0)
    L[..., w // 2 :] = 75.0
    ab = torch.zeros(1, 2, h, w)
    ab[:, 0, :, : w // 2] = -20.0
    ab[:, 1, :, : w // 2] = 35.0
    ab[:, 0, :, w // 2 :] = 25.0
    ab[:, 1, :, w // 2 :] = -10.0
    return L, ab


def noisy_draw(ab: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Piecewise-constant blobs of wrong bins plus pixel noise, like a coherent but imperfect draw."""
    g = torch.Generator().manual_seed(seed)
    _, _, h, w = ab.shape
    blobs = torch.nn.functional.interpolate(torch.randn(n, 2, h // 2, w // 2, generator=g), size=(h, w))
    return ab + 10.0 * blobs.round() + 6.0 * torch.randn(n, 2, h, w, generator=g)


def test_adjoint_is_transpose():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(3, 2, 9, 11, generator=g)
    p = torch.randn(3, 2, 2, 9, 11, generator=g)
    wts = edge_weights(torch.rand(1, 1, 9, 11, generator=g) * 100)
    lhs = (weighted_grad(u, wts) * p).sum()
    rhs = (u * weighted_grad_adjoint(p, wts)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-4)


def test_edge_weights_drop_across_luminance_edges():
    L, _ = two_halves()
    wts = edge_weights(L, sigma_L=4.0)
    assert wts.shape == (1, 1, 2, 24, 32)
    assert torch.allclose(wts[0, 0, 0, :, 15], torch.full((24,), 1e-3))  # across the edge: floor
    assert torch.all(wts[0, 0, 0, :, :15] == 1.0) and torch.all(wts[0, 0, 1, :-1] == 1.0)
    assert torch.all(wts[0, 0, 0, :, -1] == 0) and torch.all(wts[0, 0, 1, -1] == 0)  # no edge past the border


def test_energy_decreases():
    L, ab = two_halves()
    s = noisy_draw(ab, 3, seed=1)
    c = torch.rand(3, 1, 24, 32, generator=torch.Generator().manual_seed(2)) * 0.9 + 0.1
    energies: list[torch.Tensor] = []
    u = regularise(s, c, L, lam=12.0, iterations=60, energies=energies)
    e = torch.stack(energies)  # (iterations, N)
    e0 = energy(s, s, c, L, 12.0)
    assert e.shape == (60, 3)
    assert torch.all(e[-1] < 0.5 * e0)
    assert torch.all(e[1:] <= e[:-1] + 1e-3 * e0)  # monotone up to a tiny tolerance
    assert torch.allclose(energy(u, s, c, L, 12.0), e[-1])


def test_piecewise_constant_l_gives_piecewise_constant_colour():
    L, ab = two_halves()
    s = noisy_draw(ab, 2, seed=3)
    u = regularise(s, torch.full((2, 1, 24, 32), 0.5), L, lam=40.0, iterations=300)
    left, right = u[..., :, :14], u[..., :, 18:]
    # Nearly constant inside each region (the draw varied by ~12 ab units)...
    assert left.std(dim=(2, 3)).max() < 2.0 and right.std(dim=(2, 3)).max() < 2.0
    assert s[..., :, :14].std(dim=(2, 3)).min() > 8.0
    # ...and the colour changes at the luminance edge, close to the true jump.
    jump = (u[..., :, 16] - u[..., :, 15]).norm(dim=1).mean()
    true_jump = (ab[0, :, 0, 16] - ab[0, :, 0, 15]).norm()
    assert jump > 0.8 * true_jump
    # The change is concentrated on the edge: the next columns on either side barely differ.
    assert (u[..., :, 15] - u[..., :, 14]).norm(dim=1).mean() < 0.1 * jump
    assert (u[..., :, 17] - u[..., :, 16]).norm(dim=1).mean() < 0.1 * jump


def test_zero_iterations_and_zero_lambda_return_the_draw():
    L, ab = two_halves()
    s = noisy_draw(ab, 2, seed=4)
    c = torch.ones(2, 1, 24, 32)
    assert torch.equal(regularise(s, c, L, iterations=0), s)
    assert torch.allclose(regularise(s, c, L, lam=0.0, iterations=20), s, atol=1e-4)


def test_batch_independence_and_per_sample_lambda():
    L, ab = two_halves()
    s = noisy_draw(ab, 3, seed=5)
    c = torch.full((3, 1, 24, 32), 0.7)
    lam = torch.tensor([3.0, 12.0, 30.0])
    u = regularise(s, c, L, lam, iterations=40)
    for i in range(3):
        assert torch.equal(u[i], regularise(s[i : i + 1], c[i : i + 1], L, lam[i : i + 1], iterations=40)[0])


def test_bad_inputs_raise():
    L, ab = two_halves()
    s = noisy_draw(ab, 2, seed=6)
    c = torch.ones(2, 1, 24, 32)
    with pytest.raises(ValueError):
        regularise(s[:, :1], c, L)
    with pytest.raises(ValueError):
        regularise(s, c[:1], L)
    with pytest.raises(ValueError):
        regularise(s, c, L[..., :10])
    with pytest.raises(ValueError):
        regularise(s, -c, L)
    with pytest.raises(ValueError):
        regularise(s, c, L, lam=torch.tensor([1.0, 2.0, 3.0]))
