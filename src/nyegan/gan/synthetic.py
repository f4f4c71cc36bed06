"""Analytic Nye fields of periodic defect cells, written in the same netCDF/JSON contract as atomistic results.

These fields are *analytic* (not atomistic): they serve tests, demos and benchmarks of the dataset and GAN
stages. Every field is built as alpha = curl W of a periodic distortion W with the chosen difference scheme,
so div alpha = 0 and the cell mean vanishes to round-off on the grid.

- Symmetric tilt GB cell (``kind="gb"``): edge content (Burgers along the normal y, line along z) on the two
  planes y1, y2 with Gaussian width ``width`` and per-unit-length content +2 sin(theta/2) and -2 sin(theta/2)
  (Frank-Bilby), modulated along x by the structural-unit period (zero x-average, so the content is exact),
  plus small random elastic-like fluctuations curl(W_noise) that carry no net content.
- Dislocation dipole (``kind="dislocation"``): +b and -b line content alpha_iz = b_i g(x - x_k, y - y_k).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import xarray as xr

from nyegan import fieldops
from nyegan.contracts import NYE_FIELD, STRUCTURE
from nyegan.defects.frank_bilby import frank_bilby_content

LABELS = ["x", "y", "z"]


def _periodic_gauss(u: np.ndarray, L: float, w: float) -> np.ndarray:
    d = np.mod(u, L)
    d = np.minimum(d, L - d)
    return np.exp(-0.5 * (d / w) ** 2)


def _smooth_noise(rng, shape, lengths, corr: float) -> np.ndarray:
    """Gaussian random periodic field with correlation length ``corr`` (Å), unit rms."""
    f = rng.normal(size=shape)
    dim = len(lengths)
    fh = np.fft.fftn(f, axes=tuple(range(-dim, 0)))
    q2 = 0.0
    for ax, (n, L) in enumerate(zip(shape[-dim:], lengths)):
        q = 2 * np.pi * np.fft.fftfreq(n, d=L / n)
        sh = [1] * dim
        sh[ax] = n
        q2 = q2 + q.reshape(sh) ** 2
    fh *= np.exp(-0.5 * q2 * corr**2)
    out = np.fft.ifftn(fh, axes=tuple(range(-dim, 0))).real
    return out / (out.std() + 1e-30)


def _noise_distortion(rng, grid, lengths, amplitude: float) -> np.ndarray:
    """Smooth periodic random distortion with zero x-average, so its curl adds no net line-z content to any
    slab between planes of constant y (elastic-like fluctuations). A z-invariant displacement has no W_iz, so
    the curl keeps alpha_ix = alpha_iy = 0, as atomistic fields averaged along z do."""
    W = np.stack([np.stack([_smooth_noise(rng, grid, lengths, 3.0) for _ in range(3)]) for _ in range(3)])
    W[:, 2] = 0.0
    return amplitude * (W - W.mean(axis=2, keepdims=True))


def _cell_centres(lengths, grid) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centred node coordinates (Å) along x and y of a periodic 2D grid."""
    return tuple((np.arange(n) + 0.5) * L / n for L, n in zip(lengths[:2], grid[:2]))


def tilt_gb_field(
    theta_deg: float,
    lengths=(20.0, 80.0),
    grid=(32, 64),
    gb_frac=(0.25, 0.75),
    width: float = 1.5,
    modulation: float = 0.5,
    n_units: int = 2,
    noise: float = 0.01,
    sign: float = 1.0,
    scheme: str = "spectral",
    seed: int = 0,
) -> np.ndarray:
    """Analytic 2D Nye field (3, 3, nx, ny) in 1/Å of a periodic symmetric tilt GB cell."""
    rng = np.random.default_rng(seed)
    Lx, Ly = lengths
    nx, ny = grid
    x, y = _cell_centres(lengths, grid)
    c = sign * frank_bilby_content(theta_deg)
    p = np.zeros((3, nx, ny))
    for _k, (yf, s) in enumerate(zip(gb_frac, (1.0, -1.0))):
        gy = _periodic_gauss(y - yf * Ly, Ly, width)
        gy /= gy.sum() * Ly / ny
        phase = rng.uniform(0, 2 * np.pi)
        mod = 1.0 + modulation * np.cos(2 * np.pi * n_units * x / Lx + phase)
        p[1] += s * c * mod[:, None] * gy[None, :]
    W = fieldops.invert_derivative_z_column(p, lengths, 2, scheme)
    if noise:
        W = W + _noise_distortion(rng, grid, lengths, noise)
    return fieldops.curl(W, lengths, 2, scheme)


def dislocation_dipole_field(
    burgers=(2.86, 0.0, 0.0),
    lengths=(40.0, 40.0),
    grid=(32, 32),
    positions=((0.5, 0.25), (0.5, 0.75)),
    width: float = 1.5,
    noise: float = 0.005,
    scheme: str = "spectral",
    seed: int = 0,
) -> np.ndarray:
    """Analytic 2D Nye field of a +b / -b dislocation dipole with lines along z (edge: b along x; screw: b along z)."""
    rng = np.random.default_rng(seed)
    Lx, Ly = lengths
    nx, ny = grid
    x, y = _cell_centres(lengths, grid)
    b = np.asarray(burgers, float)
    p = np.zeros((3, nx, ny))
    for (xf, yf), s in zip(positions, (1.0, -1.0)):
        g = _periodic_gauss(x - xf * Lx, Lx, width)[:, None] * _periodic_gauss(y - yf * Ly, Ly, width)[None, :]
        g /= g.sum() * (Lx / nx) * (Ly / ny)
        p += s * b[:, None, None] * g[None]
    W = fieldops.invert_derivative_z_column(p, lengths, 2, scheme)
    if noise:
        W = W + _noise_distortion(rng, grid, lengths, noise)
    return fieldops.curl(W, lengths, 2, scheme)


