"""Reading data sources and splitting them: ``noria.data.sources`` and ``noria.data.split``.

This package module imports nothing, so that ``import noria`` stays light; import the submodules
(which pull in pandas and DuckDB) where they are needed.
"""
