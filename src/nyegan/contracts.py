"""The files passed between stages, each defined once: what it must hold, who writes it, its format version.

Every contract is checked where its file is written and where it is read. A file that breaks its contract gets one
clear error naming the file, the key and the stage that writes it (:class:`ContractError`), and a file written
before format versions existed, or by a newer nyegan, is refused with the command that rewrites it, never with a
``KeyError`` deep inside a later stage.

JSON files carry ``"format"`` and ``"format_version"`` keys; netCDF files carry the global attributes
``nyegan_format`` and ``nyegan_format_version``. Every nyegan writer also records where the file came from
(:mod:`nyegan.provenance`): a ``provenance`` key in JSON files, a JSON string attribute ``provenance`` in netCDF
files, checked when present. netCDF variables are written with HDF5 Fletcher-32 checksums, so a file damaged
after it was written is refused when read instead of giving silently wrong numbers. ``docs/contracts.md`` is rendered from this module
(:func:`render_markdown`, ``nyegan contracts-docs``).

================  ========================================  =============================================
contract          file                                      written by
================  ========================================  =============================================
structure         results/structures/{case}.json            structures stage (nyegan build)
relaxed           results/relaxed/{case}.json               relaxation stage (nyegan relax)
nye_field         results/nye/{case}.nc                     Nye stage (nyegan nye)
dataset           results/dataset.nc                        dataset stage (nyegan dataset)
generated         results/gan/generated.nc                  generation (nyegan generate)
stress            results/stress/{case}.nc                  stress stage (nyegan stress)
================  ========================================  =============================================
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from nyegan.provenance import SCHEMA as PROVENANCE_SCHEMA

SPATIAL = ("x", "y", "z")


class ContractError(ValueError):
    """A file that does not hold what its contract says; the message names the file, the key and the writer."""


def _matrix3() -> dict:
    row = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
    return {"type": "array", "items": row, "minItems": 3, "maxItems": 3}


def _vector3(kind: str = "number") -> dict:
    return {"type": "array", "items": {"type": kind}, "minItems": 3, "maxItems": 3}


# ---------------------------------------------------------------------------------------------------------------
# JSON contracts
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JsonContract:
    """A JSON file: a JSON schema of the keys every reader relies on (extra keys are allowed and kept)."""

    name: str
    version: int
    writer: str
    rewrite: str
    description: str
    schema: dict
    example: str = ""

    def stamp(self, data: dict) -> dict:
        return {"format": self.name, "format_version": self.version, **{k: v for k, v in data.items()
                                                                         if k not in ("format", "format_version")}}  # fmt: skip

    def check(self, data, path: str | os.PathLike = "<memory>") -> dict:
        """Return ``data`` if it satisfies the contract, else raise :class:`ContractError`."""
        import jsonschema

        where = f"{path} ({self.name} file, written by the {self.writer})"
        if not isinstance(data, dict):
            raise ContractError(f"{where}: expected a JSON object, got {type(data).__name__}")
        fmt, version = data.get("format"), data.get("format_version")
        if fmt is None or version is None:
            raise ContractError(f"{where}: no format version: written by an older nyegan or by hand; "
                                f"rewrite it with {self.rewrite}")  # fmt: skip
        if fmt != self.name:
            raise ContractError(f"{where}: this is a '{fmt}' file, not a '{self.name}' file")
        if version != self.version:
            raise ContractError(f"{where}: format version {version}, this nyegan reads version {self.version}; "
                                f"rewrite it with {self.rewrite}")  # fmt: skip
        errors = sorted(jsonschema.Draft202012Validator(self.schema).iter_errors(data), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            if e.validator == "required":
                key = e.message.split("'")[1]
                msg = "missing"
            else:
                msg = e.message
            raise ContractError(f"{where}: key '{key}': {msg}")
        return data

    def write(self, path: str | os.PathLike, data: dict) -> dict:
        """Stamp, check and write ``data`` atomically; returns what was written."""
        from nyegan.io.atomic import write_json

        data = self.check(_plain(self.stamp(data)), path)
        write_json(path, data)
        return data

    def read(self, path: str | os.PathLike) -> dict:
        """Read and check a file of this contract."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such {self.name} file (written by the {self.writer}); "
                                    f"create it with {self.rewrite}")  # fmt: skip
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ContractError(f"{path} ({self.name} file): not valid JSON ({exc}); the file is damaged or "
                                f"truncated: rewrite it with {self.rewrite}") from None  # fmt: skip
        return self.check(data, path)


