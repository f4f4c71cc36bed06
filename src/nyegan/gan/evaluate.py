"""Evaluate generated fields against atomistic (dataset) fields of the same conditions.

Groups: samples sharing (kind, misorientation) for boundaries, or the source case otherwise. Per group:
- ``content_error_fb``: max |B - B_FrankBilby| over slabs and components, averaged over generated samples
  (boundary cells only; dimensionless, Å per Å of boundary), and ``content_error_data``: the same against
  the content measured on the atomistic fields;
- ``div_rel_generated`` / ``div_rel_atomistic``: relative divergence residual in the dataset's scheme
  (atomistic: before the dataset's projection, as stored in ``div_residual_raw``);
- ``spectrum_distance`` and ``correlation_distance`` (``nyegan.gan.metrics``) between the generated and the
  atomistic ensembles;
- ``mean_field_error``: ||<alpha>_gen(y) - <alpha>_real(y)|| / ||<alpha>_real(y)|| of the x-averaged
  conditional mean fields.
Writes ``metrics.json`` (groups + means over groups) and PNG plots into ``out_dir``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nyegan import content as content_mod
from nyegan import fieldops
from nyegan.contracts import GENERATED
from nyegan.dataset import load_dataset
from nyegan.gan import metrics
from nyegan.gan.physics import targets_from_condition
from nyegan.io import write_json
from nyegan.provenance import provenance


def _group_keys(kind, mis, case):
    return [f"{k} {m:g}deg" if np.isfinite(m) else f"{k} {c}" for k, m, c in zip(kind, mis, case)]


def check_same_grid(gen, ds, generated_path, dataset_path) -> None:
    """Generated and atomistic fields must share one grid (spatial dims and node counts), else ValueError."""
    sp = [d for d in ("x", "y", "z") if d in ds["alpha"].dims]
    got = {d: int(gen.sizes[d]) for d in ("x", "y", "z") if d in gen["alpha"].dims}
    want = {d: int(ds.sizes[d]) for d in sp}
    if got != want:
        raise ValueError(
            f"{generated_path}: generated fields on the grid {got}, but dataset {dataset_path} holds fields on "
            f"{want}: evaluate against the dataset the fields were generated from (or regenerate with it)"
        )


def evaluate(generated_path, dataset_path, out_dir) -> dict:
    gen = GENERATED.open(generated_path)
    ds = load_dataset(dataset_path)
    check_same_grid(gen, ds, generated_path, dataset_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dim = int(ds.attrs["dim"])
    scheme = str(ds.attrs["difference_scheme"])
    gkeys = np.array(
        _group_keys(gen["kind"].values.astype(str), gen["misorientation_deg"].values, gen["case"].values.astype(str))
    )
    dkeys = np.array(
        _group_keys(ds["kind"].values.astype(str), ds["misorientation_deg"].values, ds["case"].values.astype(str))
    )
    groups = {}
    profiles, spectra = {}, {}
    for key in sorted(set(gkeys)):
        gi = np.where(gkeys == key)[0]
        di = np.where(dkeys == key)[0]
        a = torch.from_numpy(gen["alpha"].values[gi].astype(np.float64))
        L = torch.from_numpy(gen["cell_lengths"].values[gi, :dim])
        cond = torch.from_numpy(gen["cond"].values[gi])
        gbf = torch.from_numpy(gen["gb_frac"].values[gi])
        tgt, active = targets_from_condition(cond)
        got = content_mod.slab_content(a, gbf, L[:, 1], dim)
        rec = {
            "n_generated": int(len(gi)),
            "n_atomistic": int(len(di)),
            "div_rel_generated": float(fieldops.relative_divergence(a, L, dim, scheme).mean()),
            "mean_rel_generated": float(
                (
                    a.mean(dim=tuple(range(3, 3 + dim))).norm(dim=(1, 2))
                    / a.pow(2).mean(dim=tuple(range(3, 3 + dim))).sum((1, 2)).sqrt()
                ).mean()
            ),
        }
        if bool(active.any()):
            rec["content_error_fb"] = float((got - tgt).abs().amax(dim=(1, 2))[active].mean())
            rec["content_fb"] = float(tgt[active][:, 0, 1].abs().mean())
        if len(di):
            real = ds["alpha"].values[di].astype(np.float64)
            dcont = torch.from_numpy(ds["content"].values[di]).mean(0)
            rec["content_error_data"] = float((got - dcont).abs().amax(dim=(1, 2)).mean())
            rec["div_rel_atomistic"] = float(ds["div_residual_raw"].values[di].mean())
            rec["spectrum_distance"] = metrics.spectrum_distance(a, real, dim)
            rec["correlation_distance"] = metrics.correlation_distance(a, real, dim)
            pg, pr = metrics.mean_profile(a, dim), metrics.mean_profile(real, dim)
            rec["mean_field_error"] = float(np.linalg.norm(pg - pr) / (np.linalg.norm(pr) + 1e-300))
            profiles[key] = {"dataset": pr[1, 2], "generated": pg[1, 2]}
            spectra[f"{key} dataset"] = metrics.power_spectra(real, dim)
            spectra[f"{key} generated"] = metrics.power_spectra(a, dim)
        groups[key] = rec
    names = sorted({k for r in groups.values() for k in r if not k.startswith("n_")})
    summary = {n: float(np.mean([r[n] for r in groups.values() if n in r])) for n in names}
    result = {
        "summary": summary,
        "groups": groups,
        "difference_scheme": scheme,
        "physics": gen.attrs.get("physics", ""),
        "generated": str(generated_path),
        "dataset": str(dataset_path),
        "provenance": provenance("gan", {}, inputs=[generated_path, dataset_path]),
    }
    write_json(out_dir / "metrics.json", result)
    from nyegan.gan.plots import profiles_figure, spectra_figure

    profiles_figure(profiles, out_dir / "mean_profiles.png")  # written even when empty (workflow outputs)
    spectra_figure(spectra, out_dir / "power_spectra.png")
    return result
