"""The dashboard over HTTP: every page on a real store, bad input, tokens, CSRF, actions."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import quote

import pytest

from noria.project import Project
from tests.ui.conftest import EVIL, UIProject

TOKEN = "s3cret-token"


def csrf_of(body: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
    assert match, "no CSRF field in the page"
    return match.group(1)


def runs_shown(body: str) -> list[str]:
    return re.findall(r'<a href="/runs/([0-9a-f]{32})">', body.split('id="runs-table"')[1])


def test_every_page_opens(ui_project: UIProject, make_client) -> None:
    c = make_client()
    p = ui_project
    assert c.get("/").headers["location"] == "/runs"
    body = c.get("/runs").text
    assert p.run_id in body and "long-history" in body
    assert "metrics.test_roc_auc" in body  # a quality metric among the default columns
    r = c.get(f"/runs/{p.run_id}")
    assert r.status_code == 200
    for needle in (
        "raw_data",
        "registered_model",
        "download",
        "trial-0",
        "compare them",
        f"{p.model} version 1",
        "<svg",
    ):
        assert needle in r.text, needle
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert c.get(f"/runs/{p.run_id[:8]}").status_code == 200  # an id prefix
    assert "loss" in c.get(f"/runs/{p.history_id}").text
    r = c.get(f"/compare?parent={p.run_id}")
    assert r.status_code == 200 and "Parallel coordinates" in r.text and "<polyline" in r.text
    r = c.get("/compare", params={"runs": ",".join(x[:10] for x in p.trial_ids[:2])})
    assert r.status_code == 200 and "Compare 2 runs" in r.text
    r = c.get(
        "/compare",
        params=[
            ("run", p.trial_ids[0]),
            ("run", p.trial_ids[1]),
            ("x", "params.C"),
            ("y", "metrics.cv_roc_auc"),
        ],
    )
    assert r.status_code == 200 and "metrics.cv_roc_auc against params.C" in r.text
    assert p.model in c.get("/models").text
    r = c.get(f"/models/{p.model}")
    assert r.status_code == 200 and "first version of the model" in r.text  # audit reason
    r = c.get(f"/models/{p.model}/versions/1")
    assert r.status_code == 200 and "Model card" in r.text and "Input signature" in r.text
    assert c.get("/monitor").status_code == 200
    assert c.get("/static/ui.css").status_code == 200
    assert c.get("/health").text == "ok"


def test_artifact_download(ui_project: UIProject, make_client) -> None:
    c = make_client()
    body = c.get(f"/runs/{ui_project.run_id}").text
    artifact = re.search(r'href="/artifacts/([0-9a-f]+)"', body).group(1)
    r = c.get(f"/artifacts/{artifact}")
    assert r.status_code == 200 and r.content
    assert r.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "url",
    [
        "/runs/ffffffffffffffffffffffffffffffff",
        "/runs/%3Cscript%3E",
        "/models/nope",
        "/models/{model}/versions/99",
        "/models/{model}/versions/abc",
        "/artifacts/zz",
        "/artifacts/0123456789abcdef0123456789abcdef",
        "/monitor/{model}/windows/7",
        "/reports/..%2F..%2Fnoria.yaml",
        "/compare?runs=ffffffff,eeeeeeee",
        "/no/such/page",
    ],
)
def test_unknown_ids_are_404_pages(ui_project: UIProject, make_client, url: str) -> None:
    r = make_client().get(url.format(model=ui_project.model))
    assert r.status_code == 404, r.text[:500]
    assert 'id="error-message"' in r.text and "<nav>" in r.text


def test_filter_sort_search_and_pages(ui_project: UIProject, make_client) -> None:
    c = make_client()
    p = ui_project
    r = c.get("/runs", params={"filter": "test_roc_auc > 0.5 and status = completed"})
    assert runs_shown(r.text) == [p.run_id]
    r = c.get("/runs", params={"filter": "family = linear", "trials": "1"})
    assert sorted(runs_shown(r.text)) == sorted([*p.trial_ids, p.run_id])  # the run's own too
    r = c.get("/runs", params={"filter": "status in (failed, interrupted)"})
    assert runs_shown(r.text) == []
    r = c.get("/runs", params={"q": "SCRIPT"})
    assert runs_shown(r.text) == [p.evil_id]
    r = c.get(
        "/runs",
        params={
            "trials": "1",
            "sort": "metrics.cv_roc_auc",
            "desc": "1",
            "filter": "metrics.cv_roc_auc > 0",
        },
    )
    store = Project(p.root).metadata
    scored = store.latest_metrics([p.run_id, *p.trial_ids])  # a pruned trial may have none
    expected = {i for i, m in scored.items() if m.get("cv_roc_auc", 0) > 0}
    shown = runs_shown(r.text)
    values = [scored[i]["cv_roc_auc"] for i in shown]
    assert set(shown) == expected and len(shown) >= 2 and values == sorted(values, reverse=True)
    r = c.get("/runs", params={"per": "1", "page": "2"})
    assert len(runs_shown(r.text)) == 1 and 'id="next"' in r.text and 'id="prev"' in r.text
    r = c.get("/runs", params={"cols": "metrics.test_accuracy,params.family,tags.task"})
    assert "tags.task" in r.text and "classification" in r.text


@pytest.mark.parametrize(
    ("expr", "column", "needle"),
    [
        ("test_roc_auc > ", 16, "expected a value"),
        ("test_roc_auc >> 1", 15, "expected a value"),
        ("nosuch > 1", 1, "'nosuch'"),
        ("status = ok and (name = x", 26, "closing ')'"),
        ("test_roc_auc > high", 16, "holds numbers"),
        ('name = "unterminated', 8, "closing quote"),
        ("status = ok ok", 13, "expected 'and', 'or'"),
    ],
)
def test_filter_syntax_errors_point_at_the_column(
    make_client, expr: str, column: int, needle: str
) -> None:
    r = make_client().get("/runs", params={"filter": expr})
    assert r.status_code == 400
    message = re.search(r'id="filter-error"><p>(.*?)</p>', r.text).group(1)
    assert f"(column {column})" in message and needle.replace("'", "&#39;") in message, message
    caret = re.search(r"<pre>(.*?)\n( *)\^</pre>", r.text, re.S)
    assert caret and len(caret.group(2)) == column - 1


def test_sql_injection_is_just_text(ui_project: UIProject, make_client) -> None:
    c = make_client()
    before = Project(ui_project.root).metadata.read("SELECT COUNT(*) FROM runs")[0][0]
    attempts = [
        {"filter": "name = \"x' OR '1'='1\""},
        {"filter": 'name = "x\'; DROP TABLE runs; --"'},
        {"filter": "metrics.`x') OR 1=1 --` > 0"},
        {"filter": "params.`a' = 'a` = \"' OR 1=1\""},
        {"q": "%' OR '1'='1"},
        {"q": "x'; DELETE FROM runs; --"},
    ]
    for params in attempts:
        r = c.get("/runs", params=params)
        assert r.status_code == 200, (params, r.text[:300])
        assert runs_shown(r.text) == [], params
    for bad in ("started_at; DROP TABLE runs", "name) --"):
        assert c.get("/runs", params={"sort": bad}).status_code == 400
    r = c.get("/runs", params={"cols": "metrics.x') UNION SELECT 1 --"})
    assert r.status_code == 200
    after = Project(ui_project.root).metadata.read("SELECT COUNT(*) FROM runs")[0][0]
    assert after == before


def test_html_in_names_tags_params_and_keys_is_escaped(ui_project: UIProject, make_client) -> None:
    c = make_client()
    p = ui_project
    pages = [
        c.get(
            "/runs", params={"cols": "params.`<b>param</b>`,tags.note,metrics.`<i>odd</i> metric`"}
        ).text,
        c.get("/runs", params={"filter": 'name ~ "<script>"'}).text,
        c.get(f"/runs/{p.evil_id}").text,
        c.get(
            "/compare",
            params={
                "runs": f"{p.evil_id},{p.history_id}",
                "x": "metrics.loss",
                "y": "metrics.`<i>odd</i> metric`",
            },
        ).text,
    ]
    for body in pages:
        assert EVIL not in body and "<script>alert" not in body and "<img src=x" not in body
        assert "<b>param</b>" not in body and "<i>odd</i>" not in body
        assert "&lt;script&gt;alert(" in body
    r = c.get("/runs", params={"filter": "<script>alert(1)</script> = 1"})
    assert r.status_code == 400 and "<script>alert(1)" not in r.text


def test_token_is_required_when_set(ui_project: UIProject, make_client) -> None:
    c = make_client(token=TOKEN)
    r = c.get("/runs")
    assert r.status_code == 401 and 'name="token"' in r.text and ui_project.run_id not in r.text
    assert c.get(f"/runs/{ui_project.run_id}").status_code == 401
    assert c.get("/no/such/page").status_code == 401
    assert c.get("/runs", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/runs", headers={"authorization": f"Basic {TOKEN}"}).status_code == 401
    assert (
        c.get(
            "/runs", headers={"authorization": "Bearer s3cret-tokén".encode("latin-1")}
        ).status_code
        == 401
    )
    assert c.get("/runs", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert c.get("/health").status_code == 200
    r = c.post("/login", data={"token": "nope", "next": "/models"})
    assert r.status_code == 401 and "not the token" in r.text
    r = c.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/runs"
    cookie = r.headers["set-cookie"]
    assert TOKEN not in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/runs").status_code == 200  # the login cookie now
    c.cookies.clear()
    assert c.get("/runs").status_code == 401


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from noria.serve import auth as serve_auth
    from noria.ui.auth import Guard

    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    guard = Guard(TOKEN)
    assert guard.allowed(f"Bearer {TOKEN}", {}) and not guard.allowed("Bearer x", {})
    assert guard.token_matches(TOKEN) and not guard.token_matches("x")
    assert guard.allowed(None, {"noria_login": guard.login_value})
    assert not guard.allowed(None, {"noria_login": "0" * 64})
    assert len(calls) == 6
    # a UTF-8 token arrives as Starlette hands headers over: its bytes decoded as latin-1
    sent = "Bearer " + "é".encode().decode("latin-1")
    assert serve_auth.bearer_ok(sent, "é") and not serve_auth.bearer_ok(sent, "e")


def test_read_only_has_no_buttons_and_refuses_posts(ui_project: UIProject, make_client) -> None:
    c = make_client()
    body = c.get(f"/models/{ui_project.model}").text
    assert 'class="promote"' not in body and 'class="rollback"' not in body
    r = c.post(
        f"/models/{ui_project.model}/promote", data={"version": "2", "alias": "ro", "csrf": "x"}
    )
    assert r.status_code == 403 and "read-only" in r.text
    assert "ro" not in {a for _, a, _ in Project(ui_project.root).metadata.aliases()}


def test_promote_and_rollback_need_the_csrf_token(ui_project: UIProject, make_client) -> None:
    c = make_client(allow_actions=True, token=TOKEN)
    name = ui_project.model
    url = f"/models/{quote(name)}/promote"
    headers = {"authorization": f"Bearer {TOKEN}"}
    body = c.get(f"/models/{name}", headers=headers).text
    assert 'class="promote"' in body
    token = csrf_of(body)
    form = {"version": "2", "alias": "staging", "reason": "better on Tuesdays"}
    store = Project(ui_project.root).metadata
    assert c.post(url, data=form, headers=headers).status_code == 403  # no CSRF token
    assert c.post(url, data={**form, "csrf": "0" * 64}, headers=headers).status_code == 403
    evil = {**headers, "origin": "http://evil.example"}
    assert c.post(url, data={**form, "csrf": token}, headers=evil).status_code == 403
    assert c.post(url, data={**form, "csrf": token}).status_code == 401  # no login
    assert "staging" not in {a for _, a, _ in store.aliases(name)}
    r = c.post(url, data={**form, "csrf": token}, headers=headers)
    assert r.status_code == 303, r.text[r.text.find("<main>") : r.text.find("<main>") + 600]
    assert (name, "staging", 2) in store.aliases(name)
    event = store.audit_events(f"{name}/2")[-1]
    assert event["action"] == "promote" and event["actor"].endswith("(ui)")
    assert event["detail"]["reason"] == "better on Tuesdays"
    assert "promoted to version 2" in c.get(r.headers["location"], headers=headers).text
    r = c.post(url, data={"version": "9", "alias": "x", "csrf": token}, headers=headers)
    assert r.status_code == 404
    r = c.post(
        f"/models/{quote(name)}/rollback", data={"alias": "staging", "csrf": token}, headers=headers
    )
    assert r.status_code == 400 and "no previous holder" in r.text  # a 4xx page, not a 500


def test_a_running_writer_never_blocks_the_pages(ui_project: UIProject, make_client) -> None:
    from noria.store.metadata import MetadataStore
    from noria.tracking import log_metric, start_run

    c = make_client()
    url = f"sqlite:///{ui_project.root / '.noria' / 'noria.db'}"
    done = threading.Event()
    names: list[str] = []

    def writer() -> None:
        store = MetadataStore(url)  # its own connection, like another process
        for i in range(15):
            with start_run(store, name=f"concurrent-{i}"):
                for step in range(200):
                    log_metric("loss", 1 / (step + 1), step=step)
            names.append(f"concurrent-{i}")
        store.close()
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        r = c.get("/runs", params={"filter": "loss < 1", "sort": "metrics.loss"})
        assert r.status_code == 200, r.text[:300]
        time.sleep(0.01)
    thread.join()
    body = c.get("/runs", params={"q": "concurrent-14"}).text
    assert "concurrent-14" in body and len(names) == 15
