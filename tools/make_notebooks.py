"""Write the report notebooks from the cell lists below (run once after editing; outputs are never stored).

Kept as code so review sees plain Python; ``python tools/make_notebooks.py`` rewrites notebooks/*.ipynb.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1] / "notebooks"


def nb(cells):
    out = []
    for c in cells:
        if c[0] == "md":
            out.append(new_markdown_cell(c[1]))
        elif c[0] == "params":
            out.append(new_code_cell(c[1], metadata={"tags": ["parameters"]}))
        else:
            out.append(new_code_cell(c[1]))
    book = new_notebook(cells=out)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


NOTEBOOKS = {
    "kpis": [
        ("md", "# KPI status\n\nThe seed's seven KPIs (availability, p95 response time, error rate, throughput, "
               "DynamoDB latency, Lambda duration, S3 latency) over the window, each against its **target** and "
               "its **alert threshold** from `parameters/kpis.yaml`."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-7d"  # window start: relative (-7d, 24h) or ISO 8601 UTC\n'
                   'end: str = "now"  # window end\n'
                   'period: str = "5m"  # chart resolution (a CloudWatch period)\n'
                   'kpis: list = []  # KPI names to include; empty means all\n'
                   'files_path: str = ""  # folder of exported data or an evidence bundle (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import kpi\n\nrt.setup_notebook()\n"
                 "report = kpi.run(source=source, environment=environment, start=start, end=end, period=period, "
                 "kpis=kpis, files_path=files_path, evidence_dir=evidence_dir)"),
        ("md", "## Status\n\n*ok*: target met; *warning*: target missed but not past the alert threshold; "
               "*alert*: past the alert threshold; *no data*: nothing arrived in the window (never counted as good). "
               "Each value is computed over the whole window (ratios as total good / total, means weighted by "
               "sample count, percentiles over all samples of the window)."),
        ("code", "report.status_table()"),
        ("md", "## Per KPI group\n\nPer-period values; dashed line: target, dotted line: alert threshold."),
        ("code", "for group, fig in report.figures.items():\n    fig.show()"),
        ("md", "## Where these numbers come from\n\nThe source, the requests made, the cache's counters and a "
               "hash of the data used; with `evidence=true` the data itself is saved next to this report and "
               "`source=files` re-runs it offline."),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "alarms": [
        ("md", "# Alarms: what they would have done\n\nThe alarms of `parameters/alarms.yaml` (the seed's CLI "
               "alarms and its P0/P1 definitions made precise) replayed over the window with CloudWatch's own "
               "evaluation rules (M of N, the evaluation range, TreatMissingData, the premature-alarm rule, "
               "AWS/DynamoDB always ignoring missing data), scored against the incidents, tuned, routed and audited."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-14d"  # window start\n'
                   'end: str = "now"  # window end\n'
                   'alarms_from: str = "catalog"  # catalog (parameters/alarms.yaml) or aws (DescribeAlarms)\n'
                   'sweep_alarm: str = "RealTechee-Critical-Error-Rate"  # alarm to tune\n'
                   'thresholds: list = []  # thresholds to try (empty: 0.5x, 1x, 2x, 4x the current one)\n'
                   'incidents_file: str = ""  # CSV of incidents when the source has no ground truth\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import alarms\n\nrt.setup_notebook()\n"
                 "report = alarms.run(source=source, environment=environment, start=start, end=end, "
                 "alarms_from=alarms_from, sweep_alarm=sweep_alarm, thresholds=thresholds, "
                 "incidents_file=incidents_file, files_path=files_path, evidence_dir=evidence_dir)\n"
                 "figs = report.figures()"),
        ("code", "for n in report.notes:\n    print('note:', n)"),
        ("md", "## The alarms"),
        ("code", "report.catalog_table()"),
        ("md", "The seed names its alarms in prose; each is implemented by one of these, and its actions besides "
               "SNS are modelled in `parameters/routing.yaml` (the audit below says which cannot run yet)."),
        ("code", "report.seed_mapping"),
        ("md", "## Replay against the incidents\n\nRed: ALARM; grey: INSUFFICIENT_DATA; blue bands: incidents."),
        ("code", 'figs["timeline"].show()'),
        ("md", "## Scores\n\nThe SRE Workbook's measures: *precision* (episodes that were real incidents), *recall* "
               "(incidents that change the alarm's metric and were detected), *detection* (incident start to ALARM) "
               "and *reset* (incident end to recovery) in minutes."),
        ("code", "report.scores"),
        ("code", "report.detection_matrix()"),
        ("md", "## What if\n\nEvery threshold and M-of-N candidate for one alarm: lower-left is better (fewer false "
               "alarms, faster detection); larger markers catch more incidents."),
        ("code", 'figs["sweep"].show()'),
        ("code", "report.sweep"),
        ("md", "## Routing and load\n\nNotifications by level from the alarm history, off-hours (outside business "
               "hours in `parameters/routing.yaml`) and Critical escalations (still in ALARM after 10 minutes)."),
        ("code", "report.pages_per_week()"),
        ("code", 'figs["pages"].show()'),
        ("code", "report.pages"),
        ("code", "report.history_stats"),
        ("md", "## Noise from the alarm history\n\nPer alarm, from its real state changes (DescribeAlarmHistory): "
               "pages, flaps (ALARM shorter than three periods), time in ALARM, pages outside business hours, and "
               "the alarms that never fired or always fire — noisiest first; `agrees` says whether the replay above "
               "predicts the same number of pages."),
        ("code", "report.noise_table()"),
        ("md", "## Configuration audit"),
        ("code", "report.audit"),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "slo": [
        ("md", "# SLOs and error budgets\n\nThe seed's KPIs as SLOs (`parameters/slos/`, OpenSLO v1): attainment, "
               "error budget left, burn rates and the SRE Workbook's multiwindow, multi-burn-rate alerts, with the "
               "working behind every figure."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-30d"  # start of the charts (each SLO uses its own window)\n'
                   'end: str = "now"  # end of every window\n'
                   'slos: list = []  # SLO names (empty: all)\n'
                   'exclude: list = []  # deploys, or ISO START/END intervals to leave out\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import slo\n\nrt.setup_notebook()\n"
                 "report = slo.run(source=source, environment=environment, start=start, end=end, slos=slos, "
                 "exclude=exclude, files_path=files_path, evidence_dir=evidence_dir)\nfigs = report.figures()"),
        ("code", "for n in report.notes:\n    print('note:', n)"),
        ("md", "## Status\n\n*remaining*: share of the window's error budget left (1 = untouched, below 0 = "
               "overspent); *minutes_left*: budget as time at a full outage; *exhausted_by*: when the budget runs "
               "out at the last 24 hours' burn rate; *stale*: the SLI stopped receiving data (never counted as good)."),
        ("code", "report.table"),
        ("md", "## Burndown"),
        ("code", 'figs["burndown"].show()'),
        ("md", "## Burn rates"),
        ("code", 'figs["heatmap"].show()'),
        ("md", "## Alerts against the incidents\n\nPages: 1h and 5m windows both at 14.4, or 6h and 30m at 6; "
               "tickets: 3d and 6h at 1 (SRE Workbook, \"Alerting on SLOs\")."),
        ("code", 'figs["alerts"].show()'),
        ("code", "report.comparison"),
        ("md", "## The working\n\nEvery figure with its good and total counts, the window and the formula."),
        ("code", "report.working()"),
        ("md", "## With and without exclusions"),
        ("code", 'report.table_without_exclusions[["slo", "attainment", "remaining", "minutes_left", "status"]]'),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "incident": [
        ("md", "# Incident forensics\n\nA postmortem's first draft from data: the timeline (deploys, alarm state "
               "changes, metric change points, log bursts and new error signatures), which signals left their "
               "baseline first, what the logs said, the impact, and the standard times with their reasoning."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-14d"  # unused here: the incident window decides\n'
                   'end: str = "now"  # the analysis never looks past this\n'
                   'incident_start: str = ""  # ISO or relative; empty: from alarm and at, or the latest demo incident\n'
                   'incident_end: str = ""  # default: start + 1h\n'
                   'alarm: str = ""  # an alarm name whose ALARM period is the incident\n'
                   'at: str = ""  # with alarm: a time when it was in ALARM\n'
                   'lookback: str = "3h"  # baseline before the incident\n'
                   'after: str = "1h"  # how long after the incident to keep looking\n'
                   'namespaces: list = []  # restrict the signals (empty: all)\n'
                   'symptom: str = ""  # primary symptom label (default: the ALB 5XX count)\n'
                   'show_personal_data: bool = False  # emails, IPs, phones and tokens are redacted unless true\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import incident\n\nrt.setup_notebook()\n"
                 "report = incident.run(source=source, environment=environment, incident_start=incident_start, "
                 "incident_end=incident_end, alarm=alarm, at=at, lookback=lookback, after=after, "
                 "namespaces=namespaces, symptom=symptom, show_personal_data=show_personal_data, "
                 "files_path=files_path, evidence_dir=evidence_dir, now=end)\n"
                 "_ = report.save_markdown(output_dir)"),
        ("code", "print(report.title)\nfor n in report.notes:\n    print('note:', n)"),
        ("md", "## The standard times\n\nEach filled from data, with the reasoning."),
        ("code", "report.times_table()"),
        ("md", "## Impact"),
        ("code", "report.impact_table()"),
        ("code", "report.endpoints.head(10)"),
        ("md", "## Before and after the deploy\n\nWhen a deploy precedes the incident: the moved signals' means "
               "over the 30 minutes before it and the 30 minutes after."),
        ("code", "report.deploy_comparison()"),
        ("md", "## Where to look first\n\nSignals that left their baseline (compared with the same time a week "
               "earlier, so daily traffic ramps do not count), earliest first; onsets within two minutes are "
               "ordered by how hard each moved."),
        ("code", "report.lead_table()"),
        ("code", "report.figure().show()"),
        ("md", "## Every anomaly episode in the window\n\nEach signal scanned on its own (`rt.anomalies`): rises and "
               "drops, several per signal, judged against what came before them — strongest first."),
        ("code", "report.episodes.head(15)"),
        ("md", "## Error signatures\n\nError lines grouped into templates (drain3); counts before and during."),
        ("code", 'report.signatures[["template", "before", "during", "first_seen"]].head(10)'),
        ("code", "report.signature_figure().show()"),
        ("md", "## Log excerpt (redacted by default)"),
        ("code", "report.log_excerpt"),
        ("md", "## Timeline"),
        ("code", "report.timeline"),
        ("md", "## For the postmortem document\n\nAlso saved as `postmortem.md` in this run's folder."),
        ("code", "from IPython.display import Markdown\n\nMarkdown(report.markdown)  # every string from data escaped: inert"),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "capacity": [
        ("md", "# Capacity planning\n\nWhat runs out, when, and how sure we are: a forecast with a 95% prediction "
               "interval for each resource of `parameters/capacity.yaml` (daily and weekly seasonality, trend), when "
               "it reaches its alert level and its limit, what traffic growth would do, and how accurate the same "
               "model was on the last two weeks."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-90d"  # history the forecasts learn from\n'
                   'end: str = "now"  # end of the history\n'
                   'horizon: str = ""  # how far ahead (default from parameters/capacity.yaml)\n'
                   'growth: list = [1.0, 2.0, 5.0]  # traffic multipliers for the what-if columns\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import capacity\n\nrt.setup_notebook()\n"
                 "report = capacity.run(source=source, environment=environment, start=start, end=end, "
                 "horizon=horizon, growth=growth, files_path=files_path, evidence_dir=evidence_dir)"),
        ("code", "for n in report.notes:\n    print('note:', n)"),
        ("md", "## Headroom, most urgent first\n\n*peak_7d*: the highest value of the last week; *alert_expected*, "
               "*limit_expected*: when the forecast reaches them (empty: not within the horizon); *earliest*/*latest*: "
               "the same for the interval's upper and lower bound; *x2*, *x5*: if traffic doubled or grew fivefold "
               "(traffic-driven resources only)."),
        ("code", "report.headroom_table()"),
        ("code", "report.figure().show()"),
        ("md", "Where each limit comes from:"),
        ("code", "report.notes_table()"),
        ("md", "## How far to trust it\n\nThe model refitted without the last 14 days and scored on them: MAPE and "
               "the share of actual values inside the 95% interval."),
        ("code", "report.accuracy"),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "weekly-performance": [
        ("md", "# Weekly performance analysis\n\nThe seed's weekly script, done properly: response time per day "
               "with its trend, request volume and growth, DynamoDB capacity per table, business growth, and Core "
               "Web Vitals per page at the 75th percentile against web.dev's good/poor thresholds."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-7d"  # unused: the week is the 7 days before end\n'
                   'end: str = "today"  # end of the week (default today 00:00 UTC)\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import capacity\n\nrt.setup_notebook()\n"
                 "report = capacity.weekly(source=source, environment=environment, end=end, files_path=files_path, "
                 "evidence_dir=evidence_dir)\nfigs = report.figures()"),
        ("md", "## Response time"),
        ("code", "print(f'trend: {report.response_trend_pct_per_day:+.2f}% per day')\nreport.response_daily"),
        ("code", 'figs["response"].show()'),
        ("md", "## Request volume"),
        ("code", "report.volume"),
        ("md", "## DynamoDB capacity per table (units per second)"),
        ("code", "report.dynamodb"),
        ("md", "## Business growth"),
        ("code", "report.business"),
        ("md", "## The funnel, day by day\n\nRequests submitted (the dashboard's target: 100 a day), quotes and "
               "projects completed, the conversion rates between them, users and the average quote."),
        ("code", "report.funnel()"),
        ("md", "Quote sizes (the seed's categories: under 5k, 5k–25k, 25k–100k, 100k and over) and user actions:"),
        ("code", "report.biz.quote_sizes if report.biz is not None else None"),
        ("code", "report.biz.actions if report.biz is not None else None"),
        ("md", "## Core Web Vitals (p75 per page)\n\nGood / poor thresholds (web.dev): LCP 2.5 s / 4 s, INP 200 ms / "
               "500 ms, CLS 0.1 / 0.25. INP replaced FID as a Core Web Vital in March 2024; FID is listed only while "
               "the data still has it. TTFB (800 ms / 1.8 s) and page-load time are shown beside them."),
        ("code", "report.vitals"),
        ("code", 'figs["vitals"].show()'),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "dashboards": [
        ("md", "# CloudWatch dashboards\n\nEach dashboard body in `parameters/dashboards/` (paste the console's "
               "*View/edit source* JSON there) drawn as on the console's grid, with the queries it runs. Widgets "
               "whose metrics have no data say so in red instead of drawing zeros."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-24h"  # window start\n'
                   'end: str = "now"  # window end\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import dashboards\n\nrt.setup_notebook()\n"
                 "report = dashboards.run(source=source, environment=environment, start=start, end=end, "
                 "files_path=files_path, evidence_dir=evidence_dir)"),
        ("code", "for v in report.views:\n    v.figure.show() if v.figure is not None else print(v.name, 'could not "
                 "be read:', v.error)"),
        ("md", "## Widgets empty as written, and the query that has their data\n\nCloudWatch matches dimensions "
               "exactly: a metric published with dimensions is invisible to a widget that names none. The JSON is "
               "kept as given; beside it, why it is empty and the corrected query, drawn."),
        ("code", "report.corrections()"),
        ("code", "for v in report.views:\n    if v.corrections:\n        v.correction_figure().show()"),
        ("md", "## The queries behind the widgets"),
        ("code", "report.queries()"),
        ("md", "## Widgets without data\n\nA metric the source does not have (for example a custom metric queried "
               "without the dimensions it is published with) is listed here."),
        ("code", "report.empty_table()"),
        ("md", "## Where these numbers come from"),
        ("code", "report.provenance_table()"),
        ("code", "report.publish()"),
    ],
    "health": [
        ("md", "# Health checks\n\nThe seed's seven checks (application, GraphQL, DynamoDB, Cognito, S3, Lambda, "
               "performance) run now, concurrently and with timeouts — on the demo against a local application and "
               "moto server started for the purpose — then their history, how it lines up with the KPIs, and the "
               "log-retention audit against the seed's policy."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-7d"  # history window start\n'
                   'end: str = "now"  # history window end\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import json\nimport rtanalytics as rt\nfrom rtanalytics.reports import health\n\nrt.setup_notebook()\n"
                 "from pathlib import Path\n"
                 "report = health.run(source=source, environment=environment, start=start, end=end, "
                 "files_path=files_path, evidence_dir=evidence_dir, "
                 "history_path=Path(output_dir).parents[1] / 'health.sqlite' if output_dir else None)"),
        ("code", "report.checks_table()"),
        ("md", "The health report in the seed's JSON shape:"),
        ("code", "print(json.dumps(report.current, indent=2))"),
        ("md", "## History"),
        ("code", "print('history:', report.history_from)\nreport.figure().show()"),
        ("code", "report.stats"),
        ("md", "## Correlation with the KPIs\n\nThe ALB error rate and response time during the periods each check "
               "was healthy, degraded or unhealthy."),
        ("code", "report.correlation"),
        ("md", "## Log retention against the seed's policy"),
        ("code", "report.retention"),
        ("md", "## Who receives the alerts\n\nEvery routing topic and the umbrella production topic with their "
               "SNS subscriptions (endpoints masked). A subscription still pending confirmation receives nothing."),
        ("code", "report.subscriptions_table()"),
        ("code", "report.publish()"),
    ],
    "daily-ops": [
        ("md", "# Daily operations check\n\nThe seed's six-part daily checklist: system health, 24-hour average "
               "response time, errors in the logs, new requests, DynamoDB capacity, active alarms."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-7d"  # unused: the day is the 24 hours before end\n'
                   'end: str = "today"  # end of the day checked (default today 00:00 UTC)\n'
                   'files_path: str = ""  # folder of exported data (source files)\n'
                   'evidence: bool = False  # save the exact data used as an evidence bundle\n'
                   'compare: str = ""  # another window beside this one: previous, last-week or START/END\n'
                   'evidence_dir: str = ""  # set by the runner when evidence is true\n'
                   'output_dir: str = ""  # set by the runner: this run\'s folder'),
        ("code", "import rtanalytics as rt\nfrom rtanalytics.reports import health\n\nrt.setup_notebook()\n"
                 "ops = health.daily(source=source, environment=environment, end=end, files_path=files_path, "
                 "evidence_dir=evidence_dir)"),
        ("code", "ops.checklist()"),
        ("md", "## Errors by kind (24h)"),
        ("code", "ops.error_breakdown"),
        ("md", "## DynamoDB capacity (24h)"),
        ("code", "ops.dynamodb"),
        ("md", "## Active alarms"),
        ("code", "ops.active_alarms"),
        ("md", "## Alarm noise (14 days)\n\nFrom the alarm history CloudWatch keeps: pages, flaps (in ALARM for "
               "less than three periods), time in ALARM and pages outside business hours, noisiest first."),
        ("code", "ops.noise"),
        ("md", "## Business (24h)\n\nNew requests against the target of 100 a day, the funnel requests → quotes → "
               "projects, quote sizes and users."),
        ("code", "ops.biz.daily if ops.biz is not None else None"),
        ("code", "ops.biz.quote_sizes if ops.biz is not None else None"),
        ("code", "ops.publish()"),
    ],
    "explore": [
        ("md", "# Exploring metrics with rtanalytics\n\nEverything here runs offline on the embedded demo "
               "(`source=\"demo\"`); point `source` at `cloudwatch` and `environment` at `production` to ask AWS "
               "the same questions."),
        ("params", 'source: str = ""  # demo, cloudwatch or files (empty: the environment\'s own source)\n'
                   'environment: str = "demo"  # an environment from parameters/environments.yaml\n'
                   'start: str = "-24h"  # window start\n'
                   'end: str = "now"  # window end'),
        ("code", "import rtanalytics as rt\n\nrt.setup_notebook()\ncat = rt.catalog()\nlist(cat.kpis)"),
        ("md", "## Any CloudWatch metric\n\nA `MetricQuery` carries what CloudWatch's `MetricDataQuery` carries: "
               "namespace, metric, dimensions, statistic, period. The result is a wide frame with a UTC index; "
               "missing periods are NaN, never zero."),
        ("code", 'alb = {"LoadBalancer": "RealTechee-ALB"}\n'
                 'df = rt.metrics([\n'
                 '    rt.MetricQuery("AWS/ApplicationELB", "RequestCount", alb, "Sum", 300),\n'
                 '    rt.MetricQuery("AWS/ApplicationELB", "TargetResponseTime", alb, "p95", 300),\n'
                 '], start=start, end=end, source=source, environment=environment)\ndf.describe()'),
        ("md", "One panel per unit: requests and seconds never share an axis."),
        ("code", "from rtanalytics.figures import lines_by_unit\n\n"
                 "lines_by_unit(df, {df.columns[0]: \"requests per 5 min\", df.columns[1]: \"s\"}, "
                 "title=\"ALB requests and p95 latency\").show()"),
        ("md", "## KPIs and alarms by name\n\nCatalog names work too: a KPI name gives its per-period series."),
        ("code", 'rt.metrics(["availability", "error_rate"], start=start, end=end, source=source, '
                 'environment=environment).tail()'),
        ("md", "## Timeline: deploys, incidents and alarm state changes"),
        ("code", "rt.events(start=start, end=end, source=source, environment=environment)"),
        ("code", "rt.alarm_history(start=\"-7d\", end=end, source=source, environment=environment)"),
        ("md", "## Logs\n\nThe seed's winston JSON lines, parsed into columns; CloudWatch filter patterns work."),
        ("code", 'errs = rt.logs(start=start, end=end, filter_pattern=\'{ $.level = "error" }\', source=source, '
                 'environment=environment)\nerrs.groupby("error.name").size().sort_values(ascending=False)'),
    ],
}

def with_status(cells, var):
    """Every report says first how far to trust it (status, source, environment) and last what is missing."""
    out = list(cells)
    first = next(i for i, c in enumerate(out) if c[0] == "code")
    out.insert(first + 1, ("code", f"{var}.headline_block()"))
    out.insert(first + 2, ("code", f"{var}.compare(compare)  # nothing unless compare is set"))
    last = max(i for i, c in enumerate(out) if c[0] == "code" and ".publish()" in c[1])
    out[last] = ("code", out[last][1].replace(".publish()", ".publish(output_dir)  # figures, status, tables"))
    out[last:last] = [("md", "## Missing data\n\nWhat could not be fetched or computed, and why. A report is "
                             "**ok** only when this is empty; otherwise it is **partial** (or **no-data**) and never "
                             "becomes the latest good run."),
                      ("code", f"{var}.data_notes()")]
    return out


STATUS_VAR = {"daily-ops": "ops"}

if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        if name != "explore":
            cells = with_status(cells, STATUS_VAR.get(name, "report"))
        path = ROOT / f"{name}.ipynb"
        nbformat.write(nb(cells), str(path))
        print(path)
