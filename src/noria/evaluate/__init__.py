"""Model evaluation: metric names, their direction and their computation (``.metrics``).

This package module imports nothing, so that ``import noria`` stays light; import the submodules
(which pull in scikit-learn) where they are needed.
"""
