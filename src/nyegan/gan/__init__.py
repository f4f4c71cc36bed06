"""Conditional physics-informed GAN of Nye dislocation-density fields.

Submodules: ``synthetic`` (analytic fields in the per-case contract), ``models`` (generator / critic),
``physics`` (constraints and residuals), ``data`` (LightningDataModule), ``module`` (LightningModule),
``train``, ``generate``, ``evaluate``. Heavy imports (lightning) happen only in the modules that need them.
"""
