"""``noria.yaml``: the project's settings, as pydantic models.

Every error names the file, the line, the key and the fix, and suggests the nearest valid key::

    noria.yaml:7: unknown key 'modles' (did you mean 'models'?)
    noria.yaml:12: split.test_size: Input should be less than 1 (got 1.5)

A spec holds what the built-in supervised pipeline needs (data, target, split, features,
models), where a user's own steps live (``steps.module``), and where the stores are. It does not
open anything: :class:`noria.project.Project` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from noria.errors import ConfigError, did_you_mean
from noria.store import DEFAULT_ARTIFACTS_URL, DEFAULT_METADATA_URL
from noria.yamlfile import load_yaml

__all__ = ["SPEC_FILE", "TEST_KINDS", "Spec", "key_lines", "load_spec", "render_spec"]

SPEC_FILE = "noria.yaml"
DEFAULT_CANDIDATES = [
    "linear",
    "lightgbm",
    "hist_gradient_boosting",
    "random_forest",
    "extra_trees",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Model):
    """Where the training data is."""

    source: str = Field(description="a file, a glob or a folder, relative to the project")
    format: Literal["auto", "csv", "parquet", "json"] = "auto"
    date_formats: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description=(
            "column -> the strptime format(s) its dates are written in ('%d/%m/%Y'); other "
            "text dates are decided from the data, and kept as text when ambiguous"
        ),
    )


class SplitSpec(_Model):
    """How the data is split into training and test (holdout) parts."""

    method: Literal["random", "stratified", "time"] = "stratified"
    test_size: float = Field(0.2, gt=0, lt=1)
    time_column: str | None = None


class FeaturesSpec(_Model):
    """How preprocessing is built from the column types."""

    drop: list[str] = Field(default_factory=list)
    max_onehot_cardinality: int = Field(20, ge=2)
    high_cardinality: Literal["ordinal", "target"] = "ordinal"
    scale: bool = True


class ModelsSpec(_Model):
    """Which model families compete, how they are searched and how they are compared."""

    candidates: list[str] = Field(default_factory=lambda: list(DEFAULT_CANDIDATES), min_length=1)
    metric: str = "auto"
    time_budget: float | None = Field(120.0, gt=0)
    n_trials: int | None = Field(None, ge=1)  # a cap only when set: the time budget governs
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    validation: Literal["auto", "kfold", "holdout", "time"] = "auto"
    folds: int = Field(3, ge=2, le=20)
    n_jobs: int | None = Field(None, ge=1)
    warm_start: bool = True
    spaces: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    threshold: float | None = Field(None, gt=0, lt=1)
    refit: Literal["all", "train"] = "all"


class StepsSpec(_Model):
    """The user's own steps, and how steps are run."""

    module: str | None = None
    retries: int = Field(0, ge=0)
    timeout: float | None = Field(None, gt=0)


#: The keys of a check that are not its kind (every other field of CheckSpec is a kind).
_CHECK_OPTIONS = ("column", "name", "severity")


