"""The box-frame stiffness of the FDM solve: cubic constants of the potential rotated into the reference lattice.

Rotations map crystal to box (``v_box = R @ v_crystal``, rows = crystal directions along box x, y, z), as
everywhere in nyegan. The Nye field's reference lattice is recorded in its attrs (``reference`` JSON,
``median_rotation_crystal_to_box``): its elastic distortion Ue is measured from that lattice, so the stiffness
of the solve is the potential's cubic C rotated by that matrix. Units: GPa.
"""

from __future__ import annotations

import json

import numpy as np

from nyegan.elasticity import rotate_stiffness, tensor_to_voigt, voigt_to_tensor


def cubic_voigt(c11: float, c12: float, c44: float) -> np.ndarray:
    """6x6 Voigt stiffness (GPa) of a cubic crystal in its own frame (order xx, yy, zz, yz, xz, xy)."""
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    np.fill_diagonal(c[:3, :3], c11)
    c[3, 3] = c[4, 4] = c[5, 5] = c44
    return c


def as_tensor(stiffness) -> np.ndarray:
    """3x3x3x3 stiffness from a 6x6 Voigt matrix or a full tensor; checks the symmetries and positive definiteness."""
    c = np.asarray(stiffness, dtype=float)
    if c.shape == (6, 6):
        c = voigt_to_tensor(c)
    if c.shape != (3, 3, 3, 3):
        raise ValueError(f"stiffness must be a 6x6 Voigt matrix or a 3x3x3x3 tensor (GPa), got shape {c.shape}")
    scale = np.abs(c).max()
    for perm in ((1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)):
        if not np.allclose(c, c.transpose(perm), atol=1e-8 * scale):
            raise ValueError("stiffness lacks the minor/major symmetries C_ijkl = C_jikl = C_ijlk = C_klij")
    eig = np.linalg.eigvalsh(_mandel(c))
    if eig.min() <= 1e-9 * eig.max():
        raise ValueError(f"stiffness is not positive definite (Mandel eigenvalues {np.round(eig, 3).tolist()} GPa)")
    return c


def _mandel(c: np.ndarray) -> np.ndarray:
    v = tensor_to_voigt(c)
    f = np.array([1, 1, 1, np.sqrt(2), np.sqrt(2), np.sqrt(2)])
    return v * f[:, None] * f[None, :]


def rotation_from_field_attrs(attrs: dict) -> np.ndarray:
    """Crystal -> box rotation of the reference lattice recorded by the Nye stage (attr ``reference``)."""
    ref = attrs.get("reference")
    if ref is None:
        raise ValueError(
            "the field has no 'reference' attribute (Nye stage reference lattice): give the rotation "
            "(crystal -> box, rows = crystal directions along box x, y, z) or a box-frame stiffness explicitly"
        )
    try:
        rot = np.asarray(json.loads(ref)["median_rotation_crystal_to_box"], dtype=float)
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"the field's 'reference' attribute has no 'median_rotation_crystal_to_box' ({exc})") from None
    return check_rotation(rot)


def check_rotation(rotation) -> np.ndarray:
    r = np.asarray(rotation, dtype=float).reshape(3, 3)
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
        raise ValueError(
            f"rotation must be a proper rotation (rows = unit crystal directions along box x, y, z), got {r.tolist()}"
        )
    return r


def box_stiffness(c11: float, c12: float, c44: float, rotation) -> np.ndarray:
    """3x3x3x3 box-frame stiffness (GPa) of a cubic crystal with constants C11, C12, C44 oriented by ``rotation``."""
    return as_tensor(rotate_stiffness(cubic_voigt(c11, c12, c44), check_rotation(rotation)))
