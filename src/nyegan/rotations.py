"""Rotation matrices, defined once: every helper carries the unit of its angle in its name.

Convention: proper rotations, right-handed about the unit axis; a rotation matrix maps crystal to box
(``v_box = R @ v_crystal``, rows = crystal directions along box x, y, z) wherever a frame change is meant.
"""

from __future__ import annotations

import numpy as np


def rotation_about_axis_rad(axis, angle_rad: float) -> np.ndarray:
    """Proper rotation by ``angle_rad`` (radians, right-handed) about ``axis`` (any length), Rodrigues' formula."""
    k = np.asarray(axis, dtype=float)
    k = k / np.linalg.norm(k)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * kx + (1 - np.cos(angle_rad)) * kx @ kx


def rotation_about_axis_deg(axis, angle_deg: float) -> np.ndarray:
    """Proper rotation by ``angle_deg`` (degrees, right-handed) about ``axis``."""
    return rotation_about_axis_rad(axis, np.radians(angle_deg))


def axis_angle_rad(rotation: np.ndarray) -> tuple[np.ndarray, float]:
    """Unit axis and angle (radians, 0..π) of a proper rotation matrix."""
    c = np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(c))
    w = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0], rotation[1, 0] - rotation[0, 1]])
    if np.linalg.norm(w) > 1e-8:
        return w / np.linalg.norm(w), angle
    if angle < 1e-8:
        return np.array([0.0, 0.0, 1.0]), 0.0
    b = (rotation + np.eye(3)) / 2.0  # angle ~ π: axis from the symmetric part
    k = np.sqrt(np.clip(np.diag(b), 0.0, None))
    i = int(np.argmax(k))
    k = b[i] / k[i]
    return k / np.linalg.norm(k), angle


def rotation_angle_deg(rotation: np.ndarray) -> float:
    """Rotation angle (degrees, 0..180) of a proper rotation matrix."""
    c = (np.trace(rotation) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def orthonormalise(matrix: np.ndarray) -> np.ndarray:
    """Nearest proper rotation (polar decomposition via SVD); works on stacks (..., 3, 3)."""
    u, _, vt = np.linalg.svd(matrix)
    d = np.sign(np.linalg.det(u @ vt))
    u = u.copy()
    u[..., :, -1] *= d[..., None]
    return u @ vt
