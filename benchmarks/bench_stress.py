"""Speed and memory of the spectral FDM stress solve (nyegan.stress.solve_fdm) on 3D grids.

Targets: a 128^3 grid in < 10 s on 2 cores; a 256^3 grid within 4 GB (peak resident memory of the whole process,
interpreter, numpy/scipy/torch imports and the input alpha included). Each size runs in a fresh subprocess so its
peak memory (ru_maxrss) is its own. Printed side by side: the solve with 1 and 2 FFT workers, and the floor set by
the 18 bare FFTs (9 forward + 9 inverse transforms of the same grid) the solve has to do.

Run: PYTHONPATH=src python benchmarks/bench_stress.py [--sizes 128 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from scipy import fft as sfft
from nyegan.stress import solve_fdm, box_stiffness, divergence_residual
from nyegan.rotations import rotation_about_axis_deg

n, workers, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
base = rss_gb()
rng = np.random.default_rng(0)
alpha = rng.standard_normal((3, 3, n, n, n))  # content does not change the cost; the solve projects it
alpha *= 1e-3
with_alpha = rss_gb()
cell = np.diag([n * 0.5] * 3)
C = box_stiffness(106.3, 59.5, 30.7, rotation_about_axis_deg([0, 0, 1], 20.0))
out = {"n": n, "workers": workers, "rss_imports_gb": base, "rss_with_alpha_gb": with_alpha}
if mode == "fft":
    t = time.perf_counter()
    for i in range(3):
        for j in range(3):
            s = sfft.rfftn(alpha[i, j], workers=workers)
            alpha[i, j] = sfft.irfftn(s, s=alpha.shape[2:], workers=workers, overwrite_x=True)
    out["fft_s"] = time.perf_counter() - t
else:
    t = time.perf_counter()
    sol = solve_fdm(alpha, cell, C, "central", workers=workers, overwrite_alpha=(mode == "inplace"))
    out["solve_s"] = time.perf_counter() - t
    out["rss_peak_gb"] = rss_gb()
    if n <= 128:
        t = time.perf_counter()
        out["div_residual"] = divergence_residual(sol.stress_voigt, cell, "central", workers=workers)
        out["residual_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def run(n: int, workers: int, mode: str) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(workers), mode], capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"benchmark child failed (n={n}, {mode}):\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=int, default=[128, 256])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    for n in args.sizes:
        if n <= 128:
            one = run(n, 1, "copy")
            two = run(n, args.workers, "copy")
            fft = run(n, args.workers, "fft")
            print(
                f"{n}^3: solve {two['solve_s']:.2f} s with {args.workers} workers, {one['solve_s']:.2f} s with 1 "
                f"(speed-up x{one['solve_s'] / two['solve_s']:.2f}); 18 bare FFTs {fft['fft_s']:.2f} s "
                f"(solve / FFT floor = {two['solve_s'] / fft['fft_s']:.2f}); target < 10 s: "
                f"{'met' if two['solve_s'] < 10 else 'MISSED'}"
            )
            print(
                f"      peak RSS {two['rss_peak_gb']:.2f} GB (imports {two['rss_imports_gb']:.2f}, + alpha "
                f"{two['rss_with_alpha_gb']:.2f}); div sigma residual {two['div_residual']:.1e} "
                f"({two['residual_s']:.2f} s)"
            )
        else:
            copy = run(n, args.workers, "copy")
            inplace = run(n, args.workers, "inplace")
            for name, r in (("new output arrays", copy), ("Ue written over alpha", inplace)):
                print(
                    f"{n}^3 ({name}): solve {r['solve_s']:.1f} s, peak RSS {r['rss_peak_gb']:.2f} GB "
                    f"(imports {r['rss_imports_gb']:.2f}, + alpha {r['rss_with_alpha_gb']:.2f}); target <= 4 GB: "
                    f"{'met' if r['rss_peak_gb'] <= 4.0 else 'MISSED'}"
                )
            print(f"      in-place / copy peak memory = {inplace['rss_peak_gb'] / copy['rss_peak_gb']:.2f}")
    print(f"total benchmark time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
