"""Per-component comparison of generated (or baseline) Nye fields with the atomistic fields of one condition.

All fields are 2D (3D fields are averaged along z first), on the dataset's fractional grid, shape (N, 3, 3, nx, ny)
in 1/Å. Components are compared one by one, each normalised by the norm of the *atomistic* component, so a small
component (α_xz of a tilt boundary, a few % of α_yz) counts as much as the main one; a metric of a component whose
atomistic norm is negligible (below ``NEGLIGIBLE`` of the largest) is NaN. Predicting zero scores 1. An error
is divided by the larger of the component's own norm and ``FLOOR`` (1 %) of the largest component's (same
quantity, same sample), so a component at the level of the G-method's noise cannot turn a small absolute
error into relative errors of 10³ (the α_zz of edge cells).

- ``mean``: the x-averaged profile ⟨α⟩ₓ(y), averaged over samples: ||⟨g⟩ − ⟨r⟩|| / ||⟨r⟩||;
- ``detail``: the modulation along the boundary α − ⟨α⟩ₓ (structural units, discrete dislocations). Each
  generated sample is aligned with each atomistic sample by the periodic x shift that minimises their distance,
  one shift per boundary slab (the rows nearest to each boundary: the two boundaries of a cell are independent,
  their mutual registry is set by the translation state the search found) and one for all components (a rigid
  translation); it is matched to its nearest atomistic sample, and err = ||d_g − d_r|| / ||d_r|| per component,
  averaged over generated samples;
- ``spectrum``: mean |log10 P_g − log10 P_r| of the x power spectra of the detail in the rows within 3 Å of the
  boundaries (modes 1..nx/2, powers floored at 1e-6 of the peak), per component;
- ``period``: fraction of generated samples whose strongest x mode in those rows (main component) is the
  atomistic one;
- ``energy_distance``: 2E||g − r|| − E||g − g'|| − E||r − r'|| over the samples (aligned distances of the whole
  normalised fields), divided by E||r|| — 0 when the two ensembles are the same distribution. Read it with
  ``coverage``: in these dimensions it also falls when white noise is added to a prediction whose mean is off
  (noise at 0.25–0.5 of each component's rms takes the Frank–Bilby line from 1.24 to 1.01–1.05 on the study
  boundaries), so a lower value is not by itself evidence of covering the microstates;
- ``coverage``: mean over atomistic samples of the distance to the nearest generated sample (aligned, whole
  normalised fields) over that sample's norm — 0 when every microstate is reproduced, 1 for a zero field; noise
  only raises it, and a generator that covers several microstates beats one that predicts their mean;
- ``spread``: E||g − g'|| / E||r − r'|| over distinct pairs (aligned, whole normalised fields): the generated
  samples' scatter over the atomistic microstates' — 1 for an ensemble as diverse as the relaxed states, above 1
  overdispersed; NaN with fewer than two samples on either side;
- ``memorisation``: mean over generated samples of (distance to the nearest *training* field) / (distance to
  the nearest atomistic field of this condition); below 1 means closer to the training data than to the truth;
- ``cores_found`` (cells with dislocations, :func:`cores_found`): fraction of the atomistic cores whose Burgers
  vector the field carries where the core is, the dataset's own presence test
  (``nyegan.dataset.cores.dislocations_present``), averaged over samples: 1 when every dislocation is drawn
  in place, 0 for a field without cores.
"""

from __future__ import annotations

import numpy as np

from nyegan.periodic import frac_distance

NEGLIGIBLE = 1e-3
FLOOR = 1e-2  # errors relative to at least this fraction of the largest component's norm
LABELS = "xyz"


def as_2d(alpha) -> np.ndarray:
    a = np.asarray(alpha, dtype=np.float64)
    return a.mean(axis=-1) if a.ndim == 6 else a


def active_components(real: np.ndarray) -> list[tuple[int, int]]:
    """Components whose atomistic rms exceeds NEGLIGIBLE of the largest (the ones a metric is reported for)."""
    rms = np.sqrt((real**2).mean(axis=(0, 3, 4)))
    return [(i, j) for i in range(3) for j in range(3) if rms[i, j] > NEGLIGIBLE * rms.max()]


def _detail(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=3, keepdims=True)


