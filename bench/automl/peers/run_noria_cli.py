"""noria the way a user runs it: CSV files, ``noria init``, the budget in noria.yaml, ``noria run``,
``noria predict``. Run by the repository's own venv (the interpreter that runs the harness).

``run_noria_cli.py --train train.csv --test test.csv --target COL --task TASK --budget S
--out PRED.parquet --project DIR`` (``--seed`` and ``--n-jobs`` are accepted and ignored: the
user's path keeps noria.yaml's defaults, seed 42 and every core).

In a fresh project folder DIR holding copies of the two CSV files, it runs, each as its own
process and as a user types them:

1. ``noria init --data train.csv --target COL``;
2. sets ``models.time_budget: S`` in the noria.yaml that wrote, and nothing else;
3. ``noria run``;
4. ``noria predict --model NAME@champion --input test.csv --output scored.parquet``

and turns ``scored.parquet`` (``prediction``, ``proba_<class>``) into the benchmark's
predictions file (one column of probabilities per class, or ``prediction``). It prints one JSON
line: ``search_s`` (the ``candidates`` and ``model`` steps of the run, as the run's records
give them: the search and the refit), ``run_s`` (the whole ``noria run`` process), the
run's own duration, the trial counts, the task and family chosen and the holdout metrics the
run logged. A command that fails ends the script with one line on stderr naming the command,
its exit status and its last output lines.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Class labels a boolean target may have had in the file (compared in lower case).
TRUE_WORDS = {"yes", "true", "y", "t", "1"}
FALSE_WORDS = {"no", "false", "n", "f", "0"}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--task", required=True, choices=("classification", "regression"))
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", required=True)
    parser.add_argument("--project", required=True)
    return parser.parse_args()


class Failed(RuntimeError):
    """A command of the user's path failed."""


def noria(args: list[str], cwd: Path, timeout: float) -> tuple[float, str]:
    """Run ``noria ARGS`` in `cwd`; its wall seconds and output. Failure raises Failed."""
    cmd = [sys.executable, "-m", "noria.cli", *args]
    shown = "noria " + " ".join(args)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise Failed(f"`{shown}` timed out after {timeout:.0f} s") from exc
    wall = time.perf_counter() - start
    output = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        tail = " | ".join(ln.strip() for ln in output.strip().splitlines()[-3:] if ln.strip())
        raise Failed(f"`{shown}` exit {proc.returncode}: {tail[:600]}")
    return wall, output


def set_budget(project: Path, budget: float) -> str:
    """Set models.time_budget in noria.yaml, as a user edits it; returns the model's name."""
    path = project / "noria.yaml"
    text = path.read_text()
    value = f"{budget:g}"
    new, count = re.subn(
        r"^(\s+time_budget:\s*)(\S+)", lambda m: m.group(1) + value, text, flags=re.M
    )
    if count != 1:
        raise Failed(f"noria.yaml: {count} 'time_budget:' lines, expected 1")
    path.write_text(new)
    name = re.search(r"^name:\s*\"?([^\"\s#]+)", new, flags=re.M)
    if not name:
        raise Failed("noria.yaml: no 'name:' line")
    return name.group(1)


def records(project: Path) -> dict[str, Any]:
    """What the run's records say: step times, trials, tags and metrics of the newest run."""
    import noria

    with noria.Project(project) as proj:
        runs = proj.runs(limit=1)
        if not runs:
            return {}
        run = runs[0]
        meta = proj.metadata
        steps = {s.step: s.duration for s in meta.step_runs(run.id)}
        trials = meta.list_runs(limit=100_000, parent_id=run.id)
        statuses: dict[str, int] = {}
        for t in trials:
            statuses[t.status] = statuses.get(t.status, 0) + 1
        tags = meta.tags(run.id)
        metrics = meta.latest_metrics([run.id]).get(run.id, {})
    search = [steps.get(k) for k in ("candidates", "model")]
    return {
        "run_id": run.id,
        "run_duration_s": run.duration,
        "steps_s": steps,
        "search_s": sum(s for s in search if s is not None) if search[0] is not None else None,
        "trials": len(trials),
        "statuses": statuses,
        "task": tags.get("task"),
        "best_family": tags.get("best_family"),
        "metric": tags.get("metric"),
        "metrics": {k: v for k, v in metrics.items() if k.startswith(("cv_", "test_", "rows_"))},
        "version": getattr(noria, "__version__", "dev"),
        "noria_file": noria.__file__,  # which sources ran (a worktree's src, or the venv's)
    }