class CheckSpec(_Model):
    """One user check of ``validation.checks``: exactly one kind key, optionally a column."""

    column: str | None = None
    name: str | None = None
    severity: Literal["error", "warn"] = "error"
    not_null: bool | None = None
    range: tuple[float | str | None, float | str | None] | None = None
    in_set: list[Any] | None = None
    unique: bool | None = None
    regex: str | None = None
    max_null_fraction: float | None = Field(None, ge=0, le=1)
    row_count: tuple[int | None, int | None] | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> CheckSpec:
        every = [k for k in type(self).model_fields if k not in _CHECK_OPTIONS]
        kinds = [k for k in every if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a check needs exactly one of {', '.join(every)} (got "
                f"{', '.join(kinds) or 'none'})"
            )
        if kinds[0] not in ("row_count", "sql") and not self.column:
            raise ValueError(f"{kinds[0]} needs `column:` (the column it checks)")
        return self


class ValidationSpec(_Model):
    """How each batch is checked before training and scoring (see ``noria.data.validate``)."""

    schema_file: str = Field("noria.schema.yaml", alias="schema")
    policy: Literal["fail", "drop", "quarantine"] = "fail"
    skew_threshold: float = Field(0.25, gt=0)
    checks: list[CheckSpec] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def check_dicts(self) -> list[dict[str, Any]]:
        """The checks as plain dicts, for ``noria.data.validate.parse_checks``."""
        return [c.model_dump(exclude_none=True) for c in self.checks]


class StoreSpec(_Model):
    """Where metadata and artifacts are kept (URLs; relative paths are under the project)."""

    metadata: str = DEFAULT_METADATA_URL
    artifacts: str = DEFAULT_ARTIFACTS_URL


class RaySpec(_Model):
    """The ``ray`` executor's settings (:mod:`noria.pipeline.executors.ray_executor`)."""

    address: str | None = Field(
        None, description="auto, ray://HOST:PORT or HOST:PORT; null starts a local Ray per run"
    )
    num_cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray (2 by default)")
    max_retries: int = Field(3, ge=0, description="resubmissions of a step whose worker died")


class PromotionSpec(_Model):
    """The gates ``noria promote`` runs before it moves an alias (see :mod:`noria.registry`)."""

    min_metrics: dict[str, float] = Field(
        default_factory=dict, description="holdout metrics that must be at least this"
    )
    max_metrics: dict[str, float] = Field(
        default_factory=dict,
        description="holdout metrics (losses, errors) that must be at most this",
    )
    metric: str = Field("auto", description="the metric compared with the champion's")
    min_improvement: float = Field(
        0.0, description="how much better than the current holder the candidate must be"
    )
    require_validation: bool = True
    not_worse: bool = Field(
        False,
        description="refuse a candidate significantly worse than the holder on `metric` (the "
        "paired-bootstrap 95 % interval of the difference on the same rows)",
    )
    not_worse_margin: float = Field(
        0.0, ge=0, description="with not_worse: how much worse is tolerated"
    )
    slice_floor: float | None = Field(
        None,
        description="every holdout slice's accuracy at least this (regression: MAE at most)",
    )
    slice_min_rows: int = Field(30, ge=1, description="smaller slices are not judged")
    max_ece: float | None = Field(
        None, ge=0, le=1, description="expected calibration error at most this"
    )
    max_fairness_gap: float | None = Field(
        None,
        ge=0,
        description="largest group difference (demographic parity, equalised odds; regression: "
        "MAE) over evaluation.sensitive columns",
    )
    tests: bool = Field(True, description="the model tests of `tests:` must pass")

    _evidence: dict[str, Any] = PrivateAttr(default_factory=dict)

    def evidence_settings(self) -> dict[str, Any]:
        """What the evidence gates need from the rest of ``noria.yaml``: the model tests
        (``tests``, as plain dicts), the ``sensitive`` columns, ``bootstrap`` and ``seed``."""
        return dict(self._evidence)

    def needs_evidence(self) -> bool:
        """Whether a gate here needs the candidate scored on its holdout."""
        tests = self.tests and bool(self._evidence.get("tests"))
        return bool(
            self.not_worse
            or self.slice_floor is not None
            or self.max_ece is not None
            or self.max_fairness_gap is not None
            or tests
        )


# --------------------------------------------------------------------------- model tests


class ExpectSpec(_Model):
    """Minimum functionality: these rows must get the answer in their target column."""

    rows: list[dict[str, Any]] = Field(min_length=1)
    tolerance: float = Field(0.0, ge=0, description="regression: |prediction - answer| at most")
    min_share: float = Field(1.0, gt=0, le=1, description="share of rows that must be right")


class InvarianceSpec(_Model):
    """Changing ``column`` to any of ``values`` must not move the prediction beyond ``eps``."""

    column: str
    values: list[Any] = Field(min_length=2)
    eps: float = Field(0.0, ge=0)
    rows: int = Field(200, ge=1, description="holdout rows perturbed")


class DirectionalSpec(_Model):
    """Adding ``change`` to ``column`` must not lower (``not_lower``) or raise the score."""

    column: str
    change: float = Field(description="added to the column (a negative number lowers it)")
    score: Any = Field(None, description="classifier: the class whose probability is watched")
    expect: Literal["not_lower", "not_higher"] = "not_lower"
    eps: float = Field(0.0, ge=0)
    rows: int = Field(200, ge=1, description="holdout rows perturbed")

    @field_validator("change")
    @classmethod
    def _nonzero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("change: 0 changes nothing; give how much to add, e.g. 10")
        return value


class FloorSpec(_Model):
    """A holdout metric at least ``min`` / at most ``max``, on all rows or those ``where``."""

    metric: str
    min: float | None = None
    max: float | None = None
    where: dict[str, Any] = Field(default_factory=dict, description="{column: value} filter")

    _metric = field_validator("metric")(lambda v: _known_metric(v))

    @model_validator(mode="after")
    def _bound(self) -> FloorSpec:
        if self.min is None and self.max is None:
            raise ValueError(f"a floor needs min: or max: (the bound on {self.metric})")
        return self


#: The kinds of model test (one key each).
TEST_KINDS = ("expect", "invariance", "directional", "floor")


class TestSpec(_Model):
    """One model test of ``tests:``: a ``name`` and exactly one kind key."""

    name: str | None = None
    expect: ExpectSpec | None = None
    invariance: InvarianceSpec | None = None
    directional: DirectionalSpec | None = None
    floor: FloorSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TestSpec:
        kinds = [k for k in TEST_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a test needs exactly one of {', '.join(TEST_KINDS)} (got "
                f"{', '.join(kinds) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        """The test's kind (its one kind key)."""
        return next(k for k in TEST_KINDS if getattr(self, k) is not None)


class ServeSpec(_Model):
    """How ``noria serve`` serves a model."""

    model: str | None = Field(None, description="NAME@ALIAS served; the project's champion")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_body_mb: float = Field(16.0, gt=0)
    max_batch_rows: int = Field(2048, ge=1)
    batch_window_ms: float = Field(0.0, ge=0, le=100)
    extra_columns: Literal["reject", "ignore"] = "reject"
    log_predictions: bool = True
    follow_alias: bool = True
    poll_seconds: float = Field(1.0, gt=0)


_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "rmse", "mae", "r2")
_DRIFT_TESTS = ("psi", "ks", "wasserstein", "js", "chi2")


def _known_metric(value: str) -> str:
    if value not in _METRICS:
        raise ValueError(
            f"unknown metric '{value}'{did_you_mean(value, _METRICS)}; "
            f"metrics: {', '.join(_METRICS)}"
        )
    return value


class MonitorSpec(_Model):
    """What ``noria monitor`` reads and how it judges drift (see :mod:`noria.monitor`)."""

    model: str | None = Field(None, description="NAME@ALIAS monitored; the project's champion")
    window_rows: int = Field(50_000, ge=1, description="most logged rows in one window")
    min_samples: int = Field(100, ge=1, description="fewer values: 'too small', not drift")
    numeric_test: Literal["auto", "psi", "ks", "wasserstein", "js"] = "auto"
    categorical_test: Literal["auto", "chi2", "psi", "js"] = "auto"
    thresholds: dict[str, float] = Field(default_factory=dict)
    null_rate_threshold: float = Field(0.05, gt=0, le=1)
    correction: Literal["bonferroni", "none"] = "bonferroni"
    label_column: str = Field("label", description="the column of a labels file with the truth")
    webhook: str | None = Field(None, description="URL that alerts are POSTed to (JSON)")

    @field_validator("thresholds")
    @classmethod
    def _tests(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if name not in _DRIFT_TESTS:
                raise ValueError(
                    f"unknown drift test '{name}'{did_you_mean(name, _DRIFT_TESTS)}; "
                    f"tests: {', '.join(_DRIFT_TESTS)}"
                )
        return value


class MetricFloor(_Model):
    """A live metric and the value it must not fall below (above, for losses and errors)."""

    metric: str
    below: float = Field(description="the floor (for rmse, mae, log_loss: the ceiling)")
    min_labels: int = Field(50, ge=1, description="labelled predictions needed to judge")

    _metric = field_validator("metric")(_known_metric)


class RetrainOn(_Model):
    """What starts a retrain."""

    drift: bool = True
    drift_share: float = Field(
        0.0, ge=0, le=1, description="share of drifted features beyond which drift counts"
    )
    performance: MetricFloor | None = None
    new_data: bool = True
    schedule: float | None = Field(None, gt=0, description="seconds between scheduled retrains")


class LoopSpec(_Model):
    """The policies of ``noria loop``: retrain, promote, roll back (:mod:`noria.monitor.loop`)."""

    interval: float = Field(300.0, gt=0, description="seconds between iterations")
    retrain_on: RetrainOn = RetrainOn()
    promote: bool = Field(True, description="promote a challenger that passes the gates")
    shadow: bool = Field(False, description="score the challenger on labelled live traffic too")
    rollback: MetricFloor | None = None


class EvaluationSpec(_Model):
    """``noria evaluate``: intervals, weak segments, fairness (:mod:`noria.evaluate`)."""

    sensitive: list[str] = Field(default_factory=list, description="columns judged for fairness")
    bootstrap: int = Field(200, ge=20, le=10_000, description="bootstrap resamples")
    min_segment_rows: int | None = Field(None, ge=5, description="null: 1 % of rows, >= 30")
    alpha: float = Field(0.05, gt=0, lt=1, description="false discovery rate of weak segments")


class Spec(_Model):
    """The whole of ``noria.yaml``."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    data: DataSpec
    target: str
    task: Literal["auto", "classification", "regression"] = "auto"
    split: SplitSpec = SplitSpec()
    features: FeaturesSpec = FeaturesSpec()
    models: ModelsSpec = ModelsSpec()
    steps: StepsSpec = StepsSpec()
    executor: Literal["local", "processes", "ray"] = "local"
    ray: RaySpec = RaySpec()
    seed: int = 42
    store: StoreSpec = StoreSpec()
    validation: ValidationSpec = ValidationSpec()
    promotion: PromotionSpec = PromotionSpec()
    serve: ServeSpec = ServeSpec()
    monitor: MonitorSpec = MonitorSpec()
    loop: LoopSpec = LoopSpec()
    evaluation: EvaluationSpec = EvaluationSpec()
    tests: list[TestSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _evidence(self) -> Spec:
        gap = self.promotion.max_fairness_gap
        if gap is not None and not self.evaluation.sensitive:
            raise ValueError(
                "promotion.max_fairness_gap needs the columns it judges: list them in "
                "evaluation.sensitive (e.g. sensitive: [sex])"
            )
        promotion = self.promotion.model_copy()  # the default instance is shared
        promotion._evidence = {
            "tests": [
                {"name": t.name or f"{t.kind} #{i + 1}", "kind": t.kind,
                 **getattr(t, t.kind).model_dump()}
                for i, t in enumerate(self.tests)
            ],
            "sensitive": list(self.evaluation.sensitive),
            "bootstrap": self.evaluation.bootstrap,
            "seed": self.seed,
        }  # fmt: skip
        object.__setattr__(self, "promotion", promotion)
        return self


def _lines(node: Any, prefix: tuple[str, ...], out: dict[tuple[str, ...], int]) -> None:
    """Record the line of every key of a composed YAML node, by key path."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            out[path] = key.start_mark.line + 1
            _lines(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, str(i))
            out[path] = item.start_mark.line + 1
            _lines(item, path, out)


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds (``X``, ``X | None``, ``list[X]``), and whether a list."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1:
        inner, _ = _model_of(args[0])
        return inner, typing.get_origin(annotation) is list
    return None, False


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Spec
    parts = list(loc)
    while parts:
        field = model.model_fields.get(parts.pop(0))
        inner, listed = _model_of(getattr(field, "annotation", None))
        if inner is None:
            return None
        if listed and (not parts or not parts.pop(0).isdigit()):  # a list item: skip its index
            return None
        model = inner
    return model


def key_lines(path: str | Path) -> dict[tuple[str, ...], int]:
    """The line of every key of a YAML file, by key path (``("tests", "0", "expect")``);
    empty when the file cannot be read."""
    try:
        _, node = load_yaml(Path(path).read_text(encoding="utf-8"), Path(path))
    except Exception:  # the file was read once already; this only adds line numbers
        return {}
    lines: dict[tuple[str, ...], int] = {}
    _lines(node, (), lines)
    return lines


def load_spec(path: str | Path) -> Spec:
    """Read and check a ``noria.yaml``.

    Raises:
        ConfigError: the file is missing, is not YAML, uses a YAML alias (refused: see
            :mod:`noria.yamlfile`), or has an unknown key or a wrong value; one line per
            problem, each with the file, line and key.
    """
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: not found; create it with `noria init --data FILE --target COLUMN`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc})") from None
    try:
        raw, node = load_yaml(text, file)  # no aliases: no alias bomb, no recursion
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML ({problem})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: must be a mapping of keys (name:, data:, target:, …)")
    lines: dict[tuple[str, ...], int] = {}
    _lines(node, (), lines)
    try:
        return Spec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, file, lines)) from None


