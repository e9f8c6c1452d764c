"""A fitted noria model compiled to plain NumPy: the serving fast path.

scikit-learn's ``Pipeline.predict`` on one row spends milliseconds in pandas indexing, input
validation and a Python call per tree. :func:`compile_model` turns the pipelines noria itself
builds (:mod:`noria.features.preprocess` feeding one estimator) into a :class:`FastModel`:

* preprocessing: numeric columns (median imputation, standard scaling), one-hot and ordinal
  encodings, each a few vectorised NumPy operations on the input columns;
* estimators: histogram gradient boosting and random forests (every tree walked at once, one
  NumPy step per tree level), linear and logistic models (a matrix product).

A :class:`noria.train.calibration.CalibratedClassifier` compiles as its pipeline plus its
probability map and decision threshold (``head["calibration"]``, ``head["threshold"]``).
Anything else (datetime parts, target encoding, LightGBM, a user's own estimator) raises
:class:`NotCompilable`, and :mod:`noria.serve.predictor` keeps scikit-learn's own path. A
compiled model is only ever used after a parity check against the original on probe rows
(:func:`probe_columns`), within :data:`TOLERANCE`.

A :class:`FastModel` saves to one blob of NumPy arrays and JSON (:meth:`FastModel.dumps`), loaded
without pickle and without importing scikit-learn or pandas: that is what makes ``noria serve``
ready in well under two seconds. The blob is a derived artifact, indexed by the model's artifact
in ``.noria/serve/compiled.json``: when it is missing, damaged (its hash check fails) or of
another format, :mod:`noria.serve.predictor` compiles it again from the registered model, with a
warning (:func:`warn_rebuild`), rather than refuse to serve. This module is not for training or
for models noria did not build.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

__all__ = [
    "TOLERANCE",
    "FastModel",
    "NotCompilable",
    "compile_model",
    "input_limits",
    "probe_columns",
    "warn_rebuild",
]

#: Largest absolute difference allowed between compiled and original outputs (probabilities or
#: regression values, the latter relative to their scale).
TOLERANCE = 1e-6

#: Format of :meth:`FastModel.dumps`; a blob of another format is compiled again.
FORMAT = 1

#: The largest float64 and float32 values.
_FLOAT64_MAX = float(np.finfo(np.float64).max)
_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Estimators that compare float32 inputs: scikit-learn refuses a larger value for them.
_FLOAT32_ESTIMATORS = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
    }
)

#: Rows walked through the trees at once (keeps the node arrays of a chunk in cache).
_CHUNK = 128

#: From this many rows on, tree decisions are taken on binned inputs (binning costs a call per
#: feature: fewer rows are cheaper compared as floats).
_BIN_ROWS = 48


class NotCompilable(Exception):
    """The model has a part :func:`compile_model` does not know; the message says which."""


def warn_rebuild(name: str, version: int, index: Any, exc: BaseException) -> None:
    """Warn that the compiled form of a model version is unusable and is made again.

    Args:
        name: the model. version: its version.
        index: ``.noria/serve/compiled.json`` (for the message).
        exc: why the stored compiled model could not be used.
    """
    import warnings

    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    warnings.warn(
        f"{name} version {version}: the compiled model indexed in {index} is unusable "
        f"({first}); compiling it again from the registered model",
        stacklevel=3,
    )


# --------------------------------------------------------------------------- the model


@dataclass
class FastModel:
    """A compiled model: preprocessing blocks, then a tree ensemble or a linear model.

    ``blocks`` are dicts: ``{"kind": "numeric", "columns", "fill", "mean", "scale"}``,
    ``{"kind": "onehot", "columns", "categories"}`` or ``{"kind": "ordinal", "columns",
    "categories", "unknown", "missing"}``. ``head`` is ``{"kind": "trees" | "linear", "link":
    "identity" | "exp" | "logistic" | "softmax" | "mean_proba", …}`` with its arrays.
    """

    task: str
    classes: list[Any]
    blocks: list[dict[str, Any]]
    head: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    _lookups: list[list[dict[str, int]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._lookups = [
            [{c: i for i, c in enumerate(cats)} for cats in b.get("categories", [])]
            for b in self.blocks
        ]
        self._classes = np.asarray(self.classes, dtype=object) if self.classes else None
        trees = self.head["kind"] == "trees"
        self._table = _NextTable.build(self.head, self.arrays) if trees else None

    def input_limits(self) -> dict[str, tuple[float, float]]:
        """The range of each numeric input the model computes with (see :func:`input_limits`)."""
        limit = _FLOAT32_MAX if self.head.get("float32") else _FLOAT64_MAX
        out: dict[str, tuple[float, float]] = {}
        for block in self.blocks:
            if block["kind"] != "numeric":
                continue
            k = len(block["columns"])
            mean = self.arrays[block["mean"]] if block.get("mean") else np.zeros(k)
            scale = self.arrays[block["scale"]] if block.get("scale") else np.ones(k)
            out.update(_limits(block["columns"], mean, scale, limit))
        return out

    # ------------------------------------------------------------------ predict

    def features(self, columns: dict[str, np.ndarray], n: int) -> np.ndarray:
        """The model's feature matrix from input columns (float arrays, or object arrays)."""
        parts: list[np.ndarray] = []
        for block, lookups in zip(self.blocks, self._lookups, strict=True):
            kind = block["kind"]
            if kind == "numeric":
                k = len(block["columns"])
                x = np.empty((n, k))
                for j, name in enumerate(block["columns"]):
                    x[:, j] = columns[name]
                fill = self.arrays[block["fill"]]
                x = np.where(np.isnan(x), fill, x)
                if block.get("mean"):
                    x -= self.arrays[block["mean"]]
                if block.get("scale"):
                    x /= self.arrays[block["scale"]]
                parts.append(x)
            elif kind == "onehot":
                for name, lookup in zip(block["columns"], lookups, strict=True):
                    x = np.zeros((n, len(lookup)))
                    for i, value in enumerate(columns[name].tolist()):
                        key = "missing" if value is None or value != value else str(value)
                        j = lookup.get(key)
                        if j is not None:
                            x[i, j] = 1.0
                    parts.append(x)
            else:  # ordinal
                x = np.empty((n, len(block["columns"])))
                for j, (name, lookup) in enumerate(zip(block["columns"], lookups, strict=True)):
                    for i, value in enumerate(columns[name].tolist()):
                        if value is None or value != value:
                            x[i, j] = block["missing"]
                        else:
                            x[i, j] = lookup.get(str(value), block["unknown"])
                parts.append(x)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The head's output before its link: ``(n, k)`` scores."""
        head, a = self.head, self.arrays
        if head["kind"] == "linear":
            return x @ a["coef"].T + a["intercept"]
        n = x.shape[0]
        if head.get("float32"):  # scikit-learn's trees compare float32 inputs
            x = x.astype(np.float32).astype(np.float64)
        if self._table is not None:
            return self._table.raw(x) * head.get("scale", 1.0) + a["baseline"]
        if n > _CHUNK:
            return np.concatenate([self.raw(x[i : i + _CHUNK]) for i in range(0, n, _CHUNK)])
        roots = a["roots"]
        nodes = np.broadcast_to(roots, (n, roots.shape[0]))
        feature, threshold, children = a["feature"], a["threshold"], a["children"]
        if np.isnan(x).any():  # not after noria's imputation; kept right for other inputs
            rows = np.arange(n)[:, None]
            left, right, missing_left = a["left"], a["right"], a["missing_left"]
            for _ in range(int(head["depth"])):
                values = x[rows, feature[nodes]]
                go_left = np.where(
                    np.isnan(values), missing_left[nodes], values <= threshold[nodes]
                )
                nodes = np.where(go_left, left[nodes], right[nodes])
        else:
            flat = x.ravel()
            base = (np.arange(n, dtype=np.intp) * x.shape[1])[:, None]
            for _ in range(int(head["depth"])):
                go_left = flat[base + feature[nodes]] <= threshold[nodes]
                nodes = children[2 * nodes + go_left]
        leaves = a["value"][nodes]  # (n, trees, k)
        return leaves.sum(axis=1) * head.get("scale", 1.0) + a["baseline"]

    def predict(self, columns: dict[str, np.ndarray], n: int) -> tuple[Any, np.ndarray | None]:
        """``(predictions, probabilities or None)`` for ``n`` rows of input columns."""
        raw = self.raw(self.features(columns, n))
        link = self.head["link"]
        if self.task == "regression":
            values = raw[:, 0]
            return (np.exp(values) if link == "exp" else values), None
        if link == "logistic":
            p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            proba = np.column_stack([1.0 - p, p])
        elif link == "softmax":
            z = np.exp(raw - raw.max(axis=1, keepdims=True))
            proba = z / z.sum(axis=1, keepdims=True)
        else:  # mean_proba: forests average normalised leaf distributions
            proba = raw
        assert self._classes is not None
        calibration = self.head.get("calibration")
        if calibration is not None or self.head.get("threshold") is not None:
            from noria.train.calibration import apply_scaling, decide

            if calibration is not None:
                bias = self.arrays["calibration_bias"]
                proba = apply_scaling(proba, calibration["temperature"], bias)
            return decide(proba, self._classes, self.head.get("threshold")), proba
        return self._classes[np.argmax(proba, axis=1)], proba

    # ------------------------------------------------------------------ bytes

    def dumps(self) -> bytes:
        """The model as one blob: a NumPy ``.npz`` of its arrays plus a JSON header."""
        header = {
            "format": FORMAT,
            "task": self.task,
            "classes": self.classes,
            "blocks": self.blocks,
            "head": self.head,
        }
        buffer = io.BytesIO()
        arrays = dict(self.arrays)
        arrays["__header__"] = np.frombuffer(orjson.dumps(header), dtype=np.uint8)
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> FastModel:
        """A model back from :meth:`dumps` (no pickle is ever loaded).

        Raises:
            NotCompilable: the blob is of another format.
        """
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        header = orjson.loads(arrays.pop("__header__").tobytes())
        if header.get("format") != FORMAT:
            raise NotCompilable(f"compiled format {header.get('format')} is not {FORMAT}")
        return cls(
            task=header["task"],
            classes=header["classes"],
            blocks=header["blocks"],
            head=header["head"],
            arrays=arrays,
        )