def _bool_word(label: str) -> bool | None:
    low = label.strip().lower()
    return True if low in TRUE_WORDS else False if low in FALSE_WORDS else None


def predictions(scored: Path, task: str, classes: list[str] | None) -> tuple[Any, str]:
    """The benchmark's predictions frame from noria's scored file, and a note on labels."""
    import pandas as pd

    frame = pd.read_parquet(scored)
    if task == "regression":
        if "prediction" not in frame.columns:
            raise Failed(f"{scored.name}: no 'prediction' column ({list(frame.columns)[-5:]})")
        values = pd.to_numeric(frame["prediction"], errors="coerce")
        if values.isna().any():
            raise Failed(f"{scored.name}: non-numeric predictions (noria read a class task?)")
        return pd.DataFrame({"prediction": values.astype(float)}), ""
    probas = {c[len("proba_") :]: frame[c] for c in frame.columns if c.startswith("proba_")}
    if not probas:
        raise Failed(f"{scored.name}: no proba_<class> columns (noria read a regression task?)")
    wanted = [str(c) for c in classes or []]
    if set(probas) <= set(wanted):
        return pd.DataFrame(probas), ""
    # a yes/no target read as booleans: proba_True / proba_False
    by_word = {_bool_word(c): c for c in wanted}
    if set(probas) <= {"True", "False"} and None not in by_word and len(by_word) == 2:
        out = {by_word[label == "True"]: col for label, col in probas.items()}
        return pd.DataFrame(out), f"classes read as booleans: {sorted(probas)} for {wanted}"
    raise Failed(f"{scored.name}: classes {sorted(probas)} do not match the labels {wanted}")


def main() -> None:
    a = parse()
    project = Path(a.project)
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    shutil.copy(a.train, project / "train.csv")
    shutil.copy(a.test, project / "test.csv")
    classes = None
    meta_path = Path(a.train).with_name("meta.json")
    if meta_path.exists():
        classes = json.loads(meta_path.read_text()).get("classes")
    figures: dict[str, Any] = {"budget": a.budget}
    try:
        figures["init_s"], _ = noria(
            ["init", "--data", "train.csv", "--target", a.target], project, 300
        )
        name = set_budget(project, a.budget)
        figures["run_s"], out = noria(["run"], project, 3 * a.budget + 300)
        found = re.search(r"^search: .*$", out, flags=re.M)
        figures["search_line"] = found.group(0) if found else None
        figures.update(records(project))
        figures["predict_s"], _ = noria(
            [
                "predict",
                "--model",
                f"{name}@champion",
                "--input",
                "test.csv",
                "--output",
                "scored.parquet",
            ],
            project,
            600,
        )
        frame, note = predictions(project / "scored.parquet", a.task, classes)
    except Failed as exc:
        print(f"user's path failed: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if figures.get("task") and figures["task"] != a.task:
        note = f"noria chose task {figures['task']}, the set is {a.task}; " + note
    frame.to_parquet(a.out, index=False)
    if figures.get("search_s") is None:
        figures["search_s"] = figures["run_s"]
        note += " search_s: no step records, the whole noria run stands in"
    figures["notes"] = [note] if note else []
    print(json.dumps(figures, default=str), flush=True)


if __name__ == "__main__":
    main()