def _plain(obj):
    """JSON-able copy (numpy scalars and arrays, tuples, paths)."""
    from nyegan.io.atomic import _to_jsonable

    return _to_jsonable(obj)


_ATOMISTIC_KEYS = ["n_atoms", "element", "potential", "rotations", "seed", "nyegan_version"]
_BOUNDARY_KEYS = ["axis", "plane", "sigma", "misorientation_deg", "gb_y", "boundary_type", "periodic_cell"]
_DISLOCATION_KEYS = ["character", "burgers_box", "line", "dislocations", "arrangement"]

STRUCTURE = JsonContract(
    name="structure",
    version=1,
    writer="structures stage (rule build_structure, `nyegan build`)",
    rewrite="`nyegan build ...` or `snakemake --forcerun build_structure`",
    description=(
        "Metadata of one built cell, next to its LAMMPS data file (atom type = grain id). Lengths in Å, angles "
        "in degrees; rotations map crystal to box (rows = crystal directions along box x, y, z). Read by the "
        "relaxation, Nye and dataset stages and by generation requests. Cells made from analytic fields (tests, "
        "benchmarks) set `analytic: true` and need only the geometric keys."
    ),
    schema={
        "type": "object",
        "required": ["case", "kind", "cell", "a0"],
        "properties": {
            "case": {"type": "string", "minLength": 1, "description": "case name (nyegan.structures.names)"},
            "kind": {"enum": ["gb", "dislocation", "gb_dislocation"], "description": "what the cell holds"},
            "analytic": {"type": "boolean", "description": "true for analytic test fields (no atoms)"},
            "cell": {**_matrix3(), "description": "box vectors as rows (Å), LAMMPS restricted triclinic"},
            "a0": {"type": "number", "exclusiveMinimum": 0, "description": "lattice parameter of the atoms (Å)"},
            "n_atoms": {"type": "integer", "minimum": 1, "description": "atoms in the data file"},
            "element": {"type": "string", "description": "element of the potential"},
            "potential": {"type": "string", "description": "potential file name"},
            "rotations": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": _matrix3(),
                "description": "per grain id (atom type): crystal-to-box rotation",
            },
            "seed": {"type": "integer", "description": "seed recorded for reproducibility"},
            "axis": {**_vector3("integer"), "description": "tilt / twist axis [uvw] of grain A"},
            "plane": {**_vector3("integer"), "description": "boundary plane (hkl) of grain A"},
            "sigma": {"type": "integer", "minimum": 1, "description": "Σ of the coincidence lattice"},
            "misorientation_deg": {"type": "number", "description": "tilt / twist angle (degrees, table convention)"},
            "gb_y": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": "y of the two boundaries (Å)",
            },
            "boundary_type": {"enum": ["symmetric_tilt", "symmetric_twist"], "description": "boundary geometry"},
            "periodic_cell": {**_vector3(), "description": "smallest periodic (CSL) cell lengths (Å)"},
            "character": {"enum": ["edge", "screw", "mixed"], "description": "dislocation character"},
            "burgers_box": {**_vector3(), "description": "Burgers vector in the box frame (Å)"},
            "line": {**_vector3("integer"), "description": "line direction [uvw] (crystal)"},
            "dislocations": {
                "type": "array",
                "items": {"type": "object", "required": ["position", "sign"]},
                "description": "cores: position [x, y] (Å) and sign (±1 times burgers_box)",
            },
            "distance_to_gb": {"type": "number", "minimum": 0, "description": "core-to-boundary distance (Å)"},
            "size_converged": {
                "type": "boolean",
                "description": "dislocation cells: the cell reaches the size-converged cell of its character "
                "(nyegan.structures.dislocation.CONVERGED_MIN_SIZE); `note` says why not",
            },
            "provenance": PROVENANCE_SCHEMA,
        },
        "allOf": [
            {
                "if": {"not": {"required": ["analytic"], "properties": {"analytic": {"const": True}}}},
                "then": {"required": _ATOMISTIC_KEYS},
            },
            {
                "if": {"properties": {"kind": {"const": "gb"}}, "not": {"required": ["analytic"]}},
                "then": {"required": _BOUNDARY_KEYS},
            },
            {
                "if": {"properties": {"kind": {"const": "dislocation"}}, "not": {"required": ["analytic"]}},
                "then": {"required": _DISLOCATION_KEYS},
            },
            {
                "if": {"properties": {"kind": {"const": "gb_dislocation"}}, "not": {"required": ["analytic"]}},
                "then": {"required": [*_BOUNDARY_KEYS, *_DISLOCATION_KEYS, "distance_to_gb"]},
            },
            {
                "if": {"properties": {"kind": {"enum": ["gb", "gb_dislocation"]}}},
                "then": {"required": ["misorientation_deg", "gb_y"]},
            },
        ],
    },  # fmt: skip
    example=(
        "import json\n\n"
        'meta = json.load(open("results/structures/gb-001-S5-310.json"))\n'
        'meta["sigma"], meta["misorientation_deg"], meta["gb_y"]  # 5, 36.87, [y1, y2] in Å'
    ),
)

