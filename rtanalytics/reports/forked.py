"""A single run's kernel, forked from the ``rtanalytics run`` process that has already imported pandas and
rtanalytics, so the kernel does not import them again.

A fresh kernel is a new Python that starts ipykernel and imports numpy, pandas, pyarrow, rtanalytics and
plotly before the notebook's first line of work: about 1 s of the 2.8 s a ``rtanalytics run kpis`` took
(bench/README.md). The command itself imports the same libraries to validate the parameters. A
:class:`ForkedKernel` forks the command once, early, while it is still single-threaded (no other Python thread;
numpy's OpenBLAS and pyarrow's jemalloc handle a fork themselves). Before the fork the run's kernel manager
writes its connection file; the child starts ipykernel on it at once (its sockets bound: nothing is lost if
papermill connects early) and imports the notebook's import lines, plotly's validators and the modules the
reports load lazily on a thread until the first cell starts — while the command imports nbformat and
papermill and validates. When papermill starts the kernel, the launch (command line, folder, environment) is
checked against what the child was started as and handed over; the child takes the launch's environment
(and BLAS thread count) before the first cell. From there it is the kernel papermill would have started: the
kernelspec's command line, its own session and process group, the launch's folder and environment, one
notebook, shut down after it.

It is not used — the run starts a kernel as before, said on stderr, and ``summary.json`` says
``"kernel": "new"`` — when the platform cannot fork, when the command runs other Python threads, when the
launch is not this Python's ``ipykernel_launcher`` with the arguments the child was started with, when it
starts in another folder, when a variable read at import time (BLAS threads, ``PYTHONPATH``) changed, or when
the child has died; the child is then stopped before the other kernel binds its sockets.
``RTANALYTICS_FORK_KERNEL=0`` turns it off. What the child inherits that a fresh kernel would not: the
command's imported modules (code only: the fork happens before any data is loaded, and the catalog cache is
emptied in the child). What it lacks: ipykernel's debugger (debugpy is not imported: 85 ms, and nobody can attach
a debugger to a papermill run).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from .warm import _PLOTLY_WARMUP, HIST, IMPORT_TIME_VARS, PRELOAD, kernel_environment, notebook_imports

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


class _Quiet:
    """File descriptors 1 and 2 to /dev/null for a while: what ipykernel prints while it is imported (pydevd's
    warning about frozen modules) a fresh kernel prints after it has taken over its output, where nobody reads
    it; here it would reach the command's terminal."""

    def __enter__(self):
        self.saved = [os.dup(1), os.dup(2)]
        self.null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self.null, 1)
        os.dup2(self.null, 2)

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for f in (*self.saved, self.null):
            os.close(f)


