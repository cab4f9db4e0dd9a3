"""The scheduler over a simulated clock across a day: which runs happened, no overlaps, catch-up after downtime,
a failure that notifies (SNS on moto, read back through an SQS subscription), retention, and the index."""

import json

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from pydantic import Field

from rtanalytics.catalog.models import Environment, Notifications
from rtanalytics.reports import registry
from rtanalytics.reports.ledger import read_ledger
from rtanalytics.reports.registry import CommonParams, Report
from rtanalytics.reports.schedule import EntryLock, Schedule, run_due, slots_between


class TinyParams(CommonParams):
    fail: bool = Field(False, description="raise, to test failure handling")


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    nb = new_notebook(cells=[
        new_code_cell('source = "demo"\nenvironment = "demo"\nstart = "-7d"\nend = "now"\nfail = False\n'
                      'files_path = ""\nevidence = False\nevidence_dir = ""\noutput_dir = ""',
                      metadata={"tags": ["parameters"]}),
        new_code_cell("import pandas as pd\nimport rtanalytics as rt\nif fail:\n    raise RuntimeError('boom')\n"
                      "rt.report_summary({'hour': pd.Timestamp(end).hour})"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, str(path))
    monkeypatch.setitem(registry.REPORTS, "tiny", Report("tiny", "Tiny", path, TinyParams, "test report"))
    monkeypatch.setitem(registry.REPORTS, "tinyfail", Report("tinyfail", "Tiny failing", path, TinyParams, "fails"))


def test_cron_slots():
    s = slots_between("0 */3 * * *", pd.Timestamp("2026-11-20T00:00Z"), pd.Timestamp("2026-11-20T09:00Z"))
    assert [t.hour for t in s] == [3, 6, 9]


def test_a_simulated_day(tiny, tmp_path, aws):
    out = tmp_path / "outputs"
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topics = {lvl: sns.create_topic(Name=f"RealTechee-{lvl}-Alerts")["TopicArn"] for lvl in ("Critical", "Warning")}
    q = sqs.create_queue(QueueName="pager")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topics["Critical"], Protocol="sqs", Endpoint=qarn)
    env = Environment(name="t", notifications=Notifications(enabled=True, topics=topics))
    sched = Schedule.model_validate({"catch_up": "latest", "entries": [
        {"name": "tiny-3h", "report": "tiny", "cron": "0 */3 * * *", "params": {"start": "-3h"}, "timeout": 60,
         "keep": 5},
        {"name": "tiny-fail", "report": "tinyfail", "cron": "0 6 * * *", "params": {"fail": True}, "timeout": 60}]})
    records = []
    clock = pd.date_range("2026-11-20T00:00Z", "2026-11-21T00:00Z", freq="5min")
    for now in clock:
        if pd.Timestamp("2026-11-20T13:00Z") <= now < pd.Timestamp("2026-11-20T18:30Z"):
            continue  # the machine was down: the 15:00 and 18:00 slots are missed
        if now == pd.Timestamp("2026-11-20T21:00Z"):
            with EntryLock(out, "tiny-3h") as held:  # a run of the entry still going: the new one must not start
                assert held.acquired
                records += run_due(now, out, sched, environment=env, aws=aws)
            continue
        records += run_due(now, out, sched, environment=env, aws=aws)
    by = pd.DataFrame(records)
    tiny3 = by[by["entry"] == "tiny-3h"]
    ran = tiny3[tiny3["status"] == "ok"]
    assert [pd.Timestamp(s).hour for s in ran["slot"]] == [3, 6, 9, 12, 18, 0]  # 15:00 caught up at 18:00
    assert tiny3.set_index("slot").loc["2026-11-20T18:00:00+00:00", "missed"] == 1
    skipped = tiny3[tiny3["status"] == "skipped"]
    assert len(skipped) == 1 and pd.Timestamp(skipped["slot"].iloc[0]).hour == 21
    # the failing entry ran once, failed, and paged through the Critical topic
    fail = by[by["entry"] == "tiny-fail"]
    assert fail["status"].tolist() == ["failed"] and fail["notified"].iloc[0]["level"] == "Critical"
    msgs = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(msgs[0]["Body"])
    # the status and the link leave, not the raw error text (which can hold ARNs and account ids)
    assert "tinyfail failed" in body["Subject"] and "boom" not in body["Message"] and "report.html" in body["Message"]
    assert "kept in the run's folder" in body["Message"]
    # healthy runs notify nobody
    assert ran["notified"].isna().all()
    # retention kept the newest 5 runs (and the latest good one)
    assert len([p for p in (out / "tiny").iterdir() if p.is_dir()]) == 5
    index = (out / "index.html").read_text()
    assert "tinyfail" in index and "failed" in index and "tiny" in index
    # at 06:00 both entries were due at once: their runs used kernels warmed while the one before ran
    six = by[by["slot"] == "2026-11-20T06:00:00+00:00"]
    kernels = {r: json.loads((out / r / i / "summary.json").read_text())["kernel"]
               for r, i in zip(six["report"], six["run_id"])}
    assert kernels == {"tiny": "warm", "tinyfail": "warm"}
    ledger = read_ledger(out, "tiny")
    assert sorted(ledger[ledger["key"] == "hour"]["value"].astype(int).tolist()) == [0, 3, 6, 9, 12, 18]


def test_prune_keeps_the_latest_good_run_and_partials(tmp_path):
    from rtanalytics.reports.publish import prune

    d = tmp_path / "kpis"
    for i in range(6):
        (d / f"2026112{i}T000000Z-aaaaaa").mkdir(parents=True)
    (d / ".20261127T000000Z-bbbbbb.partial").mkdir()
    (d / "latest.json").write_text(json.dumps({"run_id": "20261120T000000Z-aaaaaa"}))  # the oldest is the good one
    gone = {p.name for p in prune(d, keep=2)}
    left = {p.name for p in d.iterdir() if p.is_dir()}
    assert "20261120T000000Z-aaaaaa" in left and ".20261127T000000Z-bbbbbb.partial" in left
    assert left >= {"20261125T000000Z-aaaaaa", "20261124T000000Z-aaaaaa"} and len(gone) == 3


def test_daemon_jobs_follow_the_schedule(tmp_path):
    from rtanalytics.reports.schedule import build_daemon, load_schedule

    bs = build_daemon(tmp_path)
    pool = bs.rtanalytics_runner.pool  # a kernel kept warm for the reports' notebooks
    try:
        assert pool is not None and "import rtanalytics as rt" in pool.imports
        assert any("from rtanalytics.reports import health" in line for line in pool.imports)
    finally:
        pool.close()
    jobs = {j.id: j for j in bs.get_jobs()}
    sched = load_schedule()
    assert set(jobs) == {e.name for e in sched.entries}
    assert all(j.max_instances == 1 and j.coalesce for j in jobs.values())
    nxt = jobs["weekly-performance"].trigger.get_next_fire_time(None, pd.Timestamp("2026-11-27T12:00Z"))
    assert nxt == pd.Timestamp("2026-11-30T06:00Z")  # Monday 06:00 UTC


@pytest.mark.parametrize("expr,after,expected", [
    ("0 6 * * 1", "2026-11-27T12:00Z", "2026-11-30T06:00Z"),   # Monday (crontab: 1 = Monday)
    ("0 6 * * 0", "2026-11-27T12:00Z", "2026-11-29T06:00Z"),   # Sunday
    ("0 6 * * 7", "2026-11-27T12:00Z", "2026-11-29T06:00Z"),   # Sunday again
    ("30 2 * * 1-5", "2026-11-28T00:00Z", "2026-11-30T02:30Z"),  # weekdays: skips the weekend
    ("0 0 * * sat", "2026-11-27T12:00Z", "2026-11-28T00:00Z"),
    ("*/5 * * * *", "2026-11-27T12:01Z", "2026-11-27T12:05Z"),
])
def test_crontab_semantics(expr, after, expected):
    s = slots_between(expr, pd.Timestamp(after), pd.Timestamp(after) + pd.Timedelta(days=8))
    assert s[0] == pd.Timestamp(expected)


def test_bad_cron_is_a_clear_error():
    from rtanalytics.reports.schedule import trigger

    with pytest.raises(ValueError, match="five fields"):
        trigger("0 6 * *")
    with pytest.raises(ValueError, match="cron ORs them"):
        trigger("0 6 1 * 1")


def test_install_prints_a_systemd_service_for_the_daemon(tmp_path, monkeypatch, capsys):
    import configparser

    from rtanalytics.cli import main

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-not-in-a-unit")
    assert main(["schedule", "install", "--systemd", "--outputs", str(tmp_path), "--environment", "production"]) == 0
    text = capsys.readouterr().out
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(text)
    exec_start = unit["Service"]["ExecStart"]
    assert exec_start.endswith(f"rtanalytics schedule daemon --outputs {tmp_path} --environment production")
    assert unit["Service"]["Restart"] == "on-failure" and unit["Install"]["WantedBy"] == "multi-user.target"
    assert str(tmp_path / "schedule.log") in unit["Service"]["StandardOutput"]
    assert "wJalrXUtnFEMI" not in text  # credentials come from the service's own chain, never the unit
    assert main(["schedule", "run", "--systemd"]) == 2
