"""PreparedImage: the one pipeline object (marginals, L at working resolution, hint engine)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from polychrome.core.bins import annealed_mean
from polychrome.core.hints import HOLD_RADIUS, TRUST_RADIUS, HintDocument, Stroke, apply_hints
from polychrome.core.models.registry import build_model
from polychrome.core.pipeline import compose_rgb, predict_marginals
from polychrome.core.prepared import PreparedImage
from polychrome.core.resize import resize_l, resize_l_np, short_side_size
from polychrome.core.sampler import SamplerSettings, l_at_working_res, sample

H, W = 48, 72


@pytest.fixture(scope="module")
def photo_L() -> np.ndarray:
    L = np.full((H, W), 70.0, np.float32)
    L[:, : W // 2] = 30.0
    L[H // 3 :, W // 4 : W // 2] = 55.0
    return L


@pytest.fixture(scope="module")
def prepared(photo_L) -> PreparedImage:
    torch.manual_seed(0)
    return PreparedImage.predict(build_model("polychrome-small").eval(), photo_L)


def hints() -> HintDocument:
    stroke = Stroke(points=[(10.0, 10.0), (20.0, 14.0)], radius=4.0, color=(0.8, 0.2, 0.1))
    return HintDocument(strokes=[stroke], saturation=1.5)


def test_resize_l_is_the_antialiased_resize_and_copies_at_the_same_size(photo_L):
    small = resize_l(photo_L, (12, 18))
    t = torch.from_numpy(photo_L)[None, None]
    ref = F.interpolate(t, size=(12, 18), mode="bilinear", antialias=True, align_corners=False)
    assert small.shape == (1, 1, 12, 18) and torch.equal(small, ref)
    same = resize_l(photo_L, (H, W))
    same[0, 0, 0, 0] = -1.0
    assert photo_L[0, 0] == 30.0  # a copy, never a view of the caller's array
    assert short_side_size((H, W), 24) == (24, 36) and short_side_size((H, W), 480) == (H, W)
    with pytest.raises(ValueError):
        resize_l(photo_L[None], (4, 4))


@pytest.mark.parametrize("size", [(12, 18), (5, 7), (48, 72), (60, 90)])
def test_the_torch_free_resize_agrees_with_resize_l(rng, size):
    L = rng.uniform(0, 100, (H, W)).astype(np.float32)
    ours = resize_l_np(L, size)
    assert ours.dtype == np.float32 and ours.shape == size
    # Pillow's antialiased bilinear is the filter torch's antialias=True reproduces.
    np.testing.assert_allclose(ours, resize_l(L, size)[0, 0].numpy(), atol=1e-3)
    with pytest.raises(ValueError):
        resize_l_np(L[None], size)


def test_the_prepared_image_wires_the_stages_as_the_callers_did(prepared, photo_L):
    m = prepared.marginals
    assert prepared.size == (W, H) and prepared.shape == m.shape
    L_work = l_at_working_res(photo_L, m.shape)
    assert torch.equal(prepared.L_work.cpu(), L_work)
    doc = hints()
    old_logits = apply_hints(m.logits, m.centres, doc, L_work, (W, H))
    assert torch.equal(prepared.logits(doc), old_logits)
    assert torch.equal(prepared.logits(), m.logits)

    settings = SamplerSettings(n=3, seed=5, iterations=10)
    with torch.inference_mode():
        old = sample(
            old_logits,
            m.centres,
            L_work,
            doc.sampler_settings(settings),
            best_guess=m.best_guess,
            regions=prepared.objects(),  # object draws (the default method) over the photo's objects
        )
    new = prepared.sample(settings, doc)
    assert new.seeds == old.seeds
    assert new.settings.saturation == 1.5  # the document's saturation is folded in once
    # Then every drawn result is held to the hints (HintEngine.constrain): the same draws,
    # projected into the trust region around the hints' target; pixels no hint reaches are
    # untouched. Result 0 is the best guess under the hints, as best_guess gives it.
    assert torch.equal(new.ab[1:], prepared.engine.constrain(old.ab, doc)[1:])
    assert torch.equal(new.ab[:1], prepared.best_guess(doc))
    f = prepared.engine.field(doc)
    assert torch.equal(new.ab[1:, :, f.pull == 0], old.ab[1:, :, f.pull == 0])
    assert not torch.equal(new.ab, old.ab)  # the hint's paint did move some pixels
    dist = (new.ab - f.target[None]).norm(dim=1)[:, f.hold]
    assert f.hold.any() and dist.max() <= HOLD_RADIUS + 1e-3  # full-strength paint holds its colour

    locked = {1: old.ab[1].clone()}
    again = prepared.sample(dataclasses.replace(settings, seed=6), doc, locked=locked, locked_seeds={1: 77})
    assert torch.equal(again.ab[1], locked[1]) and again.seeds[1] == 77


def test_best_guess_takes_the_models_rule_hints_and_saturation(prepared):
    m, doc = prepared.marginals, hints()
    plain = m.best_guess.ab(m.logits, m.centres)
    assert torch.equal(prepared.best_guess(), plain)
    # Under hints: the network's own best guess, saturation folded in once, blended toward the
    # hints' target with their pull and kept within the trust radius R(P) of the target;
    # where no hint reaches it is the network's own.
    own = plain * 1.5
    f = prepared.engine.field(doc)
    got = prepared.best_guess(doc)
    d = f.pull * f.target + (1 - f.pull) * own - f.target
    R = HOLD_RADIUS + TRUST_RADIUS * (1 - f.pull) / f.pull.clamp_min(1e-6)
    expected = f.target + d * (R / d.norm(dim=1, keepdim=True).clamp_min(1e-12)).clamp_max(1.0)
    assert torch.allclose(got, expected, atol=HOLD_RADIUS + 1e-3)
    assert torch.equal(got[:, :, f.pull == 0], own[:, :, f.pull == 0])
    assert (got[0] - f.target).norm(dim=0)[f.hold].max() <= HOLD_RADIUS + 1e-3
    T1 = prepared.best_guess(doc, T=1.0)
    assert torch.equal(
        T1[:, :, f.pull == 0], (annealed_mean(m.logits, m.centres, 1.0) * 1.5)[:, :, f.pull == 0]
    )
    assert not torch.equal(prepared.best_guess(T=1.0), plain)


def test_compose_points_and_suggestions_refer_to_full_resolution(prepared, photo_L):
    ab = prepared.best_guess()
    rgb = prepared.compose(ab, np.uint8)
    assert rgb.shape == (H, W, 3) and np.array_equal(rgb, compose_rgb(photo_L, ab, np.uint8))
    h, w = prepared.shape
    assert prepared.to_working(0, 0) == (0, 0)
    assert prepared.to_working(W - 0.5, H - 0.5) == (w - 1, h - 1)
    assert prepared.to_working(W * 10, -3) == (w - 1, 0)  # clamped to the image
    items = prepared.suggestions(5.0, 5.0, 4)
    assert len(items) == 4 and all(0 <= p <= 1 for _, p in items)


def test_predict_is_predict_marginals_then_prepare(photo_L):
    torch.manual_seed(0)
    model = build_model("polychrome-small").eval()
    a = PreparedImage.predict(model, photo_L)
    b = predict_marginals(model, photo_L)
    assert torch.equal(a.marginals.logits, b.logits)


class _Job:
    def check(self) -> None: ...
    def report(self, value) -> None: ...


@pytest.mark.parametrize("selected", [0, 2])
def test_the_editors_sampling_job_gives_the_pictures_of_the_plain_stages(prepared, photo_L, selected):
    """The editor's job under hints: results as PreparedImage.sample gives them (result 0 the
    best guess under the hints), each thumbnail and the selected result's preview composed."""
    from polychrome.core.display import preview_L
    from polychrome.desktop import jobs
    from polychrome.desktop.model import ImageDisplay

    display = ImageDisplay(
        gray_full=np.zeros((H, W, 4), np.uint8),
        L_preview=preview_L(photo_L, 40),
        L_thumb=preview_L(photo_L, 24),
    )
    doc, settings = hints(), SamplerSettings(n=4, seed=3, iterations=10)
    out = jobs.run_sampling(_Job(), prepared, display, doc, settings, {}, {}, selected)
    ref = prepared.sample(settings, doc)
    assert [r.seed for r in out.results] == ref.seeds
    for r in out.results:
        assert torch.allclose(r.ab, ref.ab[r.index], atol=1e-4)
        assert np.array_equal(r.thumb, compose_rgb(display.L_thumb, r.ab, np.uint8, guide=prepared.guide))
    assert torch.allclose(out.results[0].ab, prepared.best_guess(doc)[0], atol=1e-4)
    shown = out.results[selected]
    guided = compose_rgb(display.L_preview, shown.ab, np.uint8, guide=prepared.guide)
    assert np.array_equal(shown.preview, guided)
    # The working-resolution L as the guide renders what resizing the view's own L gives, to a level.
    plain = compose_rgb(display.L_preview, shown.ab, np.uint8)
    assert np.abs(plain.astype(int) - shown.preview).max() <= 2
    assert all(r.preview is None for r in out.results if r.index != selected)


def test_a_given_first_result_replaces_result_0_and_leaves_the_draws(prepared):
    m = prepared.marginals
    settings = SamplerSettings(n=4, seed=2, iterations=10)
    first = torch.full((2, *m.shape), 7.0)
    with torch.inference_mode():
        plain = sample(m.logits, m.centres, prepared.L_work, settings, best_guess=m.best_guess)
        given = sample(m.logits, m.centres, prepared.L_work, settings, best_guess=m.best_guess, first=first)
    assert torch.equal(given.ab[0], first) and given.seeds == plain.seeds
    # The draws are regularised in a smaller batch: the same to float rounding.
    assert torch.allclose(given.ab[1:], plain.ab[1:], atol=1e-3)
