"""Reference data shipped with the package: merchant categories, Korean regions, card products.

Everything here is read from `data/` next to this file and validated on load; the sources behind
the numbers are cited in docs/reference-data.md.
"""
