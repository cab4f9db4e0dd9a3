"""``rtanalytics`` command line: a thin layer over the Python API.

Exit status: 0 success (every run ``ok``), 1 a run failed (or an error other than bad input), 2 bad parameters
or usage, 4 every run completed but some are ``partial`` or ``no-data`` (their notes say what is missing).
"""

from __future__ import annotations

# The command's own lazy loading: each subcommand imports what it needs inside its handler, so `--help`,
# `--version`, `check` and `list` start without pandas, plotly, boto3 or papermill (the one place in the package
# where package imports sit inside functions for start-up time; everywhere else they are at the top).
import argparse
import os
import sys
from pathlib import Path

from ._version import __version__

from .settings import Project, default_outputs
from .settings import current as current_project
from .errors import CatalogError, ParameterError, RtAnalyticsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rtanalytics", description="Observability analytics reports for AWS services.",
                                epilog="--project DIR (anywhere on the line): the project to use; default "
                                "$RTANALYTICS_PROJECT, else the current folder or a parent holding rtanalytics.yaml, "
                                "else the bundled example catalog")
    p.add_argument("--version", action="version", version=f"rtanalytics {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    it = sub.add_parser("init", help="write a project: the catalog (parameters/, from the bundled example), a "
                        "schedule, .gitignore and a README of the commands")
    it.add_argument("dir", nargs="?", type=Path, default=Path("."), help="the project folder (default: here)")
    it.add_argument("--name", default=None, help="the project's name (default: the folder's)")
    ck = sub.add_parser("check", help="validate every catalog file of the project without running anything; "
                        "exit 2 on any error (for the catalog repository's CI)")
    ck.add_argument("--format", choices=["text", "json"], default="text")
    nb = sub.add_parser("notebook", help="copy a notebook into the project to edit (explore: the analyst's one)")
    nb.add_argument("which", choices=["explore"])
    nb.add_argument("dir", nargs="?", type=Path, default=None, help="where (default: the project's notebooks/)")
    sub.add_parser("list", help="list the reports and their parameters")
    r = sub.add_parser("run", help="run a report and publish it under outputs/", epilog=_reports_help(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("report", nargs="*", help="report name(s); several run in parallel kernels")
    r.add_argument("--all", action="store_true", help="run every report")
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    r.add_argument("-f", "--parameters-file", type=Path, help="YAML file of parameters (-p wins over it)")
    r.add_argument("--outputs", default=None, help="outputs folder (default: ./outputs of the repo); with --fleet "
                   "also s3://BUCKET/PREFIX")
    r.add_argument("--timeout", type=float, default=900, help="seconds allowed per notebook cell (default 900)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--jobs", type=int, default=_default_jobs(),
                   help="parallel runs when several reports are given (default: cores + 1, at most 4: a kernel "
                        "spends part of its run starting and waiting, so one more than the cores keeps them busy)")
    r.add_argument("--standalone", action="store_true",
                   help="inline plotly.js in each report.html (a report sent by itself; default: one shared copy "
                        "under OUTPUTS/_assets/, ~5 MB less per report)")
    r.add_argument("--fleet", nargs="?", const="", default=None, metavar="NAME",
                   help="run the report(s) for every environment of a fleet (parameters/fleet.yaml; the name may be "
                        "left out when there is one): each environment x report its own run, under "
                        "OUTPUTS/fleets/NAME/, with a fleet board at OUTPUTS/fleets/NAME/index.html. --all: every "
                        "report each member lists")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="with --fleet: a Dask scheduler (tcp://HOST:8786; default $RTANALYTICS_DASK_SCHEDULER, "
                        "else a local cluster of --workers processes)")
    r.add_argument("--workers", type=int, default=None, help="with --fleet and no scheduler: local worker "
                   "processes (default: the cores)")
    r.add_argument("--executor", choices=["auto", "dask", "processes"], default="auto",
                   help="with --fleet: dask (a local or remote Dask cluster, API quotas shared across it), processes "
                        "(a local process pool, no shared quotas) or auto (default: dask when a member reads AWS "
                        "or --scheduler is given, else processes)")
    i = sub.add_parser("index", help="rebuild outputs/index.html")
    i.add_argument("--outputs", default=None, help="outputs folder, or s3://BUCKET/PREFIX with --fleet")
    i.add_argument("--fleet", default=None, metavar="NAME", help="rebuild that fleet's board from the runs that "
                   "landed")
    sc = sub.add_parser("schedule", help="scheduled runs from parameters/schedule.yaml")
    sc.add_argument("action", choices=["run", "daemon", "install"],
                    help="run: what is due now (for cron); daemon: stay up; install: print crontab lines")
    sc.add_argument("--systemd", action="store_true", help="with install: print a systemd service for the daemon "
                    "instead (warm kernels: the quicker way to run frequent reports)")
    sc.add_argument("--outputs", type=Path, default=None)
    sc.add_argument("--environment", default=None, help="environment whose notification topics to use")
    hc = sub.add_parser("health", help="run the seven health checks now (no notebook); exit 1 when a probe "
                        "failed, 0 otherwise, 5 not configured (see --exit-codes)")
    hc.add_argument("--environment", default="demo")
    hc.add_argument("--exit-codes", choices=["seed", "detailed"], default="seed",
                    help="seed: 1 when a probe failed (a missing Lambda included), 0 otherwise, 5 not configured; "
                         "detailed: 0 healthy, 3 degraded, 1 unhealthy, 5 unknown")
    hc.add_argument("--history", type=Path, default=None, help="history store (default outputs/health.sqlite)")
    ca = sub.add_parser("cache", help="the local metrics cache: where it is, and dropping a range to refetch")
    ca.add_argument("action", choices=["info", "drop"], help="info: folder and size; drop: forget cached data "
                    "overlapping --start..--end (e.g. after a backfill older than the settle horizon)")
    ca.add_argument("--start", default=None, help="drop from (a time: -3d, 2026-11-01, ...; default: everything)")
    ca.add_argument("--end", default=None, help="drop until (default: now)")
    ex = sub.add_parser("export", help="write alarms as AWS takes them (PutMetricAlarm JSON, CloudFormation), each "
                        "with its backtest")
    ex.add_argument("what", choices=["alarms", "slo-alerts"],
                    help="alarms: the catalog's alarms with their backtest; slo-alerts: each SLO's multiwindow "
                         "burn-rate alerts (metric-math + composite alarms)")
    ex.add_argument("--slo", action="append", default=None, help="with slo-alerts: only this SLO (repeatable)")
    ex.add_argument("--environment", default="demo")
    ex.add_argument("--source", default=None, help="where the backtest's data comes from (default: the "
                    "environment's own source)")
    ex.add_argument("--start", default="-14d", help="backtest window start (default -14d)")
    ex.add_argument("--end", default="now")
    ex.add_argument("--alarm", default=None, help="export only this alarm")
    ex.add_argument("--variant", default=None, help="the what-if's chosen variant of --alarm: threshold=X,m=M,n=N")
    ex.add_argument("--out", type=Path, default=None, help="folder (default OUTPUTS/exports/alarms-<time>)")
    nr = sub.add_parser("new-report", help="scaffold your own report as a package (found through the "
                        "rtanalytics.reports entry point once installed)")
    nr.add_argument("name", help="lowercase letters, digits and dashes (e.g. cost-report)")
    nr.add_argument("--dir", type=Path, default=None, help="where to create rtanalytics-NAME/ (default: the "
                    "project's reports/ folder; the current folder when no project is found)")
    nr.add_argument("--title", default="")
    nr.add_argument("--description", default="")
    al = sub.add_parser("alarms", help="alarms where teams keep them: import CloudWatch alarms from Terraform and "
                        "CloudFormation (exit 4 when some could not be imported: each is listed with file and line)")
    al.add_argument("action", choices=["import", "diff"], help="import PATH...: the alarms as catalog YAML (or JSON, "
                    "Terraform); diff BEFORE AFTER: both versions of every changed alarm replayed over the same history "
                    "(paths, or git:REV:PATH), exit 3 when one pages more than --max-new-pages more")
    al.add_argument("paths", nargs="+", help="Terraform (.tf) / CloudFormation (YAML, JSON) files or folders")
    al.add_argument("--format", choices=["yaml", "json", "terraform", "table"], default=None,
                    help="import: yaml (an alarms.yaml, default), json (PutMetricAlarm requests) or terraform; "
                         "diff: table (default) or json")
    al.add_argument("--environment", default="demo", help="diff: whose metrics the replay reads")
    al.add_argument("--source", default=None, help="diff: where the metrics come from (default: the environment's)")
    al.add_argument("--start", default="-14d", help="diff: history start (default -14d, as long as CloudWatch keeps "
                    "alarm history)")
    al.add_argument("--end", default="now")
    al.add_argument("--flap-periods", type=int, default=3, help="diff: an ALARM shorter than this many periods is a flap")
    al.add_argument("--max-new-pages", type=int, default=None, help="diff: exit 3 when an alarm pages more than this "
                    "many times more after the change")
    al.add_argument("--account", default=None, help="AWS::AccountId for CloudFormation's !Sub (else unresolved)")
    al.add_argument("--region", default=None, help="AWS::Region for CloudFormation's !Sub (else unresolved)")
    al.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="import: a Terraform variable's value, as terraform's -var (repeatable; later wins)")
    al.add_argument("--var-file", action="append", default=[], metavar="FILE", type=Path,
                    help="import: a .tfvars / .tfvars.json file, as terraform's -var-file (repeatable)")
    lg = sub.add_parser("ledger", help="print the ledger of key figures across runs (CSV)")
    lg.add_argument("--report", default=None)
    lg.add_argument("--fleet", default=None, metavar="NAME", help="every environment of the fleet, with an "
                    "environment column")
    lg.add_argument("--outputs", type=Path, default=None)
    return p


