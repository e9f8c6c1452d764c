"""Fingerprints: when may a step's earlier output be reused?

The fingerprint of a step run is the XXH3-128 hash of

- the step's name and its *normalized* source (the AST without docstrings, comments, decorators
  or formatting: reformatting a step does not invalidate its cache);
- its param values (canonical JSON; a :class:`pathlib.Path` counts by the *content* of the file,
  so editing a data file invalidates the steps that read it);
- the artifact ids (content hashes) of its inputs, so a step whose upstream re-ran but produced
  the same bytes still hits;
- the versions of the libraries that change results (numpy, pandas, scikit-learn, …, noria).

Only the step's own source is hashed, not the helpers it calls: change a helper and the step
reruns only with ``cache=False`` on the step or ``noria run --fresh``. A file's content hash is
remembered by (path, size, mtime) in the metadata store, so an unchanged file costs a ``stat``.

This module knows nothing about running steps; the runner asks it for fingerprints.
"""

from __future__ import annotations

import ast
import functools
import inspect
import marshal
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import xxhash

from noria.store.metadata import MetadataStore

__all__ = ["Fingerprinter", "library_versions", "source_hash", "token"]

#: Distributions whose version is part of every fingerprint.
RESULT_LIBRARIES = (
    "noria",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "lightgbm",
    "xgboost",
    "duckdb",
)


@functools.lru_cache(maxsize=1)
def library_versions() -> str:
    """``name==version`` of the installed :data:`RESULT_LIBRARIES`, read off dist-info names.

    Scanning ``site-packages`` for ``*.dist-info`` folders costs a directory listing, not the
    import of each library, which keeps a fully cached run cheap.
    """
    wanted = {n.replace("-", "_").lower(): n for n in RESULT_LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for fname in names:
            if not fname.endswith((".dist-info", ".egg-info")):
                continue
            stem = fname.rsplit(".", 1)[0]
            dist, _, version = stem.partition("-")
            key = dist.replace("-", "_").replace(".", "_").lower()
            # an editable install's ``src/noria.egg-info`` names no version: read on
            if key in wanted and version and wanted[key] not in found:
                found[wanted[key]] = version
    return ";".join(f"{k}=={found[k]}" for k in sorted(found))


class _StripDocs(ast.NodeTransformer):
    def _strip(self, node: Any) -> Any:
        self.generic_visit(node)
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        if hasattr(node, "decorator_list"):
            node.decorator_list = []
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _strip


@functools.lru_cache(maxsize=4096)
def _code_hash(code: Any, qualname: str) -> str:
    return xxhash.xxh3_128_hexdigest(marshal.dumps(code) + qualname.encode())


def source_hash(func: Callable[..., Any]) -> str:
    """Hash of a function's normalized source (falls back to its bytecode without source)."""
    target = inspect.unwrap(func)
    code = getattr(target, "__code__", None)
    if code is not None and code in _SOURCE_MEMO:
        return _SOURCE_MEMO[code]
    try:
        text = textwrap.dedent(inspect.getsource(target))
        tree = _StripDocs().visit(ast.parse(text))
        digest = xxhash.xxh3_128_hexdigest(ast.dump(tree, annotate_fields=False))
    except (OSError, TypeError, SyntaxError):
        if code is None:
            digest = xxhash.xxh3_128_hexdigest(repr(target).encode())
        else:
            digest = _code_hash(code, getattr(target, "__qualname__", ""))
    if code is not None:
        _SOURCE_MEMO[code] = digest
    return digest


_SOURCE_MEMO: dict[Any, str] = {}


@functools.singledispatch
def token(value: Any) -> Any:
    """A JSON-able, canonical stand-in for a param value in a fingerprint.

    Register other types with ``@token.register``. The default is the value itself when JSON
    can carry it, else its ``repr``.
    """
    if isinstance(value, Mapping):
        return {str(k): token(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [token(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"repr": repr(value), "type": type(value).__qualname__}


class Fingerprinter:
    """Computes step fingerprints, remembering file hashes in the metadata store."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata
        self._files: dict[tuple[str, int, int], str] = {}

    def file_hash(self, path: Path) -> str:
        """Content hash of a file, through the size+mtime fast path."""
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        known = self._files.get(key) or self._metadata.file_hash(*key)
        if known is None:
            h = xxhash.xxh3_128()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            known = h.hexdigest()
            self._metadata.remember_file_hash(*key, known)
        self._files[key] = known
        return known

    def param_token(self, value: Any) -> Any:
        """:func:`token`, with paths hashed by content."""
        if isinstance(value, Path):
            return (
                {"file": str(value), "hash": self.file_hash(value)}
                if value.is_file()
                else {"path": str(value)}
            )
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, Path) for v in value):
            return [self.param_token(v) for v in value]
        return token(value)

    def fingerprint(
        self,
        name: str,
        func: Callable[..., Any],
        params: Mapping[str, Any],
        inputs: Sequence[tuple[str, str]],
    ) -> str:
        """The fingerprint of running step ``name`` with these params and input artifacts."""
        payload = {
            "step": name,
            "source": source_hash(func),
            "params": {k: self.param_token(v) for k, v in params.items()},
            "inputs": list(inputs),
            "libraries": library_versions(),
        }
        data = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=repr)
        return xxhash.xxh3_128_hexdigest(data)
