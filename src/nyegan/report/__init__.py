"""The workflow report (``snakemake --report report.html``): figures that only the report needs (training curves)
and the list of figures a report of a given sweep must hold (``nyegan.report.contents``)."""