# --------------------------------------------------------------------------- tree tables


class _NextTable:
    """Tree ensembles walked through a table of next nodes, built per chunk of rows.

    For a chunk of ``c`` rows, every internal node's decision is computed at once for every row
    (a row gather of the transposed input, a comparison: streaming operations), and stored as
    the flat index of the child each row goes to: ``next[node * c + row]``. Walking a level is
    then one gather for all (tree, row) pairs, and trees shallower than the level are skipped
    (trees are ordered deepest first). Leaves point at themselves. Built only where it pays:
    when the internal nodes are few against trees × depth (boosting), not for deep forests.

    The decisions are taken on bins, not on the float inputs: each feature's thresholds, sorted,
    cut its values into bins (one ``searchsorted`` per feature for all rows), and ``x <= t``
    is exactly ``bin(x) <= bin index of t``. Comparing one byte per (node, row) instead of eight
    makes the decisions several times cheaper (from :data:`_BIN_ROWS` rows on); inputs with
    missing values take the float path.
    """

    _BUDGET = 1 << 21  # elements of the next-node table (16 MiB of intp)

    def __init__(self, arrays: dict[str, np.ndarray], depth: int, chunk: int) -> None:
        left, right = arrays["left"], arrays["right"]
        n_nodes = len(left)
        own = np.arange(n_nodes)
        internal, leaves = own[left != own], own[left == own]
        order = np.concatenate([internal, leaves])
        new = np.empty(n_nodes, dtype=np.intp)
        new[order] = np.arange(n_nodes)
        roots = new[arrays["roots"]]
        # each tree's depth, all trees at once (a frontier per level)
        tree_of = np.empty(n_nodes, dtype=np.intp)
        t_depth = np.zeros(len(roots), dtype=np.intp)
        new_left, new_right = new[left[order]], new[right[order]]
        n_int = len(internal)
        frontier, trees = roots, np.arange(len(roots))
        level = 0
        while frontier.size:
            tree_of[frontier] = trees
            inner = frontier < n_int
            frontier, trees = frontier[inner], trees[inner]
            if not frontier.size:
                break
            level += 1
            t_depth[trees] = level
            frontier = np.concatenate([new_left[frontier], new_right[frontier]])
            trees = np.concatenate([trees, trees])
        self.by_depth = np.argsort(-t_depth, kind="stable")  # deepest trees first
        depths = t_depth[self.by_depth]
        self.active = [int(np.count_nonzero(depths > d)) for d in range(int(depths.max(initial=0)))]
        self.n_nodes, self.n_int, self.chunk = n_nodes, n_int, chunk
        self.feature = arrays["feature"][internal]
        threshold = arrays["threshold"][internal]
        self.threshold = threshold[:, None]
        self.missing_left = arrays["missing_left"][internal][:, None].astype(bool)
        self._bins(threshold)
        col = np.arange(chunk, dtype=np.intp)
        self.start = roots[self.by_depth][:, None] * chunk + col
        # int32 (nodes × chunk is bounded by _BUDGET): half the memory traffic of building it
        self.right = (new_right[:n_int, None] * chunk + col).astype(np.int32)
        self.delta = ((new_left[:n_int] - new_right[:n_int]) * chunk)[:, None].astype(np.int32)
        self.next = np.empty((n_nodes, chunk), dtype=np.int32)
        self.next[n_int:] = np.arange(n_int, n_nodes)[:, None] * chunk + col
        value = arrays["value"][order]
        k = value.shape[1]
        # boosting: each tree adds to one class; sum leaves with a (k, trees) matrix product
        per_tree = np.zeros((len(roots), k))
        np.add.at(per_tree, tree_of, np.abs(value))
        if k == 1 or bool(((per_tree > 0).sum(axis=1) <= 1).all()):
            self.value1 = value.sum(axis=1)
            slot = np.argmax(per_tree, axis=1)[self.by_depth]
            self.mix = np.zeros((k, len(roots)))
            self.mix[slot, np.arange(len(roots))] = 1.0
            self.value = None
        else:
            self.value1, self.mix, self.value = None, None, value
        self._lock = threading.Lock()

    def _bins(self, threshold: np.ndarray) -> None:
        """Each used feature's sorted thresholds (``cuts``) and each node's threshold as a bin
        index (``kbin``); no bins (``cuts`` empty) when a threshold is not a number."""
        self.cuts: list[tuple[int, np.ndarray]] = []
        self.kbin: np.ndarray | None = None
        if not len(threshold) or np.isnan(threshold).any():
            return
        kbin = np.empty(len(threshold), dtype=np.int64)
        for f in np.unique(self.feature).tolist():
            at = self.feature == f
            cuts = np.unique(threshold[at])
            kbin[at] = np.searchsorted(cuts, threshold[at])
            self.cuts.append((f, cuts))
        widest = max(len(cuts) for _, cuts in self.cuts) + 1
        self.bin_type = np.uint8 if widest <= 0xFF else np.uint16 if widest <= 0xFFFF else np.int64
        self.n_features = max(f for f, _ in self.cuts) + 1
        self.kbin = kbin.astype(self.bin_type)[:, None]

    @classmethod
    def build(cls, head: dict[str, Any], arrays: dict[str, np.ndarray]) -> _NextTable | None:
        """The table, or ``None`` where walking the trees directly is cheaper."""
        left = arrays["left"]
        n_nodes, n_trees, depth = len(left), len(arrays["roots"]), int(head["depth"])
        n_int = int(np.count_nonzero(left != np.arange(n_nodes)))
        chunk = min(_CHUNK, cls._BUDGET // max(n_nodes, 1))
        if chunk < 16 or n_int > 4 * n_trees * max(depth, 1):
            return None
        return cls(arrays, depth, chunk)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Summed leaf values ``(n, k)`` (before scale and baseline)."""
        n, c = x.shape[0], self.chunk
        bins = None
        if self.kbin is not None and n >= _BIN_ROWS and not np.isnan(x).any():
            # bin(x) = how many of the feature's thresholds are below x: x <= t[k] iff bin <= k
            bins = np.zeros((self.n_features, n), dtype=self.bin_type)
            for f, cuts in self.cuts:
                bins[f] = np.searchsorted(cuts, x[:, f])
        if n <= c:
            return self._chunk(x, bins)
        return np.concatenate(
            [
                self._chunk(x[i : i + c], None if bins is None else bins[:, i : i + c])
                for i in range(0, n, c)
            ]
        )

    def _chunk(self, x: np.ndarray, bins: np.ndarray | None) -> np.ndarray:
        n, c = x.shape[0], self.chunk
        with self._lock:
            if bins is not None:
                go_left = bins[self.feature] <= self.kbin  # (internal nodes, n)
            else:
                values = np.ascontiguousarray(x.T)[self.feature]
                go_left = values <= self.threshold
                if np.isnan(x).any():
                    go_left = np.where(np.isnan(values), self.missing_left, go_left)
            head = self.next[: self.n_int, :n]
            np.multiply(go_left, self.delta, out=head)
            head += self.right[:, :n]
            flat = self.next.reshape(-1)
            if n < _BIN_ROWS:
                idx = self.start[:, :n].copy()
                for m in self.active:
                    idx[:m] = flat[idx[:m]]
            else:  # in place and in the table's int32: less memory traffic for many rows
                idx = self.start[:, :n].astype(np.int32)
                for m in self.active:
                    level = idx[:m]
                    np.take(flat, level, out=level, mode="wrap")  # always in range
        nodes = idx // c
        if self.value is None:
            return self.value1[nodes].T @ self.mix.T  # (n, k), C order
        return self.value[nodes].sum(axis=0)


# --------------------------------------------------------------------------- compiling


def _name(obj: Any) -> str:
    return type(obj).__name__


def _steps(transformer: Any) -> list[Any]:
    if _name(transformer) == "Pipeline":
        return [step for _, step in transformer.steps]
    return [transformer]


def _func(step: Any) -> str:
    return getattr(getattr(step, "func", None), "__name__", "")


def compile_model(model: Any, task: str) -> FastModel:
    """Compile a fitted ``Pipeline([("preprocess", ColumnTransformer), ("model", est)])``.

    Raises:
        NotCompilable: a part is not supported; the message names it.
    """
    if _name(model) == "CalibratedClassifier":  # noria.train.calibration: map + threshold
        fast = compile_model(model.model, task)
        if model.bias is not None:
            fast.arrays["calibration_bias"] = np.asarray(model.bias, dtype=float)
            fast.head["calibration"] = {"temperature": model.temperature}
        fast.head["threshold"] = model.threshold
        return fast
    if _name(model) != "Pipeline" or len(model.steps) != 2:
        raise NotCompilable(f"{_name(model)} is not a noria preprocessing + estimator pipeline")
    pre, est = model.steps[0][1], model.steps[1][1]
    if _name(pre) != "ColumnTransformer":
        raise NotCompilable(f"preprocessing {_name(pre)} is not a ColumnTransformer")
    arrays: dict[str, np.ndarray] = {}
    blocks: list[dict[str, Any]] = []
    for name, transformer, columns in pre.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise NotCompilable(f"transformer '{name}' selects columns by position")
        blocks.append(_block(len(blocks), transformer, list(columns), arrays))
    head = _head(est, task, arrays)
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(est, "classes_", [])]
    return FastModel(task=task, classes=classes, blocks=blocks, head=head, arrays=arrays)


def _block(
    index: int, transformer: Any, columns: list[str], arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    steps = _steps(transformer)
    kinds = [(_name(s), _func(s)) for s in steps]
    prefix = f"b{index}_"
    if kinds[:2] == [("FunctionTransformer", "to_float"), ("SimpleImputer", "")]:
        imputer = steps[1]
        if imputer.strategy not in ("median", "mean"):
            raise NotCompilable(f"numeric imputation '{imputer.strategy}'")
        stats = np.asarray(imputer.statistics_, dtype=float)
        arrays[prefix + "fill"] = np.where(np.isnan(stats), 0.0, stats)
        block: dict[str, Any] = {"kind": "numeric", "columns": columns, "fill": prefix + "fill"}
        if len(steps) == 3:
            scaler = steps[2]
            if _name(scaler) != "StandardScaler":
                raise NotCompilable(f"numeric step {_name(scaler)}")
            if scaler.with_mean:
                arrays[prefix + "mean"] = np.asarray(scaler.mean_, dtype=float)
                block["mean"] = prefix + "mean"
            if scaler.with_std:
                arrays[prefix + "scale"] = np.asarray(scaler.scale_, dtype=float)
                block["scale"] = prefix + "scale"
        elif len(steps) != 2:
            raise NotCompilable("numeric pipeline of unexpected shape")
        return block
    if kinds and kinds[0] == ("FunctionTransformer", "to_category_strings"):
        rest = steps[1:]
        names = [_name(s) for s in rest]
        if names == ["SimpleImputer", "OneHotEncoder"]:
            imputer, encoder = rest
            if imputer.strategy != "constant" or imputer.fill_value != "missing":
                raise NotCompilable("one-hot imputation is not the constant 'missing'")
            if encoder.drop_idx_ is not None or getattr(encoder, "_infrequent_enabled", False):
                raise NotCompilable("one-hot encoder with drop or infrequent categories")
            if encoder.handle_unknown != "ignore":
                raise NotCompilable("one-hot encoder that fails on unknown values")
            cats = [[str(c) for c in cat] for cat in encoder.categories_]
            return {"kind": "onehot", "columns": columns, "categories": cats}
        if names == ["OrdinalEncoder"]:
            (encoder,) = rest
            if encoder.handle_unknown != "use_encoded_value":
                raise NotCompilable("ordinal encoder that fails on unknown values")
            cats = []
            for cat in encoder.categories_:
                values = [c for c in cat if isinstance(c, str)]
                if len(values) != len(cat) and not all(isinstance(c, str) or c != c for c in cat):
                    raise NotCompilable("ordinal categories that are not strings")
                cats.append(values)
            return {
                "kind": "ordinal",
                "columns": columns,
                "categories": cats,
                "unknown": float(encoder.unknown_value),
                "missing": float(encoder.encoded_missing_value),
            }
    raise NotCompilable(f"preprocessing {' → '.join(n for n, _ in kinds)}")


def _head(est: Any, task: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    name = _name(est)
    if name in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
        return _hgb(est, task, arrays)
    if name in (
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
    ):
        return _forest(est, task, arrays)
    if name in ("LogisticRegression", "Ridge", "LinearRegression", "Lasso", "ElasticNet"):
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
        arrays["coef"] = coef
        arrays["intercept"] = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
        if task == "regression":
            return {"kind": "linear", "link": "identity"}
        return {"kind": "linear", "link": "logistic" if coef.shape[0] == 1 else "softmax"}
    raise NotCompilable(f"estimator {name}")


def _pack_trees(trees: list[dict[str, np.ndarray]], arrays: dict[str, np.ndarray], k: int) -> int:
    """Concatenate trees (dicts of node arrays, leaves pointing at themselves); their depth."""
    offsets = np.cumsum([0] + [len(t["feature"]) for t in trees[:-1]])
    arrays["roots"] = offsets.astype(np.int64)
    for key in ("feature", "threshold", "missing_left"):
        arrays[key] = np.concatenate([t[key] for t in trees])
    for key in ("left", "right"):
        arrays[key] = np.concatenate([t[key] + o for t, o in zip(trees, offsets, strict=True)])
    arrays["value"] = np.concatenate([t["value"] for t in trees]).reshape(-1, k)
    # children[2 * node + go_left]: the right child at even, the left child at odd positions
    arrays["children"] = np.stack([arrays["right"], arrays["left"]], axis=1).reshape(-1)
    depth = 0
    for t in trees:
        depth = max(depth, _depth(t["left"], t["right"]))
    return depth


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    depth, level = 0, np.array([0])
    while True:
        nxt = np.concatenate([left[level], right[level]])
        nxt = nxt[nxt != np.concatenate([level, level])]
        if nxt.size == 0:
            return depth
        depth, level = depth + 1, nxt


def _hgb(est: Any, task: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    k = int(est.n_trees_per_iteration_)
    trees = []
    for iteration in est._predictors:
        for slot, predictor in enumerate(iteration):
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise NotCompilable("gradient boosting with categorical splits")
            n = len(nodes)
            own = np.arange(n)
            leaf = nodes["is_leaf"].astype(bool)
            value = np.zeros((n, k))
            value[:, slot] = np.where(leaf, nodes["value"], 0.0)
            trees.append(
                {
                    "feature": np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64),
                    "threshold": nodes["num_threshold"].astype(float),
                    "missing_left": nodes["missing_go_to_left"].astype(bool),
                    "left": np.where(leaf, own, nodes["left"]).astype(np.int64),
                    "right": np.where(leaf, own, nodes["right"]).astype(np.int64),
                    "value": value,
                }
            )
    arrays["baseline"] = np.asarray(est._baseline_prediction, dtype=float).reshape(-1)
    depth = _pack_trees(trees, arrays, k)
    loss = _name(getattr(est, "_loss", None))
    if task == "regression":
        links = {"HalfSquaredError": "identity", "AbsoluteError": "identity"}
        links |= {"PinballLoss": "identity", "HalfPoissonLoss": "exp", "HalfGammaLoss": "exp"}
        if loss not in links:
            raise NotCompilable(f"gradient boosting loss {loss}")
        return {"kind": "trees", "link": links[loss], "depth": depth}
    return {"kind": "trees", "link": "logistic" if k == 1 else "softmax", "depth": depth}


def _forest(est: Any, task: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    trees = []
    k = len(est.classes_) if task == "classification" else 1
    for tree in est.estimators_:
        t = tree.tree_
        if t.n_outputs != 1:
            raise NotCompilable("multi-output forest")
        leaf = t.children_left == -1
        own = np.arange(t.node_count)
        value = np.asarray(t.value[:, 0, :], dtype=float)
        if task == "classification":
            total = value.sum(axis=1, keepdims=True)
            value = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
        missing = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
        trees.append(
            {
                "feature": np.where(leaf, 0, t.feature).astype(np.int64),
                "threshold": np.asarray(t.threshold, dtype=float),
                "missing_left": np.asarray(missing).astype(bool),
                "left": np.where(leaf, own, t.children_left).astype(np.int64),
                "right": np.where(leaf, own, t.children_right).astype(np.int64),
                "value": value,
            }
        )
    arrays["baseline"] = np.zeros(k)
    depth = _pack_trees(trees, arrays, k)
    scale = 1.0 / len(est.estimators_)
    link = "mean_proba" if task == "classification" else "identity"
    return {"kind": "trees", "link": link, "depth": depth, "scale": scale, "float32": True}


# --------------------------------------------------------------------------- input limits


def input_limits(model: Any) -> dict[str, tuple[float, float]]:
    """The range of each numeric input column that a noria pipeline computes with.

    A number is standard-scaled before the estimator sees it, ``(x - mean) / scale``: near the
    largest float (``1.79e308``) that overflows to infinity when ``scale`` is below 1 (NumPy's
    "overflow encountered in divide"), and scikit-learn's forests and trees compare float32
    inputs, refusing anything beyond ``3.4e38``. scikit-learn answers such an input with an
    error (linear models, forests) or predicts on infinite features (histogram gradient
    boosting); the server refuses it instead, on every path, with the column named
    (:meth:`noria.serve.schema.Signature.set_limits`). The compiled form gives the same ranges
    (:meth:`FastModel.input_limits`).

    Args:
        model: A fitted ``Pipeline([("preprocess", ColumnTransformer), ("model", est)])``; for
            anything else the ranges are unknown.

    Returns:
        Column name → ``(lowest, highest)`` accepted value; ``{}`` when unknown.
    """
    if _name(model) != "Pipeline" or len(getattr(model, "steps", ())) != 2:
        return {}
    pre, est = model.steps[0][1], model.steps[1][1]
    if not hasattr(pre, "transformers_"):
        return {}
    limit = _FLOAT32_MAX if _compares_float32(est) else _FLOAT64_MAX
    out: dict[str, tuple[float, float]] = {}
    for name, transformer, columns in pre.transformers_:
        if name == "remainder" or isinstance(transformer, str) or isinstance(columns, str):
            continue
        steps = _steps(transformer)
        if not steps or _func(steps[0]) != "to_float":
            continue
        names = [str(c) for c in columns]
        mean, scale = np.zeros(len(names)), np.ones(len(names))
        scaler = steps[-1]
        if _name(scaler) == "StandardScaler":
            if getattr(scaler, "mean_", None) is not None and scaler.with_mean:
                mean = np.asarray(scaler.mean_, dtype=float)
            if getattr(scaler, "scale_", None) is not None and scaler.with_std:
                scale = np.asarray(scaler.scale_, dtype=float)
        out.update(_limits(names, mean, scale, limit))
    return out


def _compares_float32(est: Any) -> bool:
    """Whether ``est`` (or the estimator a wrapper such as calibration holds) casts to float32."""
    seen = 0
    while est is not None and seen < 5:
        if _name(est) in _FLOAT32_ESTIMATORS:
            return True
        inner = getattr(est, "calibrated_classifiers_", None)
        est = inner[0].estimator if inner else getattr(est, "estimator", None)
        seen += 1
    return False


def _limits(
    columns: list[str], mean: np.ndarray, scale: np.ndarray, limit: float
) -> dict[str, tuple[float, float]]:
    """``(lowest, highest)`` per column such that ``(x - mean) / scale`` is within ``limit``.

    ``x - mean`` must not overflow either, so the half-width is ``limit * min(scale, 1)`` (a
    hair less, for rounding).
    """
    out: dict[str, tuple[float, float]] = {}
    for j, name in enumerate(columns):
        centre, spread = float(mean[j]), float(scale[j])
        if centre == 0 and spread >= 1 and limit >= _FLOAT64_MAX:
            continue  # x / scale of a finite x is finite
        width = limit * min(spread, 1.0) * (1 - 1e-9)
        lo, hi = max(centre - width, -_FLOAT64_MAX), min(centre + width, _FLOAT64_MAX)
        if lo > -_FLOAT64_MAX or hi < _FLOAT64_MAX:
            out[name] = (lo, hi)
    return out


# --------------------------------------------------------------------------- parity probes


def probe_columns(
    model: FastModel, signature: list[dict[str, Any]], n: int = 64, seed: int = 0
) -> dict[str, np.ndarray]:
    """Input columns that exercise a compiled model: typical values, extremes, missing values,
    every known category and an unknown one."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    centre: dict[str, tuple[float, float]] = {}
    cats: dict[str, list[str]] = {}
    for block in model.blocks:
        if block["kind"] == "numeric":
            fill = model.arrays[block["fill"]]
            scale = model.arrays[block["scale"]] if block.get("scale") else np.abs(fill) + 1
            for j, name in enumerate(block["columns"]):
                centre[name] = (float(fill[j]), float(scale[j]) or 1.0)
        else:
            for name, values in zip(block["columns"], block["categories"], strict=True):
                cats[name] = list(values)
    for col in signature:
        name = col["name"]
        if name in cats:
            pool = [*cats[name], "~unseen~"]
            values = [pool[i % len(pool)] for i in rng.permutation(n)]
            for i in range(0, n, 7):
                values[i] = None
            columns[name] = np.array(values, dtype=object)
        else:
            mid, spread = centre.get(name, (0.0, 1.0))
            values_f = mid + spread * rng.normal(0, 1.5, n)
            values_f[::5] = np.nan
            columns[name] = values_f
    return columns
