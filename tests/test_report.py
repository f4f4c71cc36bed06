"""The workflow report: a reduced sweep runs end to end (real LAMMPS, Nye, dataset, GAN, stresses), then
``snakemake --report report.html`` builds one self-contained HTML file holding every expected figure, captioned and
in its category. A figure added to the workflow with ``report(...)`` belongs in ``expected_figures`` below."""

import base64
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nyegan.config import check_config, load_config

ROOT = Path(__file__).resolve().parents[1]

# the demo's kinds of cases (two [001] boundaries, one edge dislocation), small and with a one-state GB search
REDUCED = {
    "structures": {
        "min_size": [10.0, 30.0, 8.0],
        "grain_boundaries": [{"axis": [0, 0, 1], "planes": [[3, 1, 0], [2, 1, 0]]}],
        "dislocations": [{"character": "edge", "min_size": [40.0, 30.0, 8.0]}],
        "gb_dislocations": [],
    },
    "relax": {
        "mpi_tasks": 1,
        "gb_search": {"translations": [1, 1], "deletion_cutoffs": [0.0], "n_full": 1, "refine_rounds": 0},
    },
    "dataset": {"grid": [16, 32]},
    "gan": {
        "steps": 4,
        "steps_per_epoch": 2,
        "batch_size": 4,
        "checkpoint_every": 2,
        "log_every": 1,
        "nz": 8,
        "width_g": 4,
        "width_d": 4,
        "depth": 1,
        "n_down": 2,
        "embed": 8,
        "n_critic": 2,
        "n_per_condition": 2,
        "accelerator": "cpu",
        "allow_extrapolation": True,
    },
    "benchmark": {"folds": 2, "n_samples": 2, "steps": 4},
}


def expected_figures(cases: dict) -> dict[str, str]:
    """{figure path: report category} that a report of a sweep with these cases must hold."""
    figures = {
        "results/nye/frank_bilby.png": "Physics checks",
        "results/nye/burgers.png": "Physics checks",
        "results/gan/training_curves.png": "GAN",
        "results/gan/physics_residuals.png": "GAN",
        "results/gan/mean_profiles.png": "GAN",
        "results/gan/power_spectra.png": "GAN",
        "results/gan/benchmark_fields.png": "GAN",
        "results/stress/generated.png": "Stresses",
        "results/stress/generated_vs_atomistic.png": "Stresses",
    }
    if any(c.kind == "gb" for c in cases.values()):
        figures["results/gb_energies.png"] = "Grain boundaries"
    for name in cases:
        figures[f"results/nye/{name}.png"] = "Nye fields"
        figures[f"results/stress/{name}.png"] = "Stresses"
        figures[f"results/stress/{name}.atomistic.png"] = "Stresses"
    return figures


def _report_variable(html: str, name: str):
    """The JSON data of Snakemake's report page: <script id="results"> var results = {...}; </script>."""
    m = re.search(rf'<script id="{name}">\s*var \w+ = (.*?);\s*</script>', html, re.S)
    assert m, f"report.html holds no '{name}' data"
    return json.loads(m.group(1))


def _snakemake(*args, cwd, timeout=900):
    r = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory):
    """The reduced sweep, run once, and its report."""
    work = tmp_path_factory.mktemp("report")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(REDUCED)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    _snakemake("--cores", "2", "--configfile", "config.yaml", cwd=work)
    _snakemake("--configfile", "config.yaml", "--report", "report.html", cwd=work, timeout=300)
    return work, check_config(load_config(work / "config.yaml"))


@pytest.mark.slow
def test_report_holds_every_figure_captioned_and_categorised(reduced_run):
    import matplotlib.image as mpimg

    work, cases = reduced_run
    html = (work / "report.html").read_text()
    results = _report_variable(html, "results")
    categories = _report_variable(html, "categories")
    in_category = {path: cat for cat, subcats in categories.items() for paths in subcats.values() for path in paths}
    expected = expected_figures(cases)
    missing = sorted(set(expected) - set(results))
    assert not missing, f"figures missing from the report: {missing}"
    for path, category in expected.items():
        res = results[path]
        assert in_category.get(path) == category, (path, in_category.get(path))
        caption = res["caption"]
        assert len(re.sub(r"<[^>]+>", "", caption).strip()) > 80, f"{path}: no caption"
        assert "{{" not in caption and "System Message" not in caption, f"{path}: caption not rendered: {caption}"
        # self-contained: the PNG itself is embedded, byte for byte the workflow's file, and not blank
        header, data = res["data_uri"].split("base64,", 1)
        assert header.startswith("data:image/png")
        png = base64.b64decode(data)
        assert hashlib.sha256(png).digest() == hashlib.sha256((work / path).read_bytes()).digest(), path
        img = mpimg.imread(io.BytesIO(png), format="png")
        assert img.shape[0] > 200 and img.shape[1] > 300 and float(np.std(img[..., :3])) > 0.02, path
    assert not re.search(r"""(src|href)=["']https?://""", html), "report.html loads something from the network"
    assert "Frank" in _report_variable(html, "workflow-desc")  # the report's own introduction (workflow.rst)


@pytest.mark.slow
def test_report_check_tables_agree_with_theory(reduced_run):
    work, cases = reduced_run
    fb = pd.read_csv(work / "results/nye/frank_bilby.csv")
    gb = [name for name, c in cases.items() if c.kind == "gb"]
    assert sorted(set(fb["case"])) == sorted(gb) and len(fb) == 2 * len(gb)  # two boundaries per cell
    # Frank–Bilby: 2 sin(θ/2) with θ = 36.87° (minimum-angle reading of both Σ5 boundaries), opposite pairs
    assert np.allclose(fb["frank_bilby_2sin_half_theta"], 2 * np.sin(np.radians(36.869897645844) / 2), rtol=1e-9)
    assert fb["relative_error"].max() < 1e-3
    assert fb["sum_with_partner"].max() < 1e-9
    b = pd.read_csv(work / "results/nye/burgers.csv")
    assert list(b["case"]) == ["disl-edge-quadrupolar"] * 2
    a0 = json.loads((work / "results/structures/disl-edge-quadrupolar.json").read_text())["a0"]
    assert np.allclose(b["burgers_A"], a0 / np.sqrt(2), rtol=0.01)  # |b| = a0/√2
    assert np.allclose(b["character_angle_deg"], 90.0, atol=1.0)  # edge: b ⊥ line
    metrics = pd.read_csv(work / "results/gan/logs/version_0/metrics.csv")
    assert {"train/loss_d", "train/wasserstein", "physics/div_rel"} <= set(metrics.columns)


@pytest.mark.slow
def test_readme_snippet_reads_a_field_of_the_run(reduced_run, monkeypatch, capsys):
    """The README's xarray snippet runs as printed on a field the workflow wrote."""
    work, _ = reduced_run
    snippets = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert snippets
    monkeypatch.chdir(work)
    exec(compile(snippets[0], "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Burgers component" in printed and "0.632" in printed  # convention, then 2 sin(18.43°) per boundary


def test_residual_figure_draws_a_residual_that_is_exactly_zero(tmp_path):
    """A residual the construction zeroes (e.g. div α of a curl) is all 0: the figure is written, linear axis."""
    import pandas as pd

    from nyegan.report.training import plot_physics_residuals

    df = pd.DataFrame({"step": [0, 1, 2], "physics/div": [0.0, 0.0, 0.0], "physics/mean": [1e-3, 2e-4, 0.0]})
    plot_physics_residuals(df, tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000
