"""CloudWatch dashboard bodies: the "." shorthand, options, layout, placeholders and clear errors."""

import json

import pytest

from rtanalytics import dashboards as D
from rtanalytics.catalog import catalog
from rtanalytics.errors import CatalogError
from rtanalytics.timewindow import TimeWindow


def test_seed_dashboard_expands_the_shorthand():
    _, ws = D.load_dashboard(catalog().root / "dashboards" / "RealTechee-Production-Monitoring.json")
    assert [w.title for w in ws] == ["Application Response Metrics", "DynamoDB Performance Metrics",
                                     "Lambda Function Performance", "Business Performance Metrics"]
    ddb = ws[1].metrics
    assert ddb[1].query.metric == "ConsumedWriteCapacityUnits" and ddb[1].query.dims == {
        "TableName": "Contacts-aqnqdrctpzfwfjwyxxsmu6peoq-NONE"}
    assert ddb[3].query.dims == {"TableName": "Projects-aqnqdrctpzfwfjwyxxsmu6peoq-NONE", "Operation": "Scan"}
    lam = ws[2].metrics
    assert lam[4].query.metric == "Errors" and lam[4].query.dims == {"FunctionName": "user-admin"}
    assert lam[6].query.dims == {"FunctionName": "status-processor"}
    biz = ws[3].metrics
    assert biz[0].query.stat == "Sum" and biz[4].query.stat == "Average" and biz[0].query.period == 3600


def test_render_with_options_text_unknown_and_missing(demo):
    body = {"widgets": [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
            "metrics": [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "RealTechee-ALB",
                         {"stat": "Sum", "color": "#ff0000", "label": "requests"}],
                        [".", "TargetResponseTime", ".", ".", {"yAxis": "right", "stat": "p95"}],
                        [{"expression": "m1 / 60", "label": "per second"}]],
            "view": "timeSeries", "stacked": True, "period": 300, "title": "ALB"}},
        {"type": "text", "x": 12, "y": 0, "width": 12, "height": 3,
         "properties": {"markdown": "# Runbook\\n<script>alert(1)</script>"}},
        {"type": "log", "x": 12, "y": 3, "width": 12, "height": 3, "properties": {"query": "fields @message"}},
        {"type": "metric", "x": 0, "y": 6, "width": 24, "height": 4, "properties": {
            "metrics": [["RealTechee/Business", "RequestsSubmitted", {"stat": "Sum"}]], "period": 3600}}]}
    ws = D.parse(json.dumps(body))
    data = D.fetch(ws, demo, TimeWindow.parse("2026-11-18", "2026-11-19"))
    fig = D.figure(ws, data, "t")
    names = [t.name for t in fig.data]
    assert names == ["requests", "TargetResponseTime RealTechee-ALB"]
    assert fig.data[0].line.color == "#ff0000" and fig.data[0].stackgroup
    assert fig.data[1].yaxis == "y101"  # right axis
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "widget type 'log' is not rendered here" in text
    assert "metric math &#x27;m1 / 60&#x27;: computed by CloudWatch" in text
    assert "RequestsSubmitted: no data" in text
    assert fig.layout.xaxis.domain[1] < 0.5 and fig.layout.xaxis4.domain == (0.012, 0.988)
    # a legend per widget, as the console draws it: under its own chart, above the next widget's title
    assert {t.legend for t in fig.data} == {"legend"}
    leg = fig.layout.legend
    assert leg.x == fig.layout.xaxis.domain[0] and leg.y < fig.layout.yaxis.domain[0]
    titles = [a for a in fig.layout.annotations if a.text == "<b>metric widget 4</b>"]
    assert titles and leg.y - 2 * 20 / (fig.layout.height - 100) >= titles[0].y - 1e-9


def test_widgets_never_overlap_their_titles_axes_or_legends(demo):
    """Every widget's plot area sits below its own title and above its own legend, and each legend stays inside
    its widget's cell (the seed dashboard drew titles over the dates of the widget above and pooled the legends)."""
    from rtanalytics.catalog import catalog

    views = D.render_folder(catalog().root / "dashboards", demo, TimeWindow.parse("2026-11-18", "2026-11-19"))
    fig = views[0].figure
    drawn = [t for t in fig.data]
    # each trace in the legend of the widget whose axes it is drawn on (never one pooled legend for all)
    for t in drawn:
        n = 1 if t.xaxis in (None, "x") else int(t.xaxis[1:])
        assert t.legend == ("legend" if n == 1 else f"legend{n}")
    assert len({t.legend for t in drawn}) >= 3
    for n, w in enumerate(views[0].widgets, start=1):
        ax = "" if n == 1 else str(n)
        y0, y1 = fig.layout[f"yaxis{ax}"].domain
        title = next(a for a in fig.layout.annotations if a.text == f"<b>{w.title}</b>")
        assert title.y > y1  # the title above the plot
        leg = fig.layout.to_plotly_json().get("legend" if n == 1 else f"legend{n}")
        if leg:
            leg = type("L", (), leg)
            cell_bottom = 1 - (w.y + w.height) / max(v.y + v.height for v in views[0].widgets)
            assert cell_bottom - 1e-9 <= leg.y < y0  # under the plot, inside the cell

def test_bad_bodies_name_the_problem():
    with pytest.raises(CatalogError, match="widgets"):
        D.parse({"nope": []})
    with pytest.raises(CatalogError, match=r'metrics\[0\]\[0\].*repeats the previous row'):
        D.parse({"widgets": [{"type": "metric", "properties": {"metrics": [[".", "X"]]}}]})
    with pytest.raises(CatalogError, match="not JSON"):
        D.parse("{not json")


def test_console_exports_use_the_ellipsis_repeat():
    """Real console exports write "..." to repeat the previous row, its trailing items replaced."""
    from rtanalytics.dashboards import parse

    body = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
        "stat": "Sum", "period": 300, "metrics": [
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", "orders", "Operation", "GetItem"],
            ["...", "stocklist", "Operation", "GetItem"],
            ["...", "Query"],
            ["...", {"stat": "p99"}],
        ]}}]}
    (w,) = parse(body)
    qs = [m.query for m in w.metrics]
    assert dict(qs[1].dimensions) == {"TableName": "stocklist", "Operation": "GetItem"}
    assert dict(qs[2].dimensions) == {"TableName": "stocklist", "Operation": "Query"}
    assert dict(qs[3].dimensions) == dict(qs[2].dimensions) and qs[3].stat == "p99" and qs[2].stat == "Sum"


def test_a_broken_dashboard_is_reported_alone(tmp_path, demo):
    import json

    from rtanalytics.reports import dashboards as D

    good = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
        "metrics": [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "RealTechee-ALB"]], "stat": "Sum"}}]}
    (tmp_path / "a-good.json").write_text(json.dumps(good))
    (tmp_path / "b-broken.json").write_text('{"widgets": [{"type": "metric", "properties": {"metrics": [["..."]]}}]}')
    (tmp_path / "c-notjson.json").write_text("{widgets")
    rep = D.run(start="-6h", now="2026-11-20T00:00Z", folder=tmp_path)
    assert [v.name for v in rep.views] == ["a-good", "b-broken", "c-notjson"]
    assert rep.views[0].figure is not None and rep.views[1].error and "not JSON" in rep.views[2].error
    assert rep.status == "partial" and sum("could not be read" in g for g in rep.gaps()) == 2