RELAXED = JsonContract(
    name="relaxed",
    version=1,
    writer="relaxation stage (rule relax, `nyegan relax`)",
    rewrite="`nyegan relax IN.data -o OUT.dump` or `snakemake --forcerun relax`",
    description=(
        "Record of one relaxation, next to its LAMMPS dump (`id type x y z pe`). Energies in eV, boundary "
        "energies in mJ/m², lengths in Å. `build` repeats the structure metadata; boundaries add the searched "
        "states and the chosen one; dislocation cells add the Shockley partial separations."
    ),
    schema={
        "type": "object",
        "required": [
            "case",
            "kind",
            "energy_eV",
            "n_atoms",
            "cell",
            "potential",
            "a0",
            "ecoh_eV",
            "convergence",
            "settings",
            "build",
            "n_states",
            "warnings",
            "nyegan_version",
        ],
        "properties": {
            "case": {"type": "string", "minLength": 1},
            "kind": {"enum": ["gb", "dislocation", "gb_dislocation", "other"]},
            "energy_eV": {"type": "number"},
            "n_atoms": {"type": "integer", "minimum": 1},
            "cell": _matrix3(),
            "potential": {"type": "object", "required": ["name", "path", "sha256", "pair_style"]},
            "a0": {"type": "number", "exclusiveMinimum": 0},
            "ecoh_eV": {"type": "number", "exclusiveMinimum": 0},
            "convergence": {"type": "object", "required": ["energy", "fnorm", "converged", "stop_criterion"]},
            "gb_energy_mJ_m2": {"type": "number"},
            "chosen_state": {"type": "object"},
            "states": {"type": "array", "items": {"type": "object", "required": ["gb_energy_mJ_m2"]}},
            "equivalent_states": {
                "type": "array",
                "items": {"type": "object", "required": ["tx", "tz", "cutoff_nn", "same_as"]},
                "description": "GB search: trial states not relaxed because their starting structure is a symmetry "
                "image of an earlier state's (`same_as`: its tx, tz, cutoff_nn)",
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
            "build": {"type": "object", "required": ["case", "kind"]},
            "size_converged": {
                "type": "boolean",
                "description": "dislocation cells: cores size-converged (cell size, and jitter for screw cores); "
                "`size_note` says why not",
            },
            "cg_runs": {
                "type": "object",
                "description": "GB search: CG runs of this run by kind (screen, full, final, anneal, replay = "
                "structures rebuilt after a resume)",
            },
            "resumed": {
                "type": ["object", "null"],
                "description": "GB search: what was taken over from the checkpoint OUT.search.jsonl of a killed run",
            },
            "provenance": PROVENANCE_SCHEMA,
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": "gb"}}}, "then": {"required": ["gb_energy_mJ_m2", "chosen_state"]}}
        ],
    },  # fmt: skip
    example=(
        "import json\n\n"
        'rec = json.load(open("results/relaxed/gb-001-S5-310.json"))\n'
        'rec["gb_energy_mJ_m2"], rec["chosen_state"], len(rec["states"])'
    ),
)


# ---------------------------------------------------------------------------------------------------------------
# netCDF contracts
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    """A declared variable: its leading dims (then any spatial dims in x, y, z order when ``spatial``), units."""

    name: str
    dims: tuple[str, ...]
    units: str | None = None
    spatial: bool = False
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class NetcdfContract:
    """A netCDF file: declared variables (dims, units) and global attributes (``attrs``: name -> meaning)."""

    name: str
    version: int
    writer: str
    rewrite: str
    description: str
    variables: tuple[Variable, ...]
    attrs: dict = field(default_factory=dict)
    leading_optional: tuple[str, ...] = ()  # dims that may precede every spatial variable (e.g. "time")
    example: str = ""

    def _where(self, path) -> str:
        return f"{path} ({self.name} file, written by the {self.writer})"

    def check(self, ds, path: str | os.PathLike = "<memory>"):
        """Return ``ds`` if it satisfies the contract, else raise :class:`ContractError`."""
        where = self._where(path)
        fmt = ds.attrs.get("nyegan_format")
        version = ds.attrs.get("nyegan_format_version")
        if fmt is None or version is None:
            raise ContractError(f"{where}: no format version (attribute nyegan_format_version): written by an "
                                f"older nyegan or another program; rewrite it with {self.rewrite}")  # fmt: skip
        if str(fmt) != self.name:
            raise ContractError(f"{where}: this is a '{fmt}' file, not a '{self.name}' file")
        if int(version) != self.version:
            raise ContractError(f"{where}: format version {int(version)}, this nyegan reads version {self.version}; "
                                f"rewrite it with {self.rewrite}")  # fmt: skip
        for var in self.variables:
            if var.name not in ds.variables:
                if var.required:
                    raise ContractError(f"{where}: variable '{var.name}' missing")
                continue
            dims = tuple(ds[var.name].dims)
            lead = tuple(d for d in dims if d in self.leading_optional)
            rest = dims[len(lead) :]
            n = len(var.dims)
            ok = rest[:n] == var.dims
            tail = rest[n:]
            if var.spatial:
                ok = ok and len(tail) >= 1 and tail == tuple(d for d in SPATIAL if d in tail)
            else:
                ok = ok and not tail
            if not ok:
                want = var.dims + (("x", "y", "[z]") if var.spatial else ())
                raise ContractError(f"{where}: variable '{var.name}' has dims {dims}, expected {want}")
            if var.units is not None and ds[var.name].attrs.get("units") != var.units:
                raise ContractError(f"{where}: variable '{var.name}' has units "
                                    f"{ds[var.name].attrs.get('units')!r}, expected {var.units!r}")  # fmt: skip
        for name in self.attrs:  # a per-frame quantity of a multi-frame file may be a variable instead
            if name not in ds.attrs and name not in ds.variables:
                raise ContractError(f"{where}: global attribute '{name}' missing")
        if "provenance" in ds.attrs:
            check_provenance(ds.attrs["provenance"], where)
        return ds

    def stamp(self, ds):
        ds.attrs["nyegan_format"] = self.name
        ds.attrs["nyegan_format_version"] = self.version
        return ds

    def write(self, ds, path: str | os.PathLike, **to_netcdf):
        """Stamp, check and write ``ds`` as netCDF4 atomically (``to_netcdf`` passed on, e.g. encoding); numeric
        variables get HDF5 Fletcher-32 checksums (:func:`checksum_encoding`)."""
        from nyegan.io.atomic import atomic_path

        self.check(self.stamp(ds), path)
        encoding = checksum_encoding(ds, to_netcdf.pop("encoding", None))
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding, **to_netcdf)
        return ds

    def open(self, path: str | os.PathLike, load: bool = True):
        """Open (and by default load into memory) a file of this contract, checked."""
        import xarray as xr

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such {self.name} file (written by the {self.writer}); "
                                    f"create it with {self.rewrite}")  # fmt: skip
        if path.stat().st_size == 0:
            raise ContractError(f"{path} ({self.name} file): empty; rewrite it with {self.rewrite}")
        try:
            ds = _open_in_memory(path) if load else xr.open_dataset(path, engine="netcdf4")
        except Exception as exc:  # netCDF4/HDF5 raise OSError, ValueError or RuntimeError on damaged files
            raise ContractError(f"{path} ({self.name} file): not a readable netCDF file ({type(exc).__name__}: "
                                f"{exc}); it is damaged or truncated: rewrite it with {self.rewrite}") from None  # fmt: skip
        try:
            self.check(ds, path)
            if load:
                try:
                    loaded = ds.load()
                except Exception as exc:  # HDF5 checksum or decompression failure: damaged after writing
                    raise ContractError(f"{path} ({self.name} file): its data cannot be read ({type(exc).__name__}: "
                                        f"{exc}: a checksum mismatch or a damaged block); the file is damaged: "
                                        f"rewrite it with {self.rewrite}") from None  # fmt: skip
                ds.close()
                return loaded
            return ds
        except BaseException:
            ds.close()
            raise


