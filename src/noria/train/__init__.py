"""Model training: the candidate model families (``noria.train.candidates``).

This package module imports nothing, so that ``import noria`` stays light; import the submodules
(which pull in scikit-learn and LightGBM) where they are needed.
"""