def _default_jobs() -> int:
    import os

    return max(1, min(4, (os.cpu_count() or 1) + 1))


def _reports_help() -> str:
    """The reports and their parameters, for ``run --help``."""
    from .reports.registry import REPORTS

    lines = ["reports and their parameters (-p NAME VALUE):"]
    for rep in REPORTS.values():
        lines.append(f"  {rep.name}: {rep.title}")
        for name, f in rep.fields().items():
            lines.append(f"      {name} (default {f.default!r})")
    return "\n".join(lines)


def _params(args) -> dict:
    import yaml

    params: dict = {}
    if args.parameters_file:
        try:
            data = yaml.safe_load(args.parameters_file.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise ParameterError("--parameters-file", f"cannot read {args.parameters_file}: {e}",
                                 "a YAML mapping of parameter names to values") from None
        if data is not None and not isinstance(data, dict):
            raise ParameterError("--parameters-file", f"{args.parameters_file} is not a mapping",
                                 "a YAML mapping of parameter names to values")
        params.update(data or {})
    for name, value in args.parameter:
        params[name] = value
    return params


def _split_params(argv: list[str]) -> tuple[list[str], list[list[str]]]:
    """Take ``-p NAME VALUE`` pairs out of argv ourselves: argparse refuses values like ``-7d``."""
    rest, pairs, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("-p", "--parameter"):
            if i + 2 >= len(argv) or argv[i + 1].startswith("-") or argv[i + 2] in ("-p", "--parameter") or (
                    argv[i + 2].startswith("--")):
                # a value may start with "-" (-7d), but not be the next flag: never swallow it
                raise ParameterError(a, f"needs a NAME and a VALUE (got {' '.join(argv[i + 1:i + 3]) or 'nothing'})",
                                     "-p NAME VALUE, e.g. -p start -7d")
            pairs.append([argv[i + 1], argv[i + 2]])
            i += 3
        else:
            rest.append(a)
            i += 1
    return rest, pairs


def _split_project(argv: list[str]) -> tuple[list[str], str | None]:
    """Take ``--project DIR`` (or ``--project=DIR``) out of argv, wherever it stands."""
    rest, project, i = [], None, 0
    while i < len(argv):
        a = argv[i]
        if a == "--project":
            if i + 1 >= len(argv):
                raise ParameterError("--project", "needs a folder", "--project DIR")
            project, i = argv[i + 1], i + 2
            continue
        if a.startswith("--project="):
            project = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return rest, project


def pin_project(explicit: str | Path | None = None) -> Project:
    """Find the project (``--project``, ``$RTANALYTICS_PROJECT``, the current folder and its parents, the bundled
    example) and pin it for this process and every kernel it starts (``RTANALYTICS_PROJECT``)."""
    proj = current_project(explicit)
    if proj.bundled:
        os.environ.pop("RTANALYTICS_PROJECT", None)
    else:
        os.environ["RTANALYTICS_PROJECT"] = str(proj.root)
    return proj


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv, explicit = _split_project(argv)
        argv, pairs = _split_params(argv)
    except ParameterError as e:
        print(f"rtanalytics: {e}", file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    if args.cmd == "run":
        args.parameter = pairs
    if args.cmd == "init":  # makes a project: none need exist yet
        from .scaffold import init_project

        try:
            root = init_project(args.dir, args.name)
        except (ParameterError, CatalogError) as e:
            print(f"rtanalytics: {e}", file=sys.stderr)
            return 2
        print(f"project {root.name} written to {root}\nnext: edit {root / 'parameters'}, then `rtanalytics check` "
              f"and `rtanalytics run --all` in {root}")
        return 0
    saved = os.environ.get("RTANALYTICS_PROJECT")
    try:
        proj = pin_project(explicit)
        return _dispatch(args, proj)
    except (ParameterError, CatalogError) as e:  # bad input: a parameter, or parameters/*.yaml
        print(f"rtanalytics: {e}", file=sys.stderr)
        return 2
    except RtAnalyticsError as e:
        print(f"rtanalytics: {e}", file=sys.stderr)
        return 1
    finally:  # main() called in-process (tests, rt.run) leaves the environment as it found it
        if saved is None:
            os.environ.pop("RTANALYTICS_PROJECT", None)
        else:
            os.environ["RTANALYTICS_PROJECT"] = saved


def _dispatch(args, proj: Project) -> int:
    if args.cmd == "check":
        from .check import check, report

        problems = check(proj)
        print(report(proj, problems, args.format))
        return 2 if any(p.severity == "error" for p in problems) else 0
    if args.cmd == "notebook":
        from .scaffold import copy_notebook

        print(copy_notebook(args.which, args.dir or (proj.workdir / "notebooks")))
        return 0
    if args.cmd == "alarms":
        return _alarms_import(args)
    if args.cmd == "list":
        from .reports.registry import REPORTS

        for r in REPORTS.values():
            print(f"{r.name:20s} {r.title} — {r.description}")
            for name, f in r.fields().items():
                print(f"    {name:14s} default {f.default!r:10}  {f.description or ''}")
        return 0
    if args.cmd == "new-report":
        from .scaffold import new_report

        where = args.dir or (Path.cwd() if proj.bundled else proj.root / "reports")
        root = new_report(args.name, where, args.title, args.description)
        print(f"{root}\nnext: {sys.executable} -m pip install -e {root} && rtanalytics run {args.name}")
        return 0
    if args.cmd == "export":
        from . import export as X
        from .timewindow import utcnow

        if args.what == "slo-alerts":
            reqs, skipped = X.slo_alerts(args.environment, args.slo)
            out = args.out or default_outputs() / "exports" / f"slo-alerts-{utcnow():%Y%m%dT%H%M%SZ}"
            for p in X.write_slo_alerts(reqs, out):
                print(p)
            sig, sig_skipped = X.application_signals_slos(args.environment, args.slo)
            for p in X.write_application_signals(sig, out):
                print(p)
            skipped += [s for s in sig_skipped if s not in skipped]
            for s in skipped:
                print(f"rtanalytics: not exported: {s}", file=sys.stderr)
            return 0
        items = X.backtest_alarms(args.source, args.environment, args.start, args.end, args.alarm, args.variant)
        out = args.out or default_outputs() / "exports" / f"alarms-{utcnow():%Y%m%dT%H%M%SZ}"
        for p in X.write(items, out):
            print(p)
        for it in items:
            print(f"{it.alarm.AlarmName}: {it.summary}")
        if any(":ACCOUNT:" in a for it in items for a in it.alarm.AlarmActions + it.alarm.OKActions
               + it.alarm.InsufficientDataActions):
            print("rtanalytics: the actions' ARNs name the account as ACCOUNT (as parameters/alarms.yaml does): "
                  "replace it in the put-metric-alarm JSON; the CloudFormation template uses the stack's own "
                  "account (Fn::Sub ${AWS::AccountId})", file=sys.stderr)
        return 0
    if args.cmd == "index":
        from .reports.index import write_index

        if args.fleet:
            from .catalog import catalog
            from .reports.fleet import open_store, write_board

            fl = catalog().fleet(args.fleet)
            print(write_board(open_store(args.outputs or default_outputs()), fl.name))
            return 0
        if args.outputs and str(args.outputs).startswith("s3://"):
            raise ParameterError("--outputs", "an S3 location holds fleet boards only", "add --fleet NAME")
        print(write_index(Path(args.outputs) if args.outputs else default_outputs()))
        return 0
    if args.cmd == "schedule":
        from .reports import schedule as S

        if args.systemd and args.action != "install":
            raise ParameterError("--systemd", "only applies to install", "schedule install --systemd")
        if args.action == "install":
            print(S.systemd_unit(outputs=args.outputs, environment=args.environment) if args.systemd
                  else "\n".join(S.crontab_lines()))
            return 0
        if args.action == "daemon":
            S.daemon(args.outputs, args.environment)
            return 0
        import json

        results = S.run_due(outputs=args.outputs, environment=args.environment)
        for r in results:
            print(json.dumps(r, default=str))
        if any(r["status"] == "failed" for r in results):
            return 1
        return 4 if any(r["status"] in ("partial", "no-data") for r in results) else 0
    if args.cmd == "health":
        import json

        from .health import check_environment, exit_code

        rep = check_environment(args.environment, args.history)
        print(json.dumps(rep, indent=2, default=str))
        return exit_code(rep, args.exit_codes)
    if args.cmd == "cache":
        from .sources.cache import default_cache_dir, default_settle, drop_range
        from .timewindow import parse_time

        folder = default_cache_dir()
        if args.action == "info":
            files = list(folder.rglob("*.parquet")) if folder.exists() else []
            size = sum(f.stat().st_size for f in files)
            print(f"cache: {folder}\nfiles: {len(files)} ({size / 1e6:.1f} MB)\nsettle horizon: {default_settle()}"
                  " (RTANALYTICS_SETTLE)")
            return 0
        try:
            start = parse_time(args.start) if args.start else None
            end = parse_time(args.end) if args.end else None
        except ValueError as e:
            raise ParameterError("--start/--end", str(e)) from None
        n = sum(drop_range(d, None, start, end) for d in folder.iterdir() if d.is_dir()) if folder.exists() else 0
        print(f"dropped {n} cached chunk file(s) from {folder}; the next run fetches that range again")
        return 0
    if args.cmd == "ledger":
        from .reports.ledger import read_ledger
        from .reports.registry import REPORTS

        if args.report and args.report not in REPORTS:
            raise ParameterError("--report", f"unknown report {args.report!r}", ", ".join(REPORTS))

        if args.fleet:
            from .catalog import catalog
            from .reports.fleet import read_fleet_ledger

            read_fleet_ledger(catalog().fleet(args.fleet).name, args.outputs, args.report).to_csv(
                sys.stdout, index=False)
            return 0
        read_ledger(args.outputs, args.report).to_csv(sys.stdout, index=False)
        return 0
    return _run(args, proj)


def _run(args, proj: Project) -> int:
    from .reports.registry import REPORTS

    print(f"rtanalytics: catalog: {proj.label}" + (" — `rtanalytics init DIR` makes a project of your own"
                                                     if proj.bundled else ""), flush=True)
    _check_catalog(proj)
    if args.fleet is not None:
        return _run_fleet(args)
    if args.scheduler or args.workers or args.executor != "auto":
        raise ParameterError("--scheduler/--workers/--executor", "only apply to a fleet run", "add --fleet [NAME]")
    if args.all:
        args.report = list(REPORTS)
    if not args.report:
        raise ParameterError("report", "no report named", ", ".join(REPORTS) + " or --all")
    return _run_reports(args)


def _iac_values(environment: str | None) -> dict:
    """The environment's values of the team's Terraform variables / CloudFormation parameters (iac_values)."""
    from .catalog import catalog

    return catalog().environment(environment).iac_resolved() if environment else {}


def _alarms_diff(args, pseudo: dict) -> int:
    import json

    from .alarmdiff import diff, load_side
    from .backtest import alarm_series
    from .sources.evidence import open_source, unwrap
    from .timewindow import TimeWindow

    if len(args.paths) != 2:
        raise ParameterError("paths", f"diff takes BEFORE and AFTER, got {len(args.paths)}", "BEFORE AFTER")
    values = _iac_values(args.environment)
    sides = [load_side(p, pseudo, values) for p in args.paths]
    for side, found in zip(("before", "after"), sides):
        for p in found.problems():
            print(f"rtanalytics: {side}: {p}", file=sys.stderr)
    src = open_source(args.source, args.environment)
    window = TimeWindow.parse(args.start, args.end)
    incidents = src.incidents(window) if hasattr(unwrap(src), "incidents") else None
    table = diff(sides[0].alarms, sides[1].alarms,
                 lambda a: alarm_series([a], src, window)[a.AlarmName], incidents, args.flap_periods)
    if (args.format or "table") == "json":
        print(json.dumps({"window": [window.start.isoformat(), window.end.isoformat()],
                          "alarms": json.loads(table.to_json(orient="records"))}, indent=2))
    else:
        print(table.to_string(index=False) if len(table) else "no alarm changed")
    if args.max_new_pages is not None and len(table) and "after_pages" in table:
        before = table["before_pages"].fillna(0) if "before_pages" in table else 0
        more = table["after_pages"].fillna(0) - before
        if (more > args.max_new_pages).any():
            worst = table.loc[more.idxmax()]
            print(f"rtanalytics: {worst['alarm']} pages {int(more.max())} more time(s) after the change "
                  f"(--max-new-pages {args.max_new_pages})", file=sys.stderr)
            return 3
    return 0


def _alarms_import(args) -> int:
    import json

    import yaml

    from .iac import import_alarms, terraform

    pseudo = {k: v for k, v in (("AWS::AccountId", args.account), ("AWS::Region", args.region)) if v}
    if args.action == "diff":
        return _alarms_diff(args, pseudo)
    args.format = args.format or "yaml"
    if args.format == "table":
        raise ParameterError("--format", "table is for diff", "yaml, json or terraform")
    tf_vars = {}
    for kv in args.var:
        name, eq, value = kv.partition("=")
        if not eq or not name.strip():
            raise ParameterError("--var", f"{kv!r} is not NAME=VALUE", "give --var NAME=VALUE, e.g. --var env=prod")
        tf_vars[name.strip()] = value
    for vf in args.var_file:
        if not vf.exists():
            raise ParameterError("--var-file", f"{vf} does not exist", "name a .tfvars or .tfvars.json file")
    found = import_alarms([Path(p) for p in args.paths], pseudo=pseudo, values=_iac_values(args.environment),
                          tf_vars=tf_vars, var_files=args.var_file)
    if args.format == "terraform":
        print(terraform(found.alarms, found.composites), end="")
    else:
        reqs = [a.model_dump(exclude_none=True, exclude_defaults=True) | {"AlarmName": a.AlarmName}
                for a in found.alarms]
        print(json.dumps(reqs, indent=2) if args.format == "json" else
              "# imported by `rtanalytics alarms import` from " + ", ".join(map(str, args.paths)) + "\n"
              + yaml.safe_dump({"alarms": reqs}, sort_keys=False))
    for p in found.problems():
        print(f"rtanalytics: {p}", file=sys.stderr)
    if found.composites and args.format != "terraform":
        print(f"rtanalytics: {len(found.composites)} composite alarm(s) found (" + ", ".join(
            c.AlarmName for c in found.composites) + "): replayed by the alarms report (-p alarms_from PATH) and "
              "written by --format terraform; the catalog's alarms.yaml holds metric alarms only", file=sys.stderr)
    print(f"rtanalytics: {len(found.alarms)} alarm(s) imported, {len(found.skipped)} not imported, "
          f"{len(found.unresolved)} value(s) unresolved, {len(found.not_expanded)} module call(s) not expanded",
          file=sys.stderr)
    return 4 if found.skipped or found.unresolved or found.not_expanded else 0


def _check_catalog(proj: Project) -> None:
    """Refuse to start any report on a catalog with errors (exit 2, every error listed, as ``check`` does)."""
    from .check import check

    errors = [p for p in check(proj) if p.severity == "error"]
    if errors:
        for p in errors:
            print(f"rtanalytics: {p.line()}", file=sys.stderr)
        first = errors[0]
        raise CatalogError(first.file, first.field, f"{len(errors)} catalog error(s); nothing was run",
                           "correct them (`rtanalytics check` lists them)")


def _run_reports(args) -> int:
    from .reports.registry import get_report, resolve_params
    from .reports.runner import run_report
    from .timewindow import utcnow

    params = _params(args)
    now = utcnow()
    for name in args.report:  # validate everything before any kernel starts
        resolve_params(get_report(name), dict(params), now=now)
    if args.outputs and str(args.outputs).startswith("s3://"):
        raise ParameterError("--outputs", "S3 outputs are for fleet runs", "--fleet, or a local folder")
    outputs = Path(args.outputs) if args.outputs else default_outputs()
    if len(args.report) == 1:
        results = [run_report(args.report[0], params, outputs, now=now, timeout=args.timeout,
                              progress=not args.no_progress, standalone=args.standalone)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            futs = [ex.submit(run_report, n, params, outputs, now, args.timeout, False, args.standalone)
                    for n in args.report]
            results = [f.result() for f in futs]
    bad = incomplete = 0
    for res in results:
        line = f"{res.report}: {res.status} → {res.run_dir / 'report.html'}"
        if res.status == "failed":
            bad += 1
            line += f"\n  error: {res.summary.get('error')}"
        elif res.status != "ok":
            incomplete += 1
            for n in res.summary.get("notes", [])[:5]:
                line += f"\n  {n[:200]}"
        print(line)
    print(f"index: {outputs / 'index.html'}")
    return 1 if bad else (4 if incomplete else 0)


def _run_fleet(args) -> int:
    from .reports.fleet import run_fleet

    if not args.all and not args.report:
        raise ParameterError("report", "no report named", "report names or --all (every report each member lists)")
    if args.standalone:
        raise ParameterError("--standalone", "not for fleet runs", "leave it out: a fleet's reports share one "
                             "plotly.js under OUTPUTS/_assets/")
    outputs = args.outputs if args.outputs is not None else default_outputs()
    res = run_fleet(args.fleet or None, None if args.all else args.report, _params(args), outputs,
                    scheduler=args.scheduler, workers=args.workers, executor=args.executor, timeout=args.timeout,
                    progress=not args.no_progress)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(res.counts.items()))
    print(f"fleet {res.fleet}: {len(res.runs)} runs in {res.seconds:.1f} s on {res.workers} worker(s) "
          f"({res.executor}): {counts}")
    for r in sorted(res.runs, key=lambda r: (r["status"] == "ok", r["environment"], r["report"])):
        if r["status"] != "ok" or r.get("attempt", 1) > 1:
            line = f"  {r['environment']} {r['report']}: {r['status']}"
            if r.get("attempt", 1) > 1:
                line += f" (attempt {r['attempt']}: {r.get('retried') or 'retried'})"
            if r.get("error"):
                line += f"\n    error: {str(r['error'])[:300]}"
            print(line)
    print(f"board: {res.board}")
    if any(r["status"] == "failed" for r in res.runs):
        return 1
    return 4 if any(r["status"] != "ok" for r in res.runs) else 0


def entry() -> None:  # pragma: no cover - the console script; tests call main()
    """``rtanalytics``: :func:`main`, then exit without tearing the interpreter down (0.2-0.3 s of freeing
    pandas, pyarrow and plotly's modules one by one, after everything is written): exit handlers still run and
    the standard streams are flushed."""
    import atexit
    import os

    try:  # an unexpected error or Ctrl-C propagates: Python's own exit, traceback and all
        code = main()
    except SystemExit as e:  # argparse's --help and usage errors
        code = e.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        code = code or 0
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
