"""The model registry: versions, aliases and the audit log of every move.

A model version is an artifact already in the store (the fitted model a run produced) with its
input signature, metrics, params and the run that made it. Aliases (``champion``,
``challenger``, any name) point at versions; every registration and alias move is an audit event
with who, when and why, in the same transaction as the change itself.

Promotion gates and rollback build on this module (they are not here yet); the first version of
a model becomes its ``champion``, so that there is always something to serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from noria.errors import NotFoundError, did_you_mean
from noria.store.metadata import MetadataStore, ModelVersion

__all__ = ["CHAMPION", "get_version", "register_model", "resolve", "set_alias"]

CHAMPION = "champion"


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
    """Register a new version of model ``name``; the first version also becomes champion."""
    with metadata.write() as tx:
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


def set_alias(metadata: MetadataStore, name: str, alias: str, version: int, *, reason: str) -> None:
    """Point ``alias`` at ``version`` of ``name``, recording why in the audit log.

    Raises:
        NotFoundError: no such model version.
    """
    get_version(metadata, name, version)
    with metadata.write() as tx:
        previous = tx.execute(
            "SELECT version FROM aliases WHERE name = :n AND alias = :a", {"n": name, "a": alias}
        )
        metadata.set_alias(tx, name, alias, version)
        metadata.audit(
            tx,
            action="set_alias",
            object=f"{name}/{version}",
            detail={
                "alias": alias,
                "previous": previous[0][0] if previous else None,
                "reason": reason,
            },
        )


def get_version(metadata: MetadataStore, name: str, version: int) -> ModelVersion:
    """One version of a model.

    Raises:
        NotFoundError: the model or the version does not exist; the message lists what does.
    """
    found = metadata.model_version(name, version)
    if found is not None:
        return found
    versions = [v for v in metadata.model_versions() if v.name == name]
    if not versions:
        names = sorted({v.name for v in metadata.model_versions()})
        known = ", ".join(names) or "none"
        raise NotFoundError(f"no model '{name}'{did_you_mean(name, names)}; registered: {known}")
    raise NotFoundError(
        f"model '{name}' has no version {version}; versions: "
        + ", ".join(str(v.version) for v in versions)
    )


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