def _open_in_memory(path: Path):
    """The file read from its bytes (HDF5's in-memory driver), not through a second handle on the file.

    Closing a second netCDF4 handle of a file that holds string variables while another handle of it is open
    (a user's ``xr.open_dataset`` of the same file) leaves HDF5 in a state where the next open crashes the
    interpreter (pydata/xarray#8289); a checked read that never opens the file itself cannot do that."""
    import netCDF4
    import xarray as xr

    nc = netCDF4.Dataset(str(path), mode="r", memory=path.read_bytes())
    ds = xr.open_dataset(xr.backends.NetCDF4DataStore(nc))
    ds.encoding["source"] = str(path)
    return ds


def checksum_encoding(ds, encoding: dict | None = None) -> dict:
    """netCDF4 encoding adding HDF5 Fletcher-32 checksums to every numeric variable (strings cannot carry
    filters); entries of ``encoding`` win."""
    out = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "biuf" and var.ndim > 0:
            out[name] = {"fletcher32": True}
    for name, enc in (encoding or {}).items():
        out[name] = {**out.get(name, {}), **enc}
    return out


def check_provenance(value, where: str) -> dict:
    """A provenance record (dict, or the JSON string of a netCDF attribute) checked against its schema."""
    import jsonschema

    try:
        record = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise ContractError(f"{where}: attribute 'provenance' is not valid JSON ({exc})") from None
    errors = list(jsonschema.Draft202012Validator(PROVENANCE_SCHEMA).iter_errors(record))
    if errors:
        raise ContractError(f"{where}: attribute 'provenance': {errors[0].message}")
    return record


