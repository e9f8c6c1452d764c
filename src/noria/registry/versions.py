"""Model versions: registration, names, lookups (``NAME``, ``NAME@ALIAS``, ``NAME@VERSION``).

A model version is an artifact already in the store (the fitted model a run produced) with its
input signature, metrics, params and the run that made it. The first version of a model becomes
its ``champion``, so that there is always something to serve. Model names are letters, digits,
``_``, ``-`` and ``.`` (not first): a name is a folder under ``.noria/`` (prediction log,
labels, reports), checked at registration and at every lookup that touches a file.

Not here: moving aliases (:mod:`noria.registry.aliases`), gates, cards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from noria.errors import NotFoundError, UserError, did_you_mean
from noria.store.metadata import MetadataStore, ModelVersion

__all__ = [
    "CHAMPION",
    "alias_holder",
    "alias_since",
    "beats_baseline",
    "check_alias_name",
    "check_model_name",
    "get_version",
    "known_model",
    "register_model",
    "resolve",
]

CHAMPION = "champion"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_model_name(name: str) -> str:
    """``name`` if it is a valid model name (see the module docstring).

    Raises:
        UserError: the name could step outside ``.noria/`` (``../x``, ``a/b``) or is empty.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(
            f"model name '{name}' is not valid: use letters, digits, '_', '-' and '.', starting "
            "with a letter or digit (a model name is a folder under .noria/)"
        )
    return name


# --------------------------------------------------------------------------- register, aliases


def register_model(
    metadata: MetadataStore,
    *,
    name: str,
    artifact_id: str,
    run_id: str | None,
    signature: Sequence[Mapping[str, Any]],
    metrics: Mapping[str, float],
    params: Mapping[str, Any],
    description: str | None = None,
) -> ModelVersion:
    """Register a new version of model ``name``; the first version also becomes champion.

    An artifact already registered under ``name`` with the same holdout metrics (``noria run
    --fresh`` that fits the very same model again) is not a new version: that version is
    returned, and the audit log says it was reused.

    Raises:
        UserError: an invalid model name.
    """
    check_model_name(name)
    with metadata.write() as tx:
        same = tx.execute(
            "SELECT version, metrics FROM model_versions WHERE name = :n AND artifact_id = :a "
            "ORDER BY version DESC",
            {"n": name, "a": artifact_id},
        )
        for number, stored in same:
            existing = metadata.model_version(name, int(number))
            if existing is not None and orjson.loads(stored) == dict(metrics):
                metadata.audit(
                    tx,
                    action="register_reused",
                    object=f"{name}/{existing.version}",
                    detail={
                        "run_id": run_id,
                        "artifact_id": artifact_id,
                        "reason": "the run produced the very same model artifact",
                    },
                )
                return existing
        version = metadata.insert_model_version(
            tx,
            name=name,
            artifact_id=artifact_id,
            run_id=run_id,
            signature=[dict(s) for s in signature],
            metrics=metrics,
            params=params,
            description=description,
        )
        metadata.audit(
            tx,
            action="register",
            object=f"{name}/{version.version}",
            detail={"run_id": run_id, "artifact_id": artifact_id, "metrics": dict(metrics)},
        )
        current = tx.execute(
            "SELECT version FROM aliases WHERE name = :n AND alias = :a",
            {"n": name, "a": CHAMPION},
        )
        if not current:
            metadata.set_alias(tx, name, CHAMPION, version.version)
            metadata.audit(
                tx,
                action="set_alias",
                object=f"{name}/{version.version}",
                detail={
                    "alias": CHAMPION,
                    "previous": None,
                    "reason": "first version of the model",
                },
            )
    return version


def check_alias_name(alias: str) -> None:
    """Refuse an alias that is empty, only digits (a version) or has other characters."""
    if not alias or alias.isdigit() or not all(c.isalnum() or c in "_-." for c in alias):
        raise UserError(
            f"alias '{alias}' is not valid: use letters, digits, '_', '-' or '.', not only digits"
        )


def get_version(metadata: MetadataStore, name: str, version: int) -> ModelVersion:
    """One version of a model.

    Raises:
        NotFoundError: the model or the version does not exist; the message lists what does.
    """
    found = metadata.model_version(name, version)
    if found is not None:
        return found
    versions = known_model(metadata, name)
    raise NotFoundError(
        f"model '{name}' has no version {version}; versions: "
        + ", ".join(str(v.version) for v in versions)
    )


def known_model(metadata: MetadataStore, name: str) -> list[ModelVersion]:
    """The versions of model ``name`` (oldest first).

    Raises:
        UserError: an invalid model name.
        NotFoundError: no such model; the message names the registered models.
    """
    check_model_name(name)
    versions = metadata.model_versions(name)
    if not versions:
        names = sorted({v.name for v in metadata.model_versions()})
        known = ", ".join(names) or "none"
        raise NotFoundError(f"no model '{name}'{did_you_mean(name, names)}; registered: {known}")
    return versions


def resolve(metadata: MetadataStore, reference: str) -> ModelVersion:
    """A version from ``NAME``, ``NAME@ALIAS`` or ``NAME@VERSION`` (``NAME`` means champion).

    Raises:
        NotFoundError: no such model, alias or version.
    """
    name, _, which = reference.partition("@")
    which = which or CHAMPION
    if which.isdigit():
        return get_version(metadata, name, int(which))
    for model, alias, version in metadata.aliases(name):
        if model == name and alias == which:
            return get_version(metadata, name, version)
    aliases = [a for _, a, _ in metadata.aliases(name)]
    if not aliases and not metadata.model_versions(name):
        get_version(metadata, name, 1)  # raises the "no model" error with suggestions
    raise NotFoundError(
        f"model '{name}' has no alias '{which}'{did_you_mean(which, aliases)}; "
        f"aliases: {', '.join(aliases) or 'none'}"
    )


def alias_holder(metadata: MetadataStore, name: str, alias: str) -> int | None:
    """The version ``alias`` of ``name`` points at, or ``None``."""
    rows = metadata.read(
        "SELECT version FROM aliases WHERE name = :n AND alias = :a", {"n": name, "a": alias}
    )
    return int(rows[0][0]) if rows else None


def alias_since(metadata: MetadataStore, name: str, alias: str) -> tuple[int, float] | None:
    """``(version, time it took the alias)`` of the holder of ``alias``, or ``None``."""
    rows = metadata.read(
        "SELECT version, updated_at FROM aliases WHERE name = :n AND alias = :a",
        {"n": name, "a": alias},
    )
    return (int(rows[0][0]), float(rows[0][1])) if rows else None


def beats_baseline(metadata: MetadataStore, version: ModelVersion) -> bool | None:
    """Whether the version beat the trivial baseline on its run's metric; ``None``: unknown.

    Read from the version's params (``beats_baseline``), else from its run's tags; anything
    absent or unreadable is unknown.
    """
    value: Any = version.params.get("beats_baseline")
    if value is None and version.run_id:
        value = metadata.tags(version.run_id).get("beats_baseline")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    return None
