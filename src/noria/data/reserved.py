"""Column names noria keeps for itself, refused as feature names at ``noria init`` and ``run``.

The prediction log (:mod:`noria.predlog`) stores a request's features as
``input.<name>`` and the model's outputs as ``output.prediction`` and ``output.proba.<class>``;
monitoring reads a window's features back under their own names, next to the outputs. A feature
named ``output.prediction`` then gave two columns of one name, and ``noria monitor`` failed with
an internal ``KeyError``. So feature names starting with :data:`OUTPUT_PREFIX` are refused
before a model is trained on them (the target is never logged as a feature, and may have any
name).
"""

from __future__ import annotations

from collections.abc import Iterable

from noria.errors import DataError

__all__ = ["OUTPUT_PREFIX", "check_feature_names"]

#: The prediction log's columns of outputs start with this.
OUTPUT_PREFIX = "output."


def check_feature_names(names: Iterable[str], where: str) -> None:
    """Refuse feature columns whose names the prediction log reserves for its outputs.

    Args:
        names: the feature columns (not the target).
        where: the data, for the message.

    Raises:
        DataError: a name starts with ``output.``.
    """
    clashing = [str(n) for n in names if str(n).startswith(OUTPUT_PREFIX)]
    if clashing:
        raise DataError(
            f"{where}: column '{clashing[0]}' starts with '{OUTPUT_PREFIX}', which noria reserves "
            "for the prediction log's outputs (output.prediction, output.proba.<class>); rename "
            "the column in the data"
        )