NYE_FIELD = NetcdfContract(
    name="nye_field",
    version=1,
    writer="Nye stage (rule nye_field, `nyegan nye`)",
    rewrite="`nyegan nye DUMP -o FIELD.nc` or `snakemake --forcerun nye_field`",
    description=(
        "Nye dislocation-density tensor of one cell on a regular periodic grid, box frame. `alpha` has dims "
        '(i, j, x, y[, z]): i = Burgers component, j = line direction, labelled "x", "y", "z"; a spatial '
        "dim averaged away is dropped; a trajectory adds a leading `time` dim (coordinate: timestep), a microstate ensemble of the "
        "relaxation stage a leading `state` dim (coordinate: rank; variables gb_energy_mJ_m2, temperature_K). Coordinates in Å (for a "
        "triclinic cell: distances along the cell vectors, see attribute `grid_frame`). Nodes without atoms "
        "(free surfaces, voids) are NaN and `mask` = 0 there."
    ),
    variables=(
        Variable("alpha", ("i", "j"), "1/angstrom", spatial=True, description="Nye tensor α_ij"),
        Variable("mask", (), None, spatial=True, required=False, description="1 where atoms support the field"),
    ),
    attrs={
        "convention": "α = curl Ue, (curl A)_ij = ε_jkl ∂_k A_il; i Burgers, j line; Ue = I − Gᵀ",
        "method": "how the field was made: 'atomistic: G-method ...' or 'analytic ...' (synthetic test fields)",
        "difference_scheme": "derivative scheme of the curl (central for atomistic fields)",
        "cell_lengths": "box lengths (Å)",
        "reference": "reference lattice (JSON: grain rotations, median lattice, correspondence) or a description",
        "correspondence_angle_deg": "angle of the lattice correspondence between the grains (0: one grain)",
        "burgers_content": "JSON list of integrated net Burgers content per boundary or core region",
    },
    leading_optional=("time", "state"),
    example=(
        "import json\n\n"
        "import xarray as xr\n\n"
        'ds = xr.open_dataset("results/nye/gb-001-S5-310.nc")\n'
        'a_yz = ds["alpha"].sel(i="y", j="z")  # 1/Å on (x, y)\n'
        'json.loads(ds.attrs["burgers_content"])[0]["content_per_length"]  # per boundary'
    ),
)

