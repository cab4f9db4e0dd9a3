"""A single run's kernel forked from the command (reports/forked.py): the kernel a fresh launch would be (folder,
environment, BLAS threads, own session, watching its parent), the same report as a fresh kernel gives, nothing
left running, and not used whenever it could differ from a fresh kernel.

The forking is done in child interpreters (scripts below), as the command does it: never in pytest's own
process, whose threads and state are not the command's."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv/bin/rtanalytics")
WINDOW = ["-p", "start", "2026-11-13T00:00Z", "-p", "end", "2026-11-20T00:00Z"]

# a kernel launched through a ForkedKernel by hand, as papermill launches it; it reports what it sees
PROBE = textwrap.dedent("""
    import asyncio, json, os, sys, threading
    import rtanalytics  # numpy and pandas loaded, as in the command, before the BLAS variables are set
    from rtanalytics.catalog import catalog
    from rtanalytics.reports.forked import ForkedKernel
    from rtanalytics.cli import _console_prelude
    _console_prelude()  # as the console script: papermill's S3 handler kept out of the command, not the kernel
    catalog()  # loaded here: the kernel loads its own
    nb = sys.argv[1]
    mode = sys.argv[2]
    if mode == "thread":
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    fk = ForkedKernel(nb)
    if mode == "thread" or mode == "unused":
        zpid = fk.pid
        fk.retire()
        print(json.dumps({"unusable": fk.unusable, "pid": zpid,
                          "exit": fk._proc.returncode if fk._proc else None,
                          "leftovers": [p for p in ([fk.km.connection_file, fk.km._ipc_dir] if fk.km else [])
                                        if os.path.exists(p)]}))
        sys.exit(0)
    if mode == "pythonpath":
        os.environ["PYTHONPATH"] = "/nowhere"
    os.environ["RT_PROBE"] = "set after the fork"
    km = fk.km
    asyncio.run(km.start_kernel(cwd=str(fk.notebook.parent), env=dict(os.environ),
                                extra_arguments=["--HistoryManager.hist_file=:memory:"]))  # as nbclient asks
    kc = km.blocking_client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
    kc.kernel_info(); info = kc.get_shell_msg(timeout=30)["content"]
    code = ("import os, sys, json, threadpoolctl\\n"
            "print(json.dumps({'cwd': os.getcwd(), 'probe': os.environ.get('RT_PROBE'), 'path0': sys.path[0],"
            " 'blas': [i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'],"
            " 'sid': os.getsid(0) == os.getpid(), 'ppid': os.getppid(), 'pid': os.getpid(),"
            " 'catalog_cached': len(getattr(sys.modules.get('rtanalytics.catalog'), '_CACHE', ())),"
            " 'debugpy_loaded': sys.modules.get('debugpy') is not None,"
            " 's3_blocked': 'papermill.s3' in sys.modules and sys.modules['papermill.s3'] is None}))")
    out = []
    def hook(m):
        if m["msg_type"] == "stream":
            out.append(m["content"]["text"])
        elif m["msg_type"] == "error":
            sys.exit("probe failed: " + m["content"]["ename"] + ": " + m["content"]["evalue"])
    kc.execute_interactive(code, output_hook=hook, timeout=60)
    kpid = fk._proc.pid if fk.used else km.provisioner.pid
    kc.stop_channels()
    fk.retire()  # the run's kernel, forked or started instead, is shut down here (papermill does not own it)
    try:
        state = open(f"/proc/{kpid}/stat").read().split()[2]
    except OSError:
        state = "gone"
    seen = json.loads("".join(out))
    seen.update(debugger="debugger" in info.get("supported_features", []), used=fk.used, refused=fk.refused, me=os.getpid(), zygote=fk.pid, kernel_pid=kpid,
                kernel_after_retire=state)
    print(json.dumps(seen))