def field_dataset(
    alpha: np.ndarray, lengths, burgers_content: list[dict] | None = None, scheme: str = "spectral"
) -> xr.Dataset:
    """Wrap a 2D field (3, 3, nx, ny) in the Nye-field contract (coordinates in Å, cell-centred, source "analytic").

    ``burgers_content``: entries in the Nye stage's format (``nyegan.nye.burgers``), stored as a JSON string."""
    nx, ny = alpha.shape[-2:]
    Lx, Ly = lengths[:2]
    ds = xr.Dataset(
        {
            "alpha": (
                ("i", "j", "x", "y"),
                alpha.astype(np.float64),
                {"units": "1/angstrom", "long_name": "Nye dislocation density tensor"},
            )
        },
        coords={
            "i": LABELS,
            "j": LABELS,
            "x": ("x", (np.arange(nx) + 0.5) * Lx / nx, {"units": "angstrom"}),
            "y": ("y", (np.arange(ny) + 0.5) * Ly / ny, {"units": "angstrom"}),
        },
        attrs={
            "convention": "alpha = curl Ue, (curl A)_ij = eps_jkl d_k A_il; i Burgers, j line",
            "method": "analytic (nyegan.gan.synthetic)",
            "spacing": [Lx / nx, Ly / ny],
            "cell_lengths": list(map(float, lengths)),
            "reference": "analytic field (nyegan.gan.synthetic), not atomistic",
            "correspondence_angle_deg": 0.0,
            "difference_scheme": scheme,
            "average_along": "z",
            "burgers_content": json.dumps(burgers_content or []),
        },
    )
    return ds


def write_case(
    root: str | Path,
    case: str,
    kind: str = "gb",
    theta_deg: float = 20.0,
    lengths=(20.0, 80.0, 4.0),
    grid=(32, 64),
    seed: int = 0,
    axis=(0, 0, 1),
    plane=(0, 1, 0),
    sigma: int | None = None,
    character: str = "edge",
    a0: float = 4.05,
    gb_frac=(0.25, 0.75),
    distance_to_gb: float | None = None,
    scheme: str = "spectral",
) -> tuple[Path, Path]:
    """Write ``{root}/nye/{case}.nc`` and ``{root}/structures/{case}.json`` for an analytic case."""
    root = Path(root)
    Lx, Ly, Lz = lengths
    meta = {
        "case": case,
        "kind": kind,
        "axis": list(axis),
        "a0": a0,
        "cell": [[Lx, 0, 0], [0, Ly, 0], [0, 0, Lz]],
        "analytic": True,
    }
    if kind in ("gb", "gb_dislocation"):
        alpha = tilt_gb_field(theta_deg, (Lx, Ly), grid, gb_frac=gb_frac, seed=seed, scheme=scheme)
        meta.update(plane=list(plane), misorientation_deg=float(theta_deg), gb_y=[gb_frac[0] * Ly, gb_frac[1] * Ly])
        if sigma is not None:
            meta["sigma"] = int(sigma)
        fb = frank_bilby_content(theta_deg)
        content = [
            {
                "kind": "boundary",
                "normal": "y",
                "line": "z",
                "position": float(y * Ly),
                "content_per_length": [0.0, s * fb, 0.0],
            }
            for y, s in zip(gb_frac, (1.0, -1.0))
        ]
    else:
        b = a0 / math.sqrt(2)
        bvec = {"edge": (b, 0, 0), "screw": (0, 0, b), "mixed": (b / 2, 0, b * math.sqrt(3) / 2)}[character]
        alpha = dislocation_dipole_field(bvec, (Lx, Ly), grid, seed=seed, scheme=scheme)
        meta.update(character=character, burgers_box=list(bvec))
        content = [{"kind": "core", "line": "z", "burgers_vector": [float(v) for v in bvec]}]
    if kind == "gb_dislocation" and distance_to_gb is not None:
        meta["distance_to_gb"] = float(distance_to_gb)
    ds = field_dataset(alpha, lengths, content, scheme)
    nc = root / "nye" / f"{case}.nc"
    js = root / "structures" / f"{case}.json"
    NYE_FIELD.write(ds, nc)
    STRUCTURE.write(js, meta)
    return nc, js


def write_gb_series(
    root: str | Path,
    thetas=(10.0, 16.0, 22.0, 28.0, 36.0),
    seeds_per_theta: int = 3,
    grid=(32, 64),
    lengths=(20.0, 80.0, 4.0),
    scheme: str = "spectral",
) -> list[str]:
    """A small sweep of analytic tilt-GB cases (several seeds per misorientation); returns the case names."""
    cases = []
    for theta in thetas:
        for s in range(seeds_per_theta):
            name = f"gb_t{theta:g}_s{s}"
            Lx = lengths[0] * (1.0 + 0.1 * s)  # cells differ in size like real sweeps
            write_case(
                root,
                name,
                "gb",
                theta,
                (Lx, lengths[1], lengths[2]),
                grid,
                seed=1000 * s + int(theta * 10),
                scheme=scheme,
            )
            cases.append(name)
    return cases
