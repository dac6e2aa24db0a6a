"""sRGB <-> CIE Lab (D65) for numpy arrays and torch tensors.

Conventions follow scikit-image: sRGB values are float in [0, 1] with the sRGB
transfer curve, the white point is D65 (2 degree observer), L* is in [0, 100]
and a*, b* roughly in [-110, 110]. Numpy functions take channels-last arrays
``(..., 3)``; torch functions take channels-first tensors ``(B, 3, H, W)`` on
any device. float32 in -> float32 out.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

# sRGB primaries to CIE XYZ, as in scikit-image (IEC 61966-2-1).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

CIE_EPS = 0.008856  # (6/29)^3, CIE constant
CIE_KAPPA = 7.787
_F_EPS = 0.2068966  # f(CIE_EPS) = 6/29


# Lab -> (fx, fy, fz) is affine, and so is the white point followed by XYZ -> linear RGB: both
# run as one OpenCV per-pixel matrix product (numpy's ``@`` over a last axis of 3 is slow).
_F_FROM_LAB = np.array(
    [[1 / 116, 1 / 500, 0, 16 / 116], [1 / 116, 0, 0, 16 / 116], [1 / 116, 0, -1 / 200, 16 / 116]],
    dtype=np.float64,
)
_RGB_FROM_XYZN = RGB_FROM_XYZ * WHITE_D65[None, :]
_CV_MIN_SIZE = 3 * 4096  # below this numpy's per-call overhead is the smaller


def _check_last3(x: np.ndarray, name: str) -> None:
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got {x.shape}")


def _check_b3hw(x: torch.Tensor, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W), got {tuple(x.shape)}")


# ---------------------------------------------------------------- numpy ---


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float32)
    return np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92).astype(np.float32)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.asarray(lin, dtype=np.float32)
    if lin.size >= _CV_MIN_SIZE:
        # OpenCV's vectorised power is ~2x numpy's (it is most of a display conversion).
        flat = np.ascontiguousarray(lin).reshape(-1, 1)
        enc = cv2.pow(np.maximum(flat, np.float32(0.0031308)), 1 / 2.4).reshape(lin.shape)
        enc *= np.float32(1.055)
        enc -= np.float32(0.055)
        np.copyto(enc, lin * np.float32(12.92), where=lin <= 0.0031308)
        return enc
    safe = np.maximum(lin, 0.0031308)
    return np.where(lin > 0.0031308, 1.055 * safe ** (1 / 2.4) - 0.055, 12.92 * lin).astype(np.float32)


def cie_f(t: np.ndarray) -> np.ndarray:
    """The CIE Lab companding ``f(t)`` of X/Xn, Y/Yn, Z/Zn (cube root with a linear toe)."""
    return np.where(t > CIE_EPS, np.cbrt(np.maximum(t, CIE_EPS)), CIE_KAPPA * t + 16.0 / 116.0)


def luminance(lin: np.ndarray) -> np.ndarray:
    """Linear sRGB ``(..., 3)`` -> relative luminance Y ``(...)`` (D65 white has Y = 1), float32."""
    return np.asarray(lin, dtype=np.float32) @ XYZ_FROM_RGB[1].astype(np.float32)


def lstar_from_luminance(y: np.ndarray) -> np.ndarray:
    """Relative luminance Y (white = 1) -> CIE L* in [0, 100], the same formula as :func:`rgb_to_lab`."""
    return (116.0 * cie_f(np.asarray(y, dtype=np.float32)) - 16.0).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(..., 3)`` in [0, 1] -> Lab ``(..., 3)``, float32."""
    rgb = np.asarray(rgb, dtype=np.float32)
    _check_last3(rgb, "rgb")
    xyz = srgb_to_linear(rgb) @ XYZ_FROM_RGB.T.astype(np.float32)
    xyz = xyz / WHITE_D65.astype(np.float32)
    f = cie_f(xyz)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1).astype(np.float32)


def lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab ``(..., 3)`` -> linear RGB ``(..., 3)``, unclipped (may leave [0, 1])."""
    lab = np.asarray(lab, dtype=np.float32)
    _check_last3(lab, "lab")
    if lab.size >= _CV_MIN_SIZE:
        return _lab_to_linear_rgb_cv(lab)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = np.maximum(fy - lab[..., 2] / 200.0, 0.0)  # as scikit-image: negative z clipped
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f > _F_EPS, f**3, (f - 16.0 / 116.0) / CIE_KAPPA) * WHITE_D65.astype(np.float32)
    return (xyz @ RGB_FROM_XYZ.T.astype(np.float32)).astype(np.float32)


def _lab_to_linear_rgb_cv(lab: np.ndarray) -> np.ndarray:
    """:func:`lab_to_linear_rgb` for large arrays (same formula, within float32 rounding)."""
    flat = np.ascontiguousarray(lab).reshape(-1, 1, 3)
    f = cv2.transform(flat, _F_FROM_LAB)  # (n, 1, 3) float32
    np.maximum(f[..., 2], 0.0, out=f[..., 2])  # as scikit-image: negative z clipped
    toe = f - np.float32(16.0 / 116.0)
    toe *= np.float32(1.0 / CIE_KAPPA)
    cube = f * f
    cube *= f
    np.copyto(cube, toe, where=f <= _F_EPS)
    return cv2.transform(cube, _RGB_FROM_XYZN).reshape(lab.shape)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab ``(..., 3)`` -> sRGB ``(..., 3)`` clipped to [0, 1], float32."""
    return np.clip(linear_to_srgb(lab_to_linear_rgb(lab)), 0.0, 1.0)


# ---------------------------------------------------------------- torch ---


def _mat(m: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(m, dtype=like.dtype, device=like.device)


def rgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` in [0, 1] -> Lab ``(B, 3, H, W)``."""
    _check_b3hw(rgb, "rgb")
    lin = torch.where(rgb > 0.04045, ((rgb.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,bjhw->bihw", _mat(XYZ_FROM_RGB, rgb), lin)
    xyz = xyz / _mat(WHITE_D65, rgb).view(1, 3, 1, 1)
    f = torch.where(xyz > CIE_EPS, xyz.clamp_min(CIE_EPS).pow(1.0 / 3.0), CIE_KAPPA * xyz + 16.0 / 116.0)
    L = 116.0 * f[:, 1] - 16.0
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return torch.stack([L, a, b], dim=1)


def lab_to_linear_rgb_torch(lab: torch.Tensor) -> torch.Tensor:
    """Lab ``(B, 3, H, W)`` -> linear RGB ``(B, 3, H, W)``, unclipped (may leave [0, 1])."""
    _check_b3hw(lab, "lab")
    fy = (lab[:, 0] + 16.0) / 116.0
    fx = fy + lab[:, 1] / 500.0
    fz = (fy - lab[:, 2] / 200.0).clamp_min(0.0)
    f = torch.stack([fx, fy, fz], dim=1)
    xyz = torch.where(f > _F_EPS, f**3, (f - 16.0 / 116.0) / CIE_KAPPA)
    xyz = xyz * _mat(WHITE_D65, lab).view(1, 3, 1, 1)
    return torch.einsum("ij,bjhw->bihw", _mat(RGB_FROM_XYZ, lab), xyz)


def lab_to_rgb_torch(lab: torch.Tensor) -> torch.Tensor:
    """Lab ``(B, 3, H, W)`` -> sRGB ``(B, 3, H, W)`` clipped to [0, 1]."""
    lin = lab_to_linear_rgb_torch(lab)
    srgb = torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(0.0031308) ** (1 / 2.4) - 0.055, 12.92 * lin)
    return srgb.clamp(0.0, 1.0)
