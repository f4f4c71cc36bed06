"""Finite-temperature microstates: MD snapshots of a relaxed ground state, optionally quenched.

The snapshots are seeded (``relax.ensemble.md.seed``) and, run serially, reproducible. Each becomes one more frame
of the relaxed dump and one more sample of the dataset, labelled with its temperature.
"""

from __future__ import annotations

from nyegan.potentials import Potential
from nyegan.relax.engine import LammpsRelaxer
from nyegan.relax.parallel import is_root
from nyegan.relax.settings import MinimizeSettings, RelaxSettings
from nyegan.structure import Structure


def md_snapshots(s: Structure, potential: Potential, settings: RelaxSettings, minimize: MinimizeSettings,
                 comm=None, log_file=None, case: str = "?") -> list[tuple[dict, Structure]]:  # fmt: skip
    """(record, structure) per MD snapshot of ``s`` (collective over ``comm``; structures on rank 0 only).

    Records: ``temperature_K``, ``time_ps`` of the snapshot, ``quenched``, ``energy_eV`` (potential energy, after
    the quench when quenched) and the quench's convergence."""
    md = settings.ensemble.md
    relaxer = LammpsRelaxer(potential, n_types=max(2, int(s.grain.max())), comm=comm, log_file=log_file, case=case)
    out = []
    try:
        relaxer.load(s)
        hot = relaxer.md_snapshots(md)
        dt = md.time_ps / md.snapshots
        for k, snap in enumerate(hot):
            rec = {"stage": "md", "temperature_K": md.temperature, "time_ps": (k + 1) * dt, "quenched": md.quench}
            if md.quench:
                relaxer.load(snap)
                res = relaxer.minimize(minimize)
                snap = relaxer.structure()
                rec.update(
                    energy_eV=res.energy, convergence={k: v for k, v in res.to_dict().items() if k != "box_lengths"}
                )
            else:
                rec["energy_eV"] = float(snap.extra["pe"].sum())
            rec["n_atoms"] = snap.n_atoms
            out.append((rec, snap if is_root(comm) else None))
    finally:
        relaxer.close()
    return out
