"""A single run's kernel, forked from the ``rtanalytics run`` process that has already imported pandas and
rtanalytics, so the kernel does not import them again.

A fresh kernel is a new Python that starts ipykernel and imports numpy, pandas, pyarrow, rtanalytics and
plotly before the notebook's first line of work: 1.0-1.4 s of a 3.3 s ``rtanalytics run kpis`` (bench/README.md).
The command itself imports the same libraries to validate the parameters. A :class:`ForkedKernel` forks the
command once, early, while it is still single-threaded: the child keeps what is already imported, imports
ipykernel and the notebook's own imports (on the other core, while the command imports papermill and
validates), and then waits. When papermill starts the run's kernel, the launch (its connection file, folder
and environment: what would have been ``python -m ipykernel_launcher -f ...``) is handed to the child, which
becomes that kernel. Everything after that is as with a kernel papermill starts: same kernelspec command line,
own session and process group, the environment and folder of the launch, one notebook, shut down after it.

It is not used — the run starts a kernel as before, and ``summary.json`` says ``"kernel": "new"`` — when the
platform cannot fork, when the command already runs Python threads, when the launch is not the native
``ipykernel_launcher`` of this Python, when a variable read at import time (BLAS threads, ``PYTHONPATH``)
differs from the launch's, or when the child has died. ``RTANALYTICS_FORK_KERNEL=0`` turns it off.
What the child inherits that a fresh kernel would not: the command's imported modules (code only: the fork
happens before any catalog or data is loaded, and the catalog cache is emptied in the child anyway).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .warm import _PLOTLY_WARMUP, IMPORT_TIME_VARS, PRELOAD, kernel_environment, notebook_imports

#: the command line jupyter_client starts for the native python3 kernel, after the interpreter
LAUNCHER = ("-m", "ipykernel_launcher")


def enabled() -> bool:
    return os.environ.get("RTANALYTICS_FORK_KERNEL", "1").strip().lower() not in ("0", "false", "no", "off")


class _ForkedProcess:
    """The part of :class:`subprocess.Popen` a kernel provisioner uses, for the forked child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def _status(self, flags: int) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # reaped elsewhere: gone
            self.returncode = -1
            return self.returncode
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._status(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int | None:
        if timeout is None:
            return self._status(0)
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _launch_waiting(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])  # the launch (or end-of-file) is there to read


def _child(fd: int, cwd: str, imports: list[str], preload: bool) -> int:
    """The forked side: a head start on the kernel's imports, then wait for the launch and become the kernel."""
    os.setsid()  # its own session, like a kernel jupyter_client starts (a terminal's Ctrl-C is not for it)
    import atexit as _atexit

    _atexit._clear()  # the command's exit handlers are the command's
    for mod in ("rtanalytics.catalog",):  # nothing loaded by the command is the kernel's: it loads its own
        m = sys.modules.get(mod)
        if m is not None and isinstance(getattr(m, "_CACHE", None), dict):
            m._CACHE.clear()
    # only a head start, in the order a report needs it, stopped as soon as the launch is there (what is not
    # imported yet the notebook imports itself, and shows its errors there): ipykernel and what its start
    # imports, the notebook's own import lines, plotly's validators, then the modules the reports load lazily
    steps = [lambda: exec("import ipykernel.kernelapp, ipykernel.ipkernel, ipykernel.debugger", {})]
    ns: dict = {}
    steps += [lambda line=line: exec(line, ns) for line in imports]
    if preload:
        steps.append(lambda: exec(_PLOTLY_WARMUP, {}))
        steps += [lambda m=m: __import__(m) for m in PRELOAD]
    # what the imports print (pydevd's warning about frozen modules) a fresh kernel prints after it has taken
    # over its output, where nobody reads it: here it would reach the command's terminal
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        for step in steps:
            if _launch_waiting(fd):
                break
            try:
                step()
            except Exception:
                pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (*saved, null):
            os.close(f)
    chunks = []
    while True:  # the launch, or end-of-file when the command no longer needs this
        b = os.read(fd, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(fd)
    if not chunks:
        return 0
    req = json.loads(b"".join(chunks))
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    _blas_threads(req["env"])
    null = os.open(os.devnull, os.O_RDONLY)  # jupyter_client gives a kernel no stdin (a closed pipe)
    os.dup2(null, 0)
    os.close(null)
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # ipykernel reads JPY_PARENT_PID when it is imported (here: before the launch), so it is passed as the
    # option it sets: the kernel watches the command and ends with it, and prints no `ipython kernel` banner
    parent = [f"--IPKernelApp.parent_handle={req['env']['JPY_PARENT_PID']}"] if req["env"].get("JPY_PARENT_PID") else []
    # as `python -m ipykernel_launcher ARGS` run in cwd would have it
    sys.argv = [str(Path(sys.modules["ipykernel"].__file__).with_name("__main__.py"))] + req["argv"] + parent
    sys.path[0] = req["cwd"]
    from ipykernel import kernelapp

    code = 0
    try:
        kernelapp.launch_new_instance()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    _atexit._run_exitfuncs()
    return code


def _blas_threads(env: dict) -> None:
    """The BLAS thread count the launch's environment asks for. A fresh kernel reads OPENBLAS_NUM_THREADS (or
    OMP_NUM_THREADS) when numpy loads; here numpy was loaded by the command, perhaps before they were set, so
    the count is set now (threadpoolctl: OpenBLAS's own call)."""
    want = env.get("OPENBLAS_NUM_THREADS") or env.get("OMP_NUM_THREADS")
    if not want or "numpy" not in sys.modules:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(want), user_api="blas")
    except Exception as e:  # a head start only: say so, the kernel still runs
        print(f"rtanalytics: forked kernel: BLAS threads not set to {want}: {e}", file=sys.stderr)