""")


def _probe(tmp_path, mode: str, env=None) -> dict:
    nb = ROOT / "notebooks" / "kpis.ipynb"
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = dict(os.environ, **(env or {}))
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(v, None)  # numpy loads with its default threads, as in a user's shell
    r = subprocess.run([sys.executable, str(script), str(nb), mode], capture_output=True, text=True, env=env,
                       timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_the_forked_kernel_is_what_a_fresh_launch_would_be(tmp_path):
    seen, _ = _probe(tmp_path, "fork")
    assert seen["used"] and seen["kernel_pid"] == seen["zygote"]
    nb_dir = str((ROOT / "notebooks").resolve())
    assert seen["cwd"] == nb_dir and seen["path0"] == nb_dir  # `python -m ipykernel_launcher` run there
    assert seen["probe"] == "set after the fork"  # the launch's environment, not the one at the fork
    assert seen["blas"] and set(seen["blas"]) == {1}  # kernel_environment()'s one BLAS thread, though numpy loaded without it
    assert seen["sid"]  # its own session, like a kernel jupyter_client starts
    assert seen["ppid"] == seen["me"]  # the command's child: it ends with the command (JPY_PARENT_PID)
    assert seen["catalog_cached"] == 0
    assert seen["debugger"] is False and not seen["debugpy_loaded"]  # a report's kernel is never debugged
    assert seen["s3_blocked"] is False  # papermill in a report imports its S3 handler as usual
    assert seen["kernel_after_retire"] in ("gone", "Z")


def test_a_fork_that_could_differ_from_a_fresh_kernel_is_not_used(tmp_path):
    seen, err = _probe(tmp_path, "pythonpath")  # an import-time variable changed between fork and launch
    assert not seen["used"] and "PYTHONPATH" in seen["refused"]
    assert "forked kernel not used" in err
    assert seen["kernel_pid"] != seen["zygote"] and seen["cwd"].endswith("notebooks")  # a fresh kernel ran
    assert seen["debugger"] is True  # ipykernel's own start, debugger and all
    assert seen["kernel_after_retire"] in ("gone", "Z")  # and was shut down with the run
    assert _gone(seen["zygote"])  # the unused child did not stay behind
    seen, _ = _probe(tmp_path, "thread")  # a thread could hold a lock the child would inherit held
    assert seen["pid"] is None and "thread" in seen["unusable"]
    seen, _ = _probe(tmp_path, "unused")  # made (a kernel already listening), never launched: stopped when let
    assert seen["pid"] and seen["exit"] is not None and seen["leftovers"] == []  # go, its files removed


def test_a_forked_run_is_a_fresh_run(tmp_path):
    def run(out, **env):
        r = subprocess.run([CLI, "run", "kpis", "--no-progress", "--outputs", str(out), *WINDOW],
                           capture_output=True, text=True, timeout=300, env=dict(os.environ, **env))
        assert r.returncode == 0, r.stderr[-3000:]
        (summary,) = (out / "kpis").glob("*/summary.json")
        return json.loads(summary.read_text()), r

    forked, r = run(tmp_path / "f")
    fresh, _ = run(tmp_path / "n", RTANALYTICS_FORK_KERNEL="0")
    assert forked["kernel"] == "forked" and fresh["kernel"] == "new"
    assert forked["status"] == fresh["status"] == "ok"
    assert forked["figures"] == fresh["figures"] and forked["headline"] == fresh["headline"]
    assert "Debugger warning" not in r.stderr and "--existing" not in r.stdout  # nothing of the child's start
    bad = subprocess.run([CLI, "run", "kpis", "--outputs", str(tmp_path / "b"), "-p", "start", "yesterday-ish"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "start" in bad.stderr and not (tmp_path / "b" / "kpis").exists()


def test_schedule_run_forks_the_kernel_of_its_one_due_report(tmp_path):
    import shutil
    from datetime import datetime, timedelta, timezone

    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    (params / "schedule.yaml").write_text(
        "catch_up: latest\nentries:\n  - name: kpis-5m\n    report: kpis\n    cron: \"*/5 * * * *\"\n"
        "    params: {start: \"-2h\"}\n    timeout: 300\n    keep: 3\n")
    out = tmp_path / "out"
    out.mkdir()
    last = datetime.now(timezone.utc) - timedelta(minutes=7)  # one slot due since
    (out / ".schedule-state.json").write_text(json.dumps({"kpis-5m": last.isoformat()}))
    r = subprocess.run([CLI, "schedule", "run", "--outputs", str(out)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, RTANALYTICS_PARAMETERS=str(params)))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    (summary,) = (out / "kpis").glob("*/summary.json")
    s = json.loads(summary.read_text())
    assert s["status"] == "ok" and s["kernel"] == "forked"


def test_a_forked_kernel_that_times_out_is_interrupted_and_gone(tmp_path):
    """A cell over its timeout in a forked kernel: the run fails with the timeout (the interrupt reaches the
    child's own session) and the kernel does not outlive the run."""
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tests.conftest import make_report
        from rtanalytics.reports import registry
        from rtanalytics.reports.forked import ForkedKernel
        from rtanalytics.reports.runner import run_report
        tmp = Path({str(tmp_path)!r})
        registry.REPORTS["slow"] = make_report(tmp, "slow", "import time\\ntime.sleep(60)")
        fk = ForkedKernel(registry.REPORTS["slow"].notebook)
        res = run_report("slow", {{}}, tmp / "out", timeout=2, progress=False, kernel=fk)
        try:
            state = open(f"/proc/{{fk.pid}}/stat").read().split()[2]
        except OSError:
            state = "gone"
        print(json.dumps({{"status": res.status, "error": res.summary["error"], "kernel": res.summary["kernel"],
                          "after": state}}))
    """))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen["kernel"] == "forked" and seen["status"] == "failed"
    assert "timed out" in seen["error"] or "Timeout" in seen["error"]
    assert seen["after"] in ("gone", "Z")


def test_console_script_loads_numpy_with_one_blas_thread_and_its_kernels_get_the_usual_count(tmp_path, monkeypatch):
    probe = ("import os, sys, rtanalytics; from threadpoolctl import threadpool_info; "
             "print(rtanalytics.BLAS_LIMITED, 'OPENBLAS_NUM_THREADS' in os.environ, "
             "min(i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    for name in ("rtanalytics", "analysis.py"):
        (tmp_path / name).write_text(probe)
    script = subprocess.run([sys.executable, str(tmp_path / "rtanalytics")], capture_output=True, text=True,
                            env=env, check=True).stdout.split()
    other = subprocess.run([sys.executable, str(tmp_path / "analysis.py")], capture_output=True, text=True,
                           env=env, check=True).stdout.split()
    assert script == ["True", "False", "1"]  # one thread, and nothing started later inherits the setting
    assert other[:2] == ["False", "False"] and int(other[2]) >= 1
    asked = subprocess.run([sys.executable, str(tmp_path / "rtanalytics")], capture_output=True, text=True,
                           env=dict(env, OPENBLAS_NUM_THREADS="2"), check=True).stdout.split()
    assert asked[:2] == ["False", "True"]  # a count the user set is theirs

    import threadpoolctl

    import rtanalytics
    from rtanalytics.reports import forked
    from rtanalytics.slo import usable_cores

    calls = []
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda limits, user_api: calls.append(limits))
    monkeypatch.setattr(rtanalytics, "BLAS_LIMITED", True)
    forked._blas_threads({})  # a kernel forked from the console script: the count a fresh kernel has
    forked._blas_threads({"OPENBLAS_NUM_THREADS": "3"})  # or the one its launch asks for
    assert calls == [usable_cores(), 3]
    monkeypatch.setattr(rtanalytics, "BLAS_LIMITED", False)
    forked._blas_threads({})
    assert calls == [usable_cores(), 3]