def _explain(exc: ValidationError, file: Path, lines: dict[tuple[str, ...], int]) -> str:
    messages = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        line = lines.get(loc) or lines.get(loc[:-1])
        where = f"{file}:{line}" if line else str(file)
        if err["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1])
            valid = list(parent.model_fields) if parent else []
            hint = did_you_mean(loc[-1], valid)
            msg = f"{where}: unknown key '{key}'{hint}"
            if not hint and valid:
                msg += f"; valid keys here: {', '.join(valid)}"
        elif err["type"] == "missing":
            msg = f"{where}: missing key '{key}'; add it to {file.name}"
        elif err["type"] == "value_error":
            text = err["msg"].removeprefix("Value error, ")
            msg = f"{where}: {key}: {text}" if key else f"{where}: {text}"
        else:
            got = err.get("input")
            msg = f"{where}: {key}: {err['msg']} (got {got!r})"
        messages.append(msg)
    return "\n".join(messages)


def render_spec(
    *, name: str, source: str, target: str, task: str = "auto", split: str = "stratified"
) -> str:
    """The commented ``noria.yaml`` that ``noria init`` writes."""
    import json

    source, target = json.dumps(source), json.dumps(target)  # JSON strings are YAML strings
    return f"""\
# noria.yaml — the settings of this project. Every key is optional unless marked required.
name: {name}                      # required: also the name the model is registered under

data:
  source: {source}                # required: a CSV/Parquet/JSON file, a glob or a folder
  format: auto                    # auto | csv | parquet | json
  date_formats: {{}}                # {{column: '%d/%m/%Y'}}: how its text dates are read

target: {target}                  # required: the column to predict
task: {task}                      # auto | classification | regression

split:
  method: {split}                 # random | stratified | time
  test_size: 0.2                  # the holdout share, kept out of training and selection
  time_column: null               # with method: time, the column that orders the rows

features:
  drop: []                        # columns never used as features
  max_onehot_cardinality: 20      # more distinct values: ordinal/target encoding instead
  high_cardinality: ordinal       # ordinal | target
  scale: true                     # standardize numeric columns

models:
  candidates: [linear, lightgbm, hist_gradient_boosting, random_forest, extra_trees]
                                  # also: xgboost (pip install noria[xgboost]), knn
  metric: auto                    # auto = roc_auc (classification) / rmse (regression)
  time_budget: 120                # seconds for the whole search, refit included
  n_trials: null                  # a cap on trials; null: the time budget governs
  sampler: tpe                    # tpe (Bayesian) | random | grid
  validation: auto                # kfold | holdout | time; auto = time with split.method time
  folds: 3                        # cross-validation folds of the training part
  n_jobs: null                    # trials at once, one process each; null = all cores
  warm_start: true                # start from the champion's params and the best earlier trials
  spaces: {{}}                      # own ranges, see the README ("Search")
  threshold: null                 # binary: fix the decision threshold (null: chosen for the metric)
  refit: all                      # all: the registered model is refitted on every labelled row;
                                  # train: it keeps the holdout out

steps:
  module: null                    # a Python file whose functions replace or add steps
  retries: 0                      # attempts after a failure, per step
  timeout: null                   # seconds per step attempt

executor: local                   # local | processes | ray (pip install noria[ray]; see ray:)
ray:
  address: null                   # auto | ray://HOST:10001 | HOST:6379; null = a local Ray per run
seed: 42

validation:
  schema: noria.schema.yaml       # the data contract; write it with `noria schema infer`
  policy: fail                    # fail | drop | quarantine: what a batch with bad rows does
  skew_threshold: 0.25            # PSI above which a column is flagged as departing from training
  checks: []                      # e.g. - {{column: age, range: [0, 120]}}
                                  #      - {{column: email, regex: '^[^@]+@[^@]+$', severity: warn}}
                                  #      - {{sql: "amount <= balance", name: amount within balance}}
                                  # kinds: not_null, range, in_set, unique, regex,
                                  #        max_null_fraction, row_count, sql

store:
  metadata: sqlite:///.noria/noria.db   # any SQLAlchemy URL (postgresql+psycopg://…)
  artifacts: .noria/artifacts           # a folder or an fsspec URL (s3://bucket/prefix)

promotion:                        # the gates of `noria promote NAME VERSION --to champion`
  min_metrics: {{}}                 # holdout metrics at least this: {{accuracy: 0.9}}
  max_metrics: {{}}                 # holdout losses/errors at most this: {{rmse: 10}}
  metric: auto                    # compared with the current holder's; auto = models.metric
  min_improvement: 0.0            # how much better than the current holder, on the same holdout
  require_validation: true        # the version's data validation must have passed
  not_worse: false                # refuse a candidate significantly worse than the holder
  not_worse_margin: 0.0           #   (paired-bootstrap interval of the difference, same rows)
  slice_floor: null               # every holdout slice's accuracy at least (regression: MAE)
  slice_min_rows: 30              # smaller slices are not judged
  max_ece: null                   # expected calibration error at most this
  max_fairness_gap: null          # group differences of evaluation.sensitive columns at most
  tests: true                     # the model tests below must pass

serve:                            # `noria serve`
  model: null                     # NAME@ALIAS to serve; null = this project's champion
  host: 127.0.0.1                 # 0.0.0.0 exposes it to the network (set NORIA_TOKEN then)
  port: 8000
  max_body_mb: 16                 # larger request bodies are refused (413)
  max_batch_rows: 2048            # most rows micro-batched into one predict call
  batch_window_ms: 0              # extra wait to gather concurrent requests (0 = what is queued)
  extra_columns: reject           # reject | ignore columns the model does not know
  log_predictions: true           # every prediction to .noria/predictions/NAME/*.parquet
  follow_alias: true              # load and swap in the new version when the alias moves
  poll_seconds: 1.0               # how often the alias is checked

monitor:                          # `noria monitor`: drift, data quality, live metrics
  model: null                     # NAME@ALIAS whose prediction log is read; null = champion
  window_rows: 50000              # most logged rows in one monitor window
  min_samples: 100                # fewer values in a window: "too small", never an alarm
  numeric_test: auto              # auto | psi | ks | wasserstein | js
  categorical_test: auto          # auto | chi2 | psi | js
  thresholds: {{}}                  # per test, e.g. {{psi: 0.2, wasserstein: 0.1}}
  null_rate_threshold: 0.05       # a change of the null share this large is drift
  correction: bonferroni          # p-value thresholds / columns compared (none: per column)
  label_column: label             # the truth's column in files for `noria labels add`
  webhook: null                   # URL alerts are POSTed to, as JSON

loop:                             # `noria loop` (or `noria loop --once` from cron)
  interval: 300                   # seconds between iterations
  retrain_on:
    drift: true                   # a window with drifted features
    drift_share: 0.0              # ... more than this share of them
    performance: null             # {{metric: accuracy, below: 0.8, min_labels: 50}}
    new_data: true                # the data source changed
    schedule: null                # seconds between retrains, e.g. 86400
  promote: true                   # promote a retrained model that passes the gates
  shadow: false                   # also compare it with the champion on labelled live traffic
  rollback: null                  # {{metric: accuracy, below: 0.7}}: restore the previous
                                  # champion when the new one falls below this floor

evaluation:                       # `noria evaluate NAME@VERSION`
  sensitive: []                   # columns whose groups are compared (fairness), e.g. [sex]
  bootstrap: 200                  # resamples behind every 95 % interval
  min_segment_rows: null          # fewest rows of a weak segment; null = 1 % of rows, >= 30
  alpha: 0.05                     # false discovery rate of the weak-segment search

tests: []                         # model tests, run at registration and as a promotion gate:
                                  # - {{name: n, expect: {{rows: [{{col: v, target: answer}}]}}}}
                                  # - {{invariance: {{column: c, values: [a, b], eps: 0.05}}}}
                                  # - {{directional: {{column: x, change: 10, score: CLASS}}}}
                                  # - {{floor: {{metric: accuracy, min: 0.9, where: {{c: a}}}}}}
"""