def _norm_weights(real: np.ndarray) -> np.ndarray:
    """(3, 3) 1 / rms of each atomistic component, floored at ``FLOOR`` of the largest (0 for negligible ones):
    fields in these units weigh every component above the floor equally."""
    rms = np.sqrt((real**2).mean(axis=(0, 3, 4)))
    return np.where(rms > NEGLIGIBLE * rms.max(), 1.0 / np.maximum(rms, max(FLOOR * rms.max(), 1e-300)), 0.0)


SUBSTEPS = 16  # the best shift is refined to 1/16 of a grid step (band-limited, Fourier) around the best node


def slab_rows(gb_frac, ny: int) -> list[np.ndarray]:
    """Boolean rows of the two slabs (nearest to boundary 1, nearest to boundary 2; ties to the first)."""
    y = (np.arange(ny) + 0.5) / ny
    d = [frac_distance(y, g) for g in np.asarray(gb_frac, float)]
    first = d[0] <= d[1]
    return [first, ~first]


def slab_aligned_distances(a: np.ndarray, b: np.ndarray, w: np.ndarray, gb_frac) -> tuple[np.ndarray, list]:
    """(Na, Nb) squared distances with one best x shift per boundary slab, and the per-slab shifts."""
    total, shifts = 0.0, []
    for rows in slab_rows(gb_frac, a.shape[4]):
        d2, sh = aligned_distances(a[..., rows], b[..., rows], w)
        total = total + d2
        shifts.append(sh)
    return total, shifts