def _child(fd: int, cwd: str, argv: list[str], imports: list[str], preload: bool) -> int:
    """The forked side: become the kernel at once (ipykernel started on the connection file the command's
    manager wrote), get a head start on the notebook's imports until the launch comes, and take the launch's
    environment before the first cell runs."""
    os.setsid()  # its own session, like a kernel jupyter_client starts (a terminal's Ctrl-C is not for it)
    import atexit as _atexit
    import gc

    # no cyclic garbage collection while ipykernel and the report's modules are imported (it took 0.1-0.2 s of
    # the ~1 s of imports: every pass walks every object imported so far); back on, with everything imported
    # so far frozen out of its passes, before the first cell
    gc.disable()

    _atexit._clear()  # the command's exit handlers are the command's
    for mod in ("rtanalytics.catalog",):  # nothing loaded by the command is the kernel's: it loads its own
        m = sys.modules.get(mod)
        if m is not None and isinstance(getattr(m, "_CACHE", None), dict):
            m._CACHE.clear()
    # as `python -m ipykernel_launcher ARGV` started in cwd would be
    os.chdir(cwd)
    sys.path[0] = cwd
    null = os.open(os.devnull, os.O_RDONLY)  # jupyter_client gives a kernel no stdin (a closed pipe)
    os.dup2(null, 0)
    os.close(null)
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _blas_threads(os.environ, at_launch=False)  # numpy was loaded by the command, perhaps before the BLAS
    # variables were set
    # no debugger in a report's kernel: papermill cannot attach one, and importing debugpy is 85 ms of every
    # kernel's start (ipykernel then answers debug requests with an error, and its kernel_info does not list
    # "debugger" among its features). A module set to None in sys.modules cannot be imported; one already
    # imported stays
    sys.modules.setdefault("debugpy", None)
    if "papermill.s3" in sys.modules and sys.modules["papermill.s3"] is None:
        del sys.modules["papermill.s3"]  # kept out of the command only (cli._console_prelude), not the report's
    with _Quiet():
        import ipykernel.ipkernel  # noqa: F401
        import ipykernel.kernelapp  # noqa: F401

        try:
            import ipykernel.debugger  # noqa: F401
        except Exception:
            pass
    from ipykernel import kernelapp

    # ipykernel reads JPY_PARENT_PID when it is imported, so the parent is passed as the option it sets: the
    # kernel watches the command and ends with it (and prints no `ipython kernel` banner)
    sys.argv = [str(Path(kernelapp.__file__).with_name("__main__.py")), *argv,
                f"--IPKernelApp.parent_handle={os.getppid()}"]
    app = kernelapp.IPKernelApp.instance()
    app.initialize()  # its sockets bound: requests wait in them until it starts

    launch: dict = {}

    def take_launch() -> None:
        """Before the first cell: the launch's environment (and nothing runs before it is there)."""
        if launch:
            return
        chunks = []
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            chunks.append(b)
        os.close(fd)
        if not chunks:  # let go without a launch: nothing of a run may execute here
            os._exit(0)
        launch.update(json.loads(b"".join(chunks)))
        gc.freeze()
        gc.enable()
        os.environ.clear()
        os.environ.update(launch["env"])
        _blas_threads(launch["env"])
        app.shell.events.unregister("pre_execute", take_launch)

    app.shell.events.register("pre_execute", take_launch)
    # the head start, in the order a report needs it, on a thread while the kernel already answers, until the
    # first cell starts (what is not imported by then the notebook imports itself, and shows its errors there;
    # Python's import locks keep a module half-imported by the thread from being seen by the cell)
    steps = [lambda line=line: exec(line, {}) for line in imports]
    if preload:
        steps.append(lambda: exec(_PLOTLY_WARMUP, {}))
        steps += [lambda m=m: __import__(m) for m in PRELOAD]

    def head_start() -> None:
        for step in steps:
            if launch:
                break
            try:
                step()
            except Exception:
                pass

    threading.Thread(target=head_start, name="rt-preload", daemon=True).start()
    code = 0
    try:
        app.start()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    _atexit._run_exitfuncs()
    return code