class ForkedKernel:
    """The kernel of one run, forked now from this process (see the module docstring). Used like a
    :class:`~rtanalytics.reports.warm.WarmKernel`: ``run_report(kernel=…)`` claims it and retires it after the
    notebook. ``error`` says why it was not (or cannot be) used, ``used`` whether the run's kernel is it."""

    kind = "forked"

    def __init__(self, notebook: Path | str, preload: bool = True):
        self.notebook = Path(notebook)
        self.cwd = str(self.notebook.parent.resolve())
        self.unusable: str | None = None  # why it was not made
        self.refused: str | None = None
        self.used = False
        self.pid: int | None = None
        self.km = None
        self._w: int | None = None
        self._proc: _ForkedProcess | None = None
        self._retired = False
        if not hasattr(os, "fork"):
            self.unusable = "this platform cannot fork"
            return
        if not enabled():
            self.unusable = "RTANALYTICS_FORK_KERNEL=0"
            return
        if threading.active_count() > 1:  # a lock another thread holds would stay held in the child
            self.unusable = f"this process runs {threading.active_count() - 1} other thread(s)"
            return
        kernel_environment()  # what run_report gives every kernel, set before the child is made
        self.env = dict(os.environ)
        imports = notebook_imports(self.notebook)
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; measured through the runs it serves
            code = 70
            try:
                os.close(w)
                code = _child(r, self.cwd, imports, preload)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        os.close(r)
        self.pid, self._w = pid, w
        self._proc = _ForkedProcess(pid)
        atexit.register(self.retire)
        from .runner import _ipc_kernel_manager  # after the fork: papermill's side, not the kernel's

        self.km = _ipc_kernel_manager()(kernel_name="python3")
        self.km._rt_fork = self

    @property
    def error(self) -> str | None:
        """Why it was not (or cannot be) used."""
        return self.refused or self.unusable

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def claim(self, cwd: Path, timeout: float = 60) -> bool:
        """Whether the run may use it: it was made, is alive, and was made for the notebook's folder."""
        self.refused = None
        if self._proc is None or self._retired:
            self.refused = self.unusable or "retired"
        elif not self.alive:
            self.refused = f"the forked process exited ({self._proc.returncode})"
        elif str(Path(cwd).resolve()) != self.cwd:
            self.refused = f"made for {self.cwd}, the notebook runs in {cwd}"
        return self.refused is None

    def launch(self, cmd: list[str], env: dict | None, cwd) -> _ForkedProcess | None:
        """Called by the provisioner with the kernel's launch: the child becomes that kernel, or None (with
        :attr:`refused`) when it cannot be exactly what this launch would start."""
        env = dict(os.environ if env is None else env)
        cwd = str(Path(cwd or os.getcwd()).resolve())
        why = None
        if self._w is None or self._retired:
            why = "retired"
        elif not self.alive:
            why = "the forked process exited"
        elif list(cmd[1:3]) != list(LAUNCHER) or not _same_python(cmd[0]):
            why = f"the kernelspec starts {' '.join(cmd[:3])}, not this Python's ipykernel"
        elif cwd != self.cwd:
            why = f"made for {self.cwd}, the kernel starts in {cwd}"
        else:
            changed = [v for v in IMPORT_TIME_VARS if env.get(v) != self.env.get(v)]
            if changed:
                why = f"{', '.join(changed)} differ from when it was made"
        if why:
            self.refused = why
            self.retire()
            return None
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it: the kernel ends with us
        data = json.dumps({"argv": list(cmd[3:]), "env": env, "cwd": cwd}).encode()
        try:
            while data:
                data = data[os.write(self._w, data):]
            os.close(self._w)
        except OSError as e:
            self.refused = f"could not hand the launch over: {e}"
            self._w = None
            self.retire()
            return None
        self._w = None
        self.used = True
        return self._proc

    def retire(self) -> None:
        """Shut down what is left: the kernel after its notebook, or a child nobody launched (it exits when its
        pipe closes; killed if it does not within 5 s)."""
        if self._retired:
            return
        self._retired = True
        atexit.unregister(self.retire)
        if self._w is not None:
            try:
                os.close(self._w)
            except OSError:
                pass
            self._w = None
        if self.used and self.km is not None:
            import asyncio

            try:
                for kc in getattr(self.km, "_rt_clients", []):
                    kc.stop_channels()
                if self.km.has_kernel:
                    asyncio.run(self.km.shutdown_kernel(now=True))
            except Exception as e:  # never lose a run over a kernel that would not stop
                print(f"rtanalytics: forked kernel shutdown: {type(e).__name__}: {e}", file=sys.stderr)
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.wait(5)
            except Exception:
                self._proc.kill()
                try:
                    self._proc.wait(5)
                except Exception:
                    pass


def _same_python(exe: str) -> bool:
    try:
        return os.path.samefile(exe, sys.executable)
    except OSError:
        return False


def provisioner_class():
    """jupyter_client's local provisioner, launching through the manager's :class:`ForkedKernel` when it has
    one that accepts the launch."""
    import pathlib

    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            fk = getattr(self.parent, "_rt_fork", None)
            proc = fk.launch(cmd, kwargs.get("env"), kwargs.get("cwd")) if fk is not None else None
            if proc is None:
                if fk is not None and fk.refused:
                    print(f"rtanalytics: forked kernel not used ({fk.refused}); starting one", file=sys.stderr)
                return await super().launch_kernel(cmd, **kwargs)
            self.process = proc
            self.pid = proc.pid
            try:
                self.pgid = os.getpgid(proc.pid)
            except OSError:
                self.pgid = None
            self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
            return self.connection_info

    return ForkProvisioner
