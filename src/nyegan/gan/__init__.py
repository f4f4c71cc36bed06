"""Conditional physics-informed GAN of Nye dislocation-density fields.

Submodules: ``synthetic`` (analytic fields in the per-case contract), ``models`` (generator / critic / gradient
penalty), ``physics`` (built-in constraints, penalties, residuals), ``metrics`` (ensemble comparisons),
``data`` (LightningDataModule), ``module`` (LightningModule), ``train``, ``generate``, ``evaluate``,
``plots``, ``config``. Heavy imports (lightning) happen only in the modules that need them.
"""