def aligned_distances(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Na, Nb) squared distances between weighted fields after the best periodic x shift of each a against each
    b, and the (Na, Nb) best shifts in grid steps (fractional: a rigid translation need not fall on the grid).

    The cross-correlation along x (summed over components and y) comes from the cross-spectrum; its maximum is
    found on the grid, then refined on a 1/SUBSTEPS sub-grid by evaluating the band-limited correlation there."""
    wa, wb = a * w[None, :, :, None, None], b * w[None, :, :, None, None]
    nx = a.shape[3]
    fa, fb = np.fft.fft(wa, axis=3), np.fft.fft(wb, axis=3)
    cross = np.einsum("aijky,bijky->abk", fa, np.conj(fb))  # (Na, Nb, nx)
    q = np.fft.fftfreq(nx, d=1.0 / nx)
    if nx % 2 == 0:
        q[nx // 2] = 0.0  # the Nyquist term of a real signal has no defined phase: keep it unshifted
    corr = np.fft.ifft(cross, axis=2).real
    k0 = corr.argmax(axis=2)
    delta = np.linspace(-1.0, 1.0, 2 * SUBSTEPS + 1)
    s = k0[..., None] + delta  # (Na, Nb, D) trial shifts
    phase = np.exp(2j * np.pi * q[None, None, None, :] * s[..., None] / nx)
    c = np.einsum("abk,abdk->abd", cross, phase).real / nx
    best = np.take_along_axis(s, c.argmax(axis=2)[..., None], axis=2)[..., 0]
    na, nb = (wa**2).sum(axis=(1, 2, 3, 4)), (wb**2).sum(axis=(1, 2, 3, 4))
    d2 = na[:, None] + nb[None, :] - 2 * c.max(axis=2)
    return np.maximum(d2, 0.0), best


def _shift_x(a: np.ndarray, steps: float) -> np.ndarray:
    """a(x + steps) along the x axis (axis 2 of (3, 3, nx, ny)), spectrally (any fractional number of steps),
    with the Nyquist term unshifted as in :func:`aligned_distances` (so that the shifted field is at the distance
    that function found; ``nyegan.dataset.resample.fractional_shift`` keeps it real as cos(π n s) instead)."""
    nx = a.shape[2]
    q = np.fft.fftfreq(nx, d=1.0 / nx)
    if nx % 2 == 0:
        q[nx // 2] = 0.0
    ph = np.exp(2j * np.pi * q * float(steps) / nx).reshape(1, 1, nx, 1)
    return np.fft.ifft(np.fft.fft(a, axis=2) * ph, axis=2).real


def _boundary_rows(gb_frac: np.ndarray, ny: int, Ly: float, width: float = 3.0) -> np.ndarray:
    y = (np.arange(ny) + 0.5) / ny
    d = frac_distance(y[None, :], np.asarray(gb_frac, float)[:, None]) * Ly
    return (d < width).any(axis=0)


def _row_spectrum(d: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(3, 3, nx//2) mean x power spectrum of the detail over samples and the boundary rows (modes 1..nx/2)."""
    p = np.abs(np.fft.rfft(d[..., rows], axis=3)) ** 2  # (N, 3, 3, nx//2+1, nrows)
    return p.mean(axis=(0, 4))[:, :, 1 : d.shape[3] // 2 + 1]


def compare(gen, real, gb_frac, Ly: float, train=None) -> dict:
    """Metrics of generated ``gen`` against atomistic ``real`` fields of one condition (see the module doc).

    ``gb_frac``: (2,) boundary fractions (rows of the spectra); ``Ly``: cell length along y (Å); ``train``:
    training fields (N, 3, 3, nx, ny) for the memorisation ratio (optional)."""
    g, r = as_2d(gen), as_2d(real)
    comps = active_components(r)
    out: dict = {"components": [f"{LABELS[i]}{LABELS[j]}" for i, j in comps]}
    mg, mr = g.mean(axis=(0, 3)), r.mean(axis=(0, 3))  # (3, 3, ny)
    dg, dr = _detail(g), _detail(r)
    w = _norm_weights(r)
    d2, shifts = slab_aligned_distances(dg, dr, w, gb_frac)
    nearest = d2.argmin(axis=1)
    slabs = slab_rows(gb_frac, r.shape[4])

    def aligned(a, b):  # generated sample a's detail, slab by slab, shifted onto atomistic sample b
        out = np.empty_like(dg[a])
        for rows, sh in zip(slabs, shifts):
            out[..., rows] = _shift_x(dg[a][..., rows], sh[a, b])
        return out

    rows = _boundary_rows(gb_frac, r.shape[4], Ly)
    spec_g, spec_r = _row_spectrum(dg, rows), _row_spectrum(dr, rows)
    scale = np.sqrt((r**2).mean(axis=(0, 3, 4)))
    mean_main = np.linalg.norm(mr, axis=-1).max()
    detail_main = np.linalg.norm(dr, axis=(3, 4)).reshape(len(r), -1).max(axis=1)  # (N,) per atomistic sample
    for i, j in comps:
        key = f"{LABELS[i]}{LABELS[j]}"
        nm = np.linalg.norm(mr[i, j])
        out[f"mean_{key}"] = float(np.linalg.norm(mg[i, j] - mr[i, j]) / max(nm, FLOOR * mean_main)) if nm > NEGLIGIBLE * scale.max() * np.sqrt(mr.shape[-1]) else float("nan")  # fmt: skip
        errs = []
        for a in range(len(g)):
            b = nearest[a]
            ref = dr[b, i, j]
            nref = np.linalg.norm(ref)
            if nref > 1e-300:
                errs.append(np.linalg.norm(aligned(a, b)[i, j] - ref) / max(nref, FLOOR * detail_main[b]))
        out[f"detail_{key}"] = float(np.mean(errs)) if errs else float("nan")
        floor = 1e-6 * max(spec_g[i, j].max(), spec_r[i, j].max(), 1e-300)
        out[f"spectrum_{key}"] = float(np.mean(np.abs(np.log10(np.maximum(spec_g[i, j], floor))
                                                      - np.log10(np.maximum(spec_r[i, j], floor)))))  # fmt: skip
    main = max(comps, key=lambda c: scale[c]) if comps else (1, 2)
    pg = np.abs(np.fft.rfft(dg[:, main[0], main[1]][..., rows], axis=1)) ** 2
    pr = np.abs(np.fft.rfft(dr[:, main[0], main[1]][..., rows], axis=1)) ** 2
    k_r = int(pr.mean(axis=(0, 2))[1:].argmax()) + 1
    out["period"] = float(np.mean(pg.mean(axis=2)[:, 1:].argmax(axis=1) + 1 == k_r))
    # ensembles: whole fields in per-component units
    full_w = _norm_weights(r)
    dgr, _ = slab_aligned_distances(g, r, full_w, gb_frac)
    dgg, _ = slab_aligned_distances(g, g, full_w, gb_frac)
    drr, _ = slab_aligned_distances(r, r, full_w, gb_frac)
    nr = ((r * full_w[None, :, :, None, None]) ** 2).sum(axis=(1, 2, 3, 4))  # squared norms of the atomistic fields
    er = np.sqrt(nr).mean()
    e = 2 * np.sqrt(dgr).mean() - np.sqrt(dgg).mean() - np.sqrt(drr).mean()
    out["energy_distance"] = float(e / er) if er > 0 else float("nan")
    out["coverage"] = float(np.mean(np.sqrt(dgr.min(axis=0) / np.maximum(nr, 1e-300))))
    if len(g) > 1 and len(r) > 1:
        off_g, off_r = ~np.eye(len(g), dtype=bool), ~np.eye(len(r), dtype=bool)
        pair_r = np.sqrt(drr[off_r]).mean()
        out["spread"] = float(np.sqrt(dgg[off_g]).mean() / pair_r) if pair_r > 0 else float("nan")
    if train is not None and len(train):
        dt, _ = slab_aligned_distances(g, as_2d(train), full_w, gb_frac)
        out["memorisation"] = float(np.mean(np.sqrt(dt.min(axis=1)) / np.maximum(np.sqrt(dgr.min(axis=1)), 1e-300)))
    return out


def cores_found(fields, cores, lengths, burgers_box) -> float:
    """Mean over the samples of ``fields`` (N, 3, 3, nx, ny[, nz]) of the fraction of their ``cores`` (K, 3: x_frac,
    y_frac, sign; NaN rows none; or (N, K, 3), each sample's own) present in the sample: line-z content of at
    least half the core's Burgers vector ``burgers_box`` (Å) within 4 Å of it; NaN when no sample is given a core.
    Cores are not shifted: a method receives them as inputs and is asked to draw them there."""
    from nyegan.dataset.cores import dislocations_present

    g = as_2d(fields)
    cores = np.asarray(cores, float)
    per_sample = np.broadcast_to(cores, (len(g),) + cores.shape[-2:])
    found = []
    for f, c in zip(g, per_sample):
        valid = np.isfinite(c).all(axis=1)
        if valid.any():
            found.append(dislocations_present(f, c[valid], lengths, burgers_box, 2).mean())
    return float(np.mean(found)) if found else float("nan")


def harmonic_profile(component, periods: int, gb_frac: float, Ly: float, harmonic: int = 1,
                     window: float = 8.0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The modulation of one boundary as a y-profile: for a 2D field component (nx, ny) in 1/Å, the complex
    amplitude c(y) of the x mode ``harmonic`` × ``periods`` (``periods``: periods of the structure in the cell),
    field = Σ 2 Re(c(y) exp(2πi k x/Lx)) + ..., in the rows within ``window`` Å of the boundary at ``gb_frac``.

    Returns (dy, c): the rows' distances from the boundary (Å, ascending) and their amplitudes (1/Å). On the study
    data nearly all of a boundary's detail lies in its first two harmonics, so these profiles say what the
    modulation is: one row of units on the plane (one phase across the rows), or units alternating between two
    rows on either side of it (:func:`phase_span` ≈ π)."""
    a = np.asarray(component, dtype=np.float64)
    nx, ny = a.shape
    k = int(harmonic) * int(periods)
    if not 0 < k <= nx // 2:
        raise ValueError(f"mode {k} (harmonic {harmonic} x {periods} periods) is not resolved by {nx} points along x")
    dy = ((np.arange(ny) + 0.5) / ny - float(gb_frac) + 0.5) % 1.0 * Ly - 0.5 * Ly
    order = np.argsort(dy)
    order = order[np.abs(dy[order]) <= window]
    c = np.fft.fft(a, axis=0)[k] / nx
    return dy[order], c[order]


def phase_span(c, threshold: float = 0.25) -> float:
    """Range (radians) of the unwrapped phase of a profile ``c`` (from :func:`harmonic_profile`) over the rows
    where |c| is at least ``threshold`` of its peak: ≈ 0 for one row of units, ≈ π for two rows half a period
    apart (the harmonic changes sign across the boundary)."""
    c = np.asarray(c)
    strong = np.abs(c) >= threshold * np.abs(c).max()
    return float(np.ptp(np.unwrap(np.angle(c[strong])))) if strong.any() else float("nan")
