"""``noria ci``: validate → run → evaluate → tests → gate, in one command, for CI.

Stages, in order (a stage that fails stops the ones after it):

1. **validate** — ``noria.yaml`` loads, its ``tests:`` can run on the data (known columns,
   possible values), and the data passes the schema and ``validation.checks`` (when there are);
2. **run** — the project's pipeline (``noria run``): a new version is registered (or the same
   one found again), and the model tests run at registration;
3. **evaluate** — ``noria evaluate`` on the version's holdout: the report and the stored
   evaluation;
4. **tests** — the model tests of ``tests:`` (their results as stored with the version);
5. **gate** — the promotion gates of ``promotion:`` against the current holder of ``--to``
   (nothing moves unless ``--promote``).

Exit status: 0 when every stage, test and gate passed; 1 when a test, a gate or the data's
validation failed; 2 for a user error (a bad ``noria.yaml``, a missing file). A JUnit XML file
(one test suite per stage, one test case per model test and gate) and a Markdown summary (for a
pull-request comment; also appended to ``$GITHUB_STEP_SUMMARY`` when set) are written either
way.

``noria ci --init github`` writes ``.github/workflows/noria.yml``, a GitHub Actions workflow
that runs ``noria ci`` on pull requests, uploads the reports and comments the summary.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from noria.cli._output import console

if TYPE_CHECKING:
    from noria.project import Project

__all__ = ["WORKFLOW", "print_stored_tests", "register"]


def register(app: typer.Typer) -> None:
    """Add ``ci`` to ``app``."""
    app.command("ci")(ci)


@dataclass
class Case:
    """One JUnit test case: a stage's check, a model test or a gate."""

    name: str
    passed: bool
    detail: str
    error: bool = False  # a user error, not a failed check


@dataclass
class Stage:
    """One stage of ``noria ci`` and its cases."""

    name: str
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str = ""

    @property
    def passed(self) -> bool:
        """Whether every case passed (a skipped stage did not fail)."""
        return all(c.passed for c in self.cases)