def _blas_threads(env: dict, at_launch: bool = True) -> None:
    """The BLAS thread count the launch's environment asks for. A fresh kernel reads OPENBLAS_NUM_THREADS (or
    OMP_NUM_THREADS) when numpy loads; here numpy was loaded by the command, perhaps before they were set, so
    the count is set now (threadpoolctl: OpenBLAS's own call)."""
    want = env.get("OPENBLAS_NUM_THREADS") or env.get("OMP_NUM_THREADS")
    if not want and at_launch and getattr(sys.modules.get("rtanalytics"), "BLAS_LIMITED", False):
        # the console script loaded numpy with one thread: what a fresh kernel has (once the launch's own
        # environment is known: a report's asks for one, reports/warm.py kernel_environment)
        from ..slo import usable_cores

        want = str(usable_cores())
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
        self.argv: list[str] = []
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
        import uuid

        from .kernels import ipc_kernel_manager

        km = None
        try:
            imports = notebook_imports(self.notebook)
            # the run's kernel manager, its connection file written now (what papermill's start would write):
            # the child starts ipykernel on it at once; the manager finds it written and the kernel listening
            km = ipc_kernel_manager()(kernel_name="python3")
            km.kernel_id = str(uuid.uuid4())
            km.write_connection_file()
            self.argv = ["-f", km.connection_file, HIST]  # what nbclient's launch will ask for (checked then)
            if threading.active_count() > 1:
                raise RuntimeError(f"this process runs {threading.active_count() - 1} other thread(s)")
            r, w = os.pipe()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except Exception as e:  # no fork (a process limit, a notebook that cannot be read...): a kernel as before
            self.unusable = f"{type(e).__name__}: {e}"
            if km is not None:
                km.cleanup_connection_file()
                shutil.rmtree(getattr(km, "_ipc_dir", ""), ignore_errors=True)
            return
        if pid == 0:  # pragma: no cover - the child; measured through the runs it serves
            code = 70
            try:
                os.close(w)
                code = _child(r, self.cwd, self.argv, imports, preload)
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
        self.km = km
        km._rt_fork = self
        atexit.register(self.retire)

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
        """Called by the provisioner with the kernel's launch: the child, already that kernel, takes the
        launch's environment; or None (with :attr:`refused`, the child stopped) when it cannot be exactly what
        this launch would start."""
        env = dict(os.environ if env is None else env)
        cwd = str(Path(cwd or os.getcwd()).resolve())
        why = None
        if self._w is None or self._retired:
            why = "retired"
        elif not self.alive:
            why = "the forked process exited"
        elif list(cmd[1:3]) != list(LAUNCHER) or not _same_python(cmd[0]):
            why = f"the kernelspec starts {' '.join(cmd[:3])}, not this Python's ipykernel"
        elif list(cmd[3:]) != self.argv:
            why = f"the launch asks for {' '.join(cmd[3:])}"
        elif cwd != self.cwd:
            why = f"made for {self.cwd}, the kernel starts in {cwd}"
        else:
            changed = [v for v in IMPORT_TIME_VARS if env.get(v) != self.env.get(v)]
            if changed:
                why = f"{', '.join(changed)} differ from when it was made"
        if why:
            self.refused = why
            self._stop_child()  # its sockets are the connection file's: gone before another kernel binds them
            return None
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        data = json.dumps({"env": env}).encode()
        try:
            while data:
                data = data[os.write(self._w, data):]
            os.close(self._w)
        except OSError as e:
            self._w = None
            self.refused = f"could not hand the launch over: {e}"
            self._stop_child()
            return None
        self._w = None
        self.used = True
        return self._proc

    def _stop_child(self) -> None:
        if self._w is not None:
            try:
                os.close(self._w)
            except OSError:
                pass
            self._w = None
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # its session: the kernel and anything it started
            except OSError:
                self._proc.kill()
            try:
                self._proc.wait(10)
            except Exception:
                pass
        if self.km is not None:
            try:
                self.km.cleanup_ipc_files()
            except Exception:
                pass

    def retire(self) -> None:
        """Shut down what is left: the kernel after its notebook (through its manager, as papermill would), or
        a child nobody launched (stopped, its connection file and sockets removed)."""
        if self._retired:
            return
        self._retired = True
        atexit.unregister(self.retire)
        if self.km is not None and self.km.has_kernel:  # the run's kernel: this child, or the one started
            from .kernels import shutdown                   # instead of it (papermill does not own the manager)

            shutdown(self.km, "forked")
        elif self.km is not None:  # never launched: nothing of it stays
            self._stop_child()
            try:
                self.km.cleanup_connection_file()
            except Exception:
                pass
            shutil.rmtree(getattr(self.km, "_ipc_dir", ""), ignore_errors=True)
        if self._proc is not None and self._proc.poll() is None:
            self._stop_child()


def _same_python(exe: str) -> bool:
    try:
        return os.path.samefile(exe, sys.executable)
    except OSError:
        return False
