"""Feature engineering: which column becomes what kind of feature (``noria.features.preprocess``).

This package module imports nothing, so that ``import noria`` stays light; import the submodules
(which pull in pandas and scikit-learn) where they are needed.
"""