def ci(
    init: Optional[str] = typer.Option(  # noqa: UP045
        None, "--init", help="Write a CI workflow instead: github."
    ),
    junit: Path = typer.Option(
        Path(".noria/ci/junit.xml"), "--junit", help="The JUnit XML file to write."
    ),
    summary: Path = typer.Option(
        Path(".noria/ci/summary.md"), "--summary", help="The Markdown summary to write."
    ),
    to: str = typer.Option("champion", "--to", help="The alias the gates compare with."),
    promote: bool = typer.Option(
        False, "--promote/--no-promote", help="Move the alias when every gate passes."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
) -> None:
    """Validate, run, evaluate, test and gate the project in one command; exit 0 (passed),
    1 (a test or gate failed) or 2 (a user error); a JUnit XML file and a Markdown summary."""
    if init is not None:
        written = init_workflow(path, init)
        console().print(f"wrote {written}: it runs `noria ci` on every pull request", markup=False)
        return
    root = path.resolve()
    junit = junit if junit.is_absolute() else root / junit
    summary = summary if summary.is_absolute() else root / summary
    stages, facts = run_stages(root, to=to, promote=promote)
    write_junit(junit, stages)
    text = markdown_summary(stages, facts)
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(text, encoding="utf-8")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(text)
    out = console()
    for stage in stages:
        mark = "skip" if stage.skipped else ("pass" if stage.passed else "FAIL")
        out.print(
            f"{mark:4}  {stage.name}{': ' + stage.skipped if stage.skipped else ''}", markup=False
        )
        for case in stage.cases:
            if case.name != stage.name or not case.passed:
                word = "PASS" if case.passed else ("ERROR" if case.error else "FAIL")
                out.print(f"      {word}  {case.name}: {case.detail}", markup=False)
    out.print(f"junit: {junit}\nsummary: {summary}", markup=False)
    code = exit_code(stages)
    if code:
        raise SystemExit(code)


def exit_code(stages: list[Stage]) -> int:
    """2 when a stage met a user error, else 1 when a check failed, else 0."""
    cases = [c for s in stages for c in s.cases]
    if any(c.error for c in cases):
        return 2
    return 0 if all(c.passed for c in cases) else 1


def run_stages(root: Path, *, to: str, promote: bool) -> tuple[list[Stage], dict[str, Any]]:
    """Run the stages (see the module docstring); ``(stages, facts for the summary)``."""
    from noria.errors import NoriaError

    names = ("validate", "run", "evaluate", "tests", "gate")
    stages = [Stage(n) for n in names]
    facts: dict[str, Any] = {}
    state: dict[str, Any] = {}
    steps = {
        "validate": _validate,
        "run": _run,
        "evaluate": _evaluate,
        "tests": _tests,
        "gate": _gate,
    }
    failed = ""
    for stage in stages:
        if failed:
            stage.skipped = f"not run: {failed} did not pass"
            continue
        started = time.perf_counter()
        try:
            steps[stage.name](root, stage, state, facts, to=to, promote=promote)
        except NoriaError as exc:  # a user error (2), or an internal one (reported as such)
            stage.cases.append(Case(stage.name, False, str(exc), error=True))
        stage.seconds = time.perf_counter() - started
        if not stage.passed:
            failed = stage.name
    project = state.get("project")
    if project is not None:
        project.close()
    return stages, facts


def _validate(
    root: Path, stage: Stage, state: dict[str, Any], facts: dict[str, Any], **_: Any
) -> None:
    from noria.data.schema import load_schema
    from noria.data.sources import read_source
    from noria.data.validate import parse_checks, validate_file
    from noria.errors import ConfigError
    from noria.project import Project

    project = Project.find(root)
    state["project"] = project
    spec = project.spec
    if spec is None:
        raise ConfigError(f"no noria.yaml in {project.root}: `noria init` writes one")
    frame = read_source(spec.data.source, format=spec.data.format, base=project.root)
    project.check_tests(frame)
    stage.cases.append(Case("noria.yaml", True, f"loaded; {len(spec.tests)} model test(s)"))
    schema_file = project.root / spec.validation.schema_file
    schema = load_schema(schema_file) if schema_file.is_file() else None
    checks = parse_checks(spec.validation.check_dicts())
    if schema is None and not checks:
        stage.cases.append(Case("data", True, "no schema and no checks: nothing to validate"))
        return
    result = validate_file(
        spec.data.source, schema, checks, format=spec.data.format, base=project.root
    )
    errors = result.errors
    detail = f"{result.rows:,} rows, {len(result.results)} checks"
    if errors:
        detail += "; failed: " + "; ".join(
            f"{getattr(e, 'name', '') or getattr(e, 'check', '')}" for e in errors[:5]
        )
    stage.cases.append(Case("data", result.passed, detail))


def _run(root: Path, stage: Stage, state: dict[str, Any], facts: dict[str, Any], **_: Any) -> None:
    project: Project = state["project"]
    result = project.run()
    if "registered_model" not in result.steps:
        stage.cases.append(Case("run", False, f"run {result.run_id[:8]} registered no model"))
        return
    reg = result["registered_model"]
    state["version"] = (reg["name"], int(reg["version"]))
    facts.update(run=result.run_id, model=reg["name"], version=int(reg["version"]))
    cached = f", {result.cache_hits} steps from the cache" if result.cache_hits else ""
    stage.cases.append(
        Case(
            "run",
            True,
            f"run {result.run_id[:8]} registered {reg['name']}@{reg['version']}{cached}",
        )
    )


def _evaluate(
    root: Path, stage: Stage, state: dict[str, Any], facts: dict[str, Any], **_: Any
) -> None:
    from noria.cli.evaluate_cmds import evaluate_version, write_outputs
    from noria.registry import get_version

    project: Project = state["project"]
    name, number = state["version"]
    version = get_version(project.metadata, name, number)
    result = evaluate_version(project, version)
    html, _ = write_outputs(project, version, result, None, None)
    facts["evaluation"] = result.to_dict()
    facts["report"] = str(html)
    stage.cases.append(Case("evaluate", True, f"{result.rows:,} holdout rows; report {html}"))


def _tests(
    root: Path, stage: Stage, state: dict[str, Any], facts: dict[str, Any], **_: Any
) -> None:
    from noria.registry import get_version
    from noria.registry.evidence import stored_tests

    project: Project = state["project"]
    assert project.spec is not None
    if not project.spec.tests:
        stage.skipped = "no `tests:` in noria.yaml"
        return
    name, number = state["version"]
    stored = stored_tests(project.metadata, get_version(project.metadata, name, number))
    if stored is None:  # a version registered before the tests were written
        results = [r.to_dict() for r in project.test_version(name, number, when="ci")]
    else:
        results = stored["results"]
    facts["tests"] = results
    for r in results:
        stage.cases.append(Case(r["name"], r["passed"], r["detail"]))


def _gate(
    root: Path,
    stage: Stage,
    state: dict[str, Any],
    facts: dict[str, Any],
    *,
    to: str,
    promote: bool,
) -> None:
    from noria.registry import PromotionGates, alias_holder, check_gates, get_version, judged_metric
    from noria.registry import promote as do_promote

    project: Project = state["project"]
    spec = project.spec
    assert spec is not None
    name, number = state["version"]
    metric = judged_metric(project.metadata, name, spec.models.metric)
    gates = PromotionGates.from_spec(spec.promotion, default_metric=metric)
    gates = _without_tests(gates)  # the tests stage judged them already
    holder = alias_holder(project.metadata, name, to)
    facts["holder"] = holder
    candidate = get_version(project.metadata, name, number)
    if promote and holder != number:
        results = do_promote(
            project.metadata,
            name,
            number,
            to=to,
            gates=gates,
            reason="noria ci",
            artifacts=project.artifacts,
        )
        facts["promoted"] = True
    else:
        results = check_gates(
            project.metadata, candidate, gates, alias=to, artifacts=project.artifacts, holder=holder
        )
    facts["gates"] = [{"gate": r.gate, "passed": r.passed, "detail": r.detail} for r in results]
    if holder == number:
        stage.cases.append(Case(f"{name}@{to}", True, f"version {number} holds {to} already"))
    for r in results:
        stage.cases.append(Case(r.gate, r.passed, r.detail))
    if not results and holder != number:
        stage.cases.append(Case("gates", True, "no gate configured in promotion:"))


def _without_tests(gates: Any) -> Any:
    from dataclasses import replace

    return replace(gates, tests=False)


# --------------------------------------------------------------------------- outputs


def print_stored_tests(project: Project, name: str, version: int) -> None:
    """The model tests stored with a version, one pass/fail line each (nothing if none)."""
    from noria.registry import get_version
    from noria.registry.evidence import stored_tests

    if project.spec is None or not project.spec.tests:
        return
    stored = stored_tests(project.metadata, get_version(project.metadata, name, version))
    if stored is None:
        return
    out = console()
    out.print(f"model tests: {stored['passed']} passed, {stored['failed']} failed", markup=False)
    for r in stored["results"]:
        out.print(
            f"  {'PASS' if r['passed'] else 'FAIL'}  {r['name']}: {r['detail']}", markup=False
        )


def write_junit(path: Path, stages: list[Stage]) -> Path:
    """The JUnit XML file: one ``testsuite`` per stage, one ``testcase`` per case."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="noria ci")
    total = failures = errors = 0
    for stage in stages:
        suite = ET.SubElement(root, "testsuite", name=stage.name)
        cases = stage.cases or [Case(stage.name, True, stage.skipped or "nothing to check")]
        n_fail = sum(not c.passed and not c.error for c in cases)
        n_err = sum(c.error for c in cases)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(n_fail))
        suite.set("errors", str(n_err))
        suite.set("skipped", str(len(cases) if stage.skipped else 0))
        suite.set("time", f"{stage.seconds:.3f}")
        for case in cases:
            element = ET.SubElement(
                suite, "testcase", name=case.name, classname=f"noria.{stage.name}"
            )
            if stage.skipped:
                ET.SubElement(element, "skipped", message=stage.skipped)
            elif case.error:
                ET.SubElement(element, "error", message=case.detail).text = case.detail
            elif not case.passed:
                ET.SubElement(element, "failure", message=case.detail).text = case.detail
            else:
                ET.SubElement(element, "system-out").text = case.detail
        total, failures, errors = total + len(cases), failures + n_fail, errors + n_err
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(stages: list[Stage], facts: dict[str, Any]) -> str:
    """The Markdown summary: verdict, stages, metrics with intervals, tests, gates."""
    code = exit_code(stages)
    verdict = {0: "✅ passed", 1: "❌ a test or gate failed", 2: "⚠️ error"}[code]
    lines = [f"## noria ci: {verdict}", ""]
    if "model" in facts:
        lines.append(
            f"Model **{facts['model']}** version **{facts['version']}** (run `{facts['run'][:8]}`)."
        )
        lines.append("")
    lines += ["| stage | result | detail |", "| --- | --- | --- |"]
    for s in stages:
        result = "skipped" if s.skipped else ("pass" if s.passed else "**FAIL**")
        failing = [c for c in s.cases if not c.passed]
        detail = (
            s.skipped
            or "; ".join(f"{c.name}: {c.detail}" for c in failing[:3])
            or (s.cases[0].detail if s.cases else "")
        )
        lines.append(f"| {s.name} | {result} | {_md(detail)} |")
    evaluation = facts.get("evaluation")
    if evaluation:
        lines += [
            "",
            f"### Holdout metrics ({evaluation['rows']:,} rows)",
            "",
            "| metric | value | 95 % interval | baseline |",
            "| --- | --- | --- | --- |",
        ]
        for name, m in evaluation["metrics"].items():
            low, high = m.get("low"), m.get("high")
            ci = f"{low:.4g} – {high:.4g}" if low is not None and high is not None else "-"
            value = "-" if m.get("value") is None else f"{m['value']:.4g}"
            base = "-" if m.get("baseline") is None else f"{m['baseline']:.4g}"
            lines.append(f"| {name} | {value} | {ci} | {base} |")
    if facts.get("tests"):
        lines += ["", "### Model tests", ""]
        for r in facts["tests"]:
            lines.append(
                f"- {'✅' if r['passed'] else '❌'} **{_md(r['name'])}**: {_md(r['detail'])}"
            )
    if facts.get("gates"):
        lines += ["", "### Promotion gates", ""]
        for g in facts["gates"]:
            lines.append(
                f"- {'✅' if g['passed'] else '❌'} **{_md(g['gate'])}**: {_md(g['detail'])}"
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the workflow

#: The GitHub Actions workflow of ``noria ci --init github``. The steps whose ``run:`` starts
#: with ``noria`` are the ones the tests run in a temporary project.
WORKFLOW = """\
# Written by `noria ci --init github`: validate, train, evaluate, test and gate the model on
# every pull request; the JUnit results and reports are uploaded, the summary commented.
name: noria ci
on:
  pull_request:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
  pull-requests: write
jobs:
  model:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - name: Install noria
        run: pip install "noria=={version}"
      - name: Validate, run, evaluate, test, gate
        run: noria ci --junit noria-junit.xml --summary noria-summary.md
      - name: Upload the results and reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: noria-ci
          path: |
            noria-junit.xml
            noria-summary.md
            .noria/reports/
      - name: Comment the summary on the pull request
        if: always() && github.event_name == 'pull_request'
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh pr comment ${{{{ github.event.pull_request.number }}}} --body-file noria-summary.md
"""


def init_workflow(path: Path, kind: str) -> Path:
    """Write the CI workflow ``kind`` (``github``) into the project; its path.

    Raises:
        UserError: an unknown kind, or the workflow exists already.
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    from noria.errors import UserError

    if kind != "github":
        raise UserError(f"--init {kind}: unknown CI; use --init github")
    file = path / ".github" / "workflows" / "noria.yml"
    if file.exists():
        raise UserError(f"{file} exists already: remove it first to write a new one")
    try:
        version = package_version("noria")
    except PackageNotFoundError:
        version = "0.1.0"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(WORKFLOW.format(version=version), encoding="utf-8")
    return file