DATASET = NetcdfContract(
    name="dataset",
    version=3,
    writer="dataset stage (rule gan_dataset, `nyegan dataset`)",
    rewrite="`nyegan dataset results/nye/*.nc -o results/dataset.nc` or `snakemake --forcerun gan_dataset`",
    description=(
        "Every case's Nye field on one common grid, with its conditions and the train / validation / held-out "
        "split. Coordinates x, y[, z] are fractional (cell-centred, 0..1): sample n's physical position is "
        "x · cell_lengths[n, 0] (Å). The first boundary of every bicrystal sits at y = 1/4."
    ),
    variables=(
        Variable("alpha", ("sample", "i", "j"), "1/angstrom", spatial=True, description="Nye tensor"),
        Variable("cond", ("sample", "feature"), description="raw condition features (nyegan.dataset.conditions)"),
        Variable("case", ("sample",), description="case name"),
        Variable("kind", ("sample",), description="gb | dislocation | gb_dislocation"),
        Variable("misorientation_deg", ("sample",), "degree"),
        Variable("cell_lengths", ("sample", "axis"), "angstrom"),
        Variable("gb_frac", ("sample", "boundary"), description="fractional y of the two boundaries"),
        Variable("content", ("sample", "boundary", "component"), "1", description="net Burgers content per slab"),
        Variable("split", ("sample",), description="train | validation | heldout"),
        Variable("is_train", ("sample",)),
        Variable("alpha_scale", ("i", "j"), "1/angstrom", description="train rms per component"),
        Variable("cond_mean", ("feature",)),
        Variable("cond_std", ("feature",)),
    ),
    attrs={
        "convention": "curl convention of the fields",
        "dim": "2 (averaged along z) or 3",
        "grid": "common grid (nx, ny[, nz])",
        "difference_scheme": "scheme of the div α = 0 constraint (spectral | central | forward)",
        "source_schemes": "difference schemes of the per-case fields",
    },
    example=(
        "import xarray as xr\n\n"
        'ds = xr.open_dataset("results/dataset.nc")\n'
        'train = ds.where(ds.split == "train", drop=True)\n'
        'train["alpha"].sel(i="y", j="z")  # (sample, x, y), 1/Å'
    ),
)

GENERATED = NetcdfContract(
    name="generated",
    version=1,
    writer="generation (rule gan_generate, `nyegan generate`)",
    rewrite="`nyegan generate CKPT DATASET -o OUT.nc` or `snakemake --forcerun gan_generate`",
    description=(
        "Generated Nye fields, several per requested condition, in the dataset's layout (fractional coordinates, "
        "`cell_lengths` per sample, same curl convention), with the condition each was generated for."
    ),
    variables=(
        Variable("alpha", ("sample", "i", "j"), "1/angstrom", spatial=True),
        Variable("case", ("sample",), description="source case of the condition"),
        Variable("kind", ("sample",)),
        Variable("split", ("sample",)),
        Variable("misorientation_deg", ("sample",), "degree"),
        Variable("cell_lengths", ("sample", "axis"), "angstrom"),
        Variable("gb_frac", ("sample", "boundary")),
        Variable("cond", ("sample", "feature")),
        Variable("content", ("sample", "boundary", "component"), "1"),
    ),
    attrs={
        "convention": "curl convention of the fields",
        "difference_scheme": "scheme of the built-in curl",
        "dim": "2 or 3",
        "checkpoint": "checkpoint the fields were generated with",
    },
    example=(
        "import xarray as xr\n\n"
        'g = xr.open_dataset("results/gan/generated.nc")\n'
        'g["alpha"].where(g.split == "heldout", drop=True)'
    ),
)

