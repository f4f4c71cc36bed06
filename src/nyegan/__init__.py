"""nyegan: from atomistic crystal defects to continuum Nye dislocation-density fields and a generative model of them.

Units everywhere: Å, eV, GPa; interface energies in mJ/m²; angles in degrees at the user level, radians inside.
Box frame: z = tilt axis / dislocation line, y = boundary normal / glide-plane normal, x = y × z.
"""

__version__ = "0.1.0"