STRESS = NetcdfContract(
    name="stress",
    version=1,
    writer="stress stage (rule stress_field / stress_generated, `nyegan stress`)",
    rewrite="`nyegan stress FIELD.nc -o STRESS.nc` or `snakemake --forcerun stress_field`",
    description=(
        "Stress carried by a Nye field, from the spectral Field Dislocation Mechanics elastic solve (docs/stress.md): "
        "Cauchy stress (GPa, tension positive), the elastic distortion and the elastic energy, on the field's own grid "
        "(a leading `sample` dim for dataset or generated files), with the stiffness and the mean-strain choice."
    ),
    variables=(
        Variable("stress", ("i", "j"), "GPa", spatial=True, description="σ_ij = C_ijkl sym(Ue)_kl"),
        Variable("elastic_distortion", ("i", "j"), "1", spatial=True, description="Ue_ij with α = curl Ue"),
        Variable("energy_density", (), "eV/angstrom^3", spatial=True, description="σ : sym(Ue) / 2"),
        Variable("elastic_energy", (), None, description="integral of energy_density (eV/Å in 2D, eV in 3D)"),
        Variable("div_stress_residual", (), "1", description="|div σ| / |grad σ| (L2 over the cell)"),
        Variable("alpha_incompatibility_residual", (), "1", description="|α − curl Ue| / |α|"),
        Variable("stiffness_voigt", ("voigt_row", "voigt_col"), "GPa", description="box-frame stiffness (Voigt)"),
        Variable("mean_strain", ("i", "j"), "1", description="imposed cell-average elastic strain"),
        Variable("mean_stress", ("i", "j"), "GPa", description="cell-average stress C : E"),
    ),
    attrs={
        "convention": "method and sign conventions",
        "alpha_convention": "convention of the input Nye field",
        "difference_scheme": "derivative symbols of the solve (spectral | central | forward)",
        "mean_condition": "zero_stress | strain | stress",
        "stiffness_source": "JSON: potential, C11, C12, C44 (GPa), crystal-to-box rotation(s), or 'explicit'",
        "dim": "2 or 3",
    },
    leading_optional=("sample",),
    example=(
        "import xarray as xr\n\n"
        'st = xr.open_dataset("results/stress/gb-001-S5-310.nc")\n'
        'st["stress"].sel(i="x", j="y")  # GPa on (x, y)'
    ),
)

JSON_CONTRACTS = (STRUCTURE, RELAXED)
NETCDF_CONTRACTS = (NYE_FIELD, DATASET, GENERATED, STRESS)


def render_markdown() -> str:
    """``docs/contracts.md``: every contract with its keys / variables and a snippet reading it."""
    out = [
        "# File contracts between stages",
        "",
        "Generated from `src/nyegan/contracts.py` by `nyegan contracts-docs -o docs/contracts.md`. Every file below",
        "is checked where it is written and where it is read; a file that breaks its contract, or that carries an",
        "old or missing format version, gets an error naming the file, the key and the stage that writes it.",
        "JSON files carry `format` and `format_version`; netCDF files the global attributes `nyegan_format` and",
        "`nyegan_format_version`. Units: Å, eV, GPa, mJ/m², degrees. Every nyegan writer records the file's",
        "provenance (`nyegan.provenance`: the config section and its hash, software versions, input files and their",
        "hashes) as a `provenance` key (JSON) or a JSON string attribute `provenance` (netCDF). netCDF variables",
        "carry HDF5 Fletcher-32 checksums: a file damaged after writing is refused when read.",
        "",
    ]
    for c in JSON_CONTRACTS:
        out += [f"## `{c.name}` (JSON, version {c.version})", "", f"Written by the {c.writer}. {c.description}", ""]
        req = c.schema.get("required", [])
        out += ["| key | type | required | meaning |", "|---|---|---|---|"]
        for key, sub in c.schema["properties"].items():
            typ = sub.get("type") or " or ".join(json.dumps(v) for v in sub.get("enum", []))
            when = (
                "yes" if key in req else ("atomistic cells" if key in _ATOMISTIC_KEYS and c is STRUCTURE else "by kind")
            )
            out.append(f"| `{key}` | {typ} | {when} | {sub.get('description', '')} |")
        out += ["", "Boundaries also require " + ", ".join(f"`{k}`" for k in _BOUNDARY_KEYS) + "; dislocation cells "
                + ", ".join(f"`{k}`" for k in _DISLOCATION_KEYS) + "." if c is STRUCTURE else "", ""]  # fmt: skip
        out += ["```python", c.example, "```", ""]
    for c in NETCDF_CONTRACTS:
        out += [f"## `{c.name}` (netCDF, version {c.version})", "", f"Written by the {c.writer}. {c.description}", ""]
        out += ["| variable | dims | units | required |", "|---|---|---|---|"]
        for v in c.variables:
            dims = ", ".join(v.dims + (("x", "y[, z]") if v.spatial else ()))
            out.append(f"| `{v.name}` | ({dims}) | {v.units or ''} | {'yes' if v.required else 'no'} |")
        out += ["", "| global attribute | meaning |", "|---|---|"]
        out += [f"| `{k}` | {m} |" for k, m in c.attrs.items()]
        out += ["| `provenance` | where the file came from (JSON: config section and its SHA-256, versions of nyegan, "
                "LAMMPS, torch, numpy, input paths and SHA-256); written by every nyegan writer, checked when present |"]  # fmt: skip
        out += ["", "```python", c.example, "```", ""]
    return "\n".join(out)
