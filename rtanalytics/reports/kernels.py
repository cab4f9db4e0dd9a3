"""The kernel manager and client every report run uses (papermill's ``kernel_manager_class``): kernels over Unix
sockets in a private folder, and a stopped kernel waited for in 5 ms steps."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time as _time
import uuid as _uuid
from functools import lru_cache
from queue import Empty

_AFTER_LAUNCH: list = []
_AFTER_LAUNCH_LOCK = threading.Lock()


def after_next_launch(fn) -> None:
    """Run ``fn()`` on a daemon thread once the next kernel this process starts is launched (queued once however
    often it is asked for). For work the command does while the kernel executes (the renderer's warm-up):
    started before the launch, it held the GIL the launch path needs (0.14 s later kernels, bench/README.md).
    Only a head start: a run whose kernel was started ahead calls :func:`run_after_launch` itself, and what
    never ran is done when it is needed."""
    with _AFTER_LAUNCH_LOCK:
        if fn not in _AFTER_LAUNCH:
            _AFTER_LAUNCH.append(fn)


def run_after_launch() -> None:
    """Start what :func:`after_next_launch` queued (each once)."""
    with _AFTER_LAUNCH_LOCK:
        fns = _AFTER_LAUNCH[:]
        _AFTER_LAUNCH.clear()
    for fn in fns:
        threading.Thread(target=fn, name=f"after-launch-{getattr(fn, '__name__', 'task')}", daemon=True).start()


def shutdown(km, what: str, extra_clients=()) -> None:
    """Stop the clients of ``km``'s kernel (ours and nbclient's) and the kernel itself, at once; a kernel that
    would not stop is reported on stderr, never raised (a run is never lost over it)."""
    try:
        for kc in (*extra_clients, *getattr(km, "_rt_clients", [])):
            kc.stop_channels()
        if km.has_kernel:
            asyncio.run(km.shutdown_kernel(now=True))
    except Exception as e:
        print(f"rtanalytics: {what} kernel shutdown: {type(e).__name__}: {e}", file=sys.stderr)


@lru_cache(maxsize=None)
def ready_client():
    """jupyter_client's asynchronous client, except that waiting for a new kernel ends when the kernel is idle
    after answering ``kernel_info`` instead of after 0.2 s of silence on IOPub (a fixed 0.2 s of every run)."""
    from jupyter_client.asynchronous import AsyncKernelClient  # lazy: jupyter_client only when a kernel is started
    from jupyter_client.utils import ensure_async

    class ReadyClient(AsyncKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            from jupyter_client.manager import KernelManager  # lazy: jupyter_client only when a kernel is started

            if not isinstance(self.parent, KernelManager):  # not a kernel we started: the library's own way
                return await super()._async_wait_for_ready(timeout)
            abs_timeout = _time.time() + (float("inf") if timeout is None else timeout)
            while True:  # as jupyter_client: kernel_info until a reply, and IOPub seen connected
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:
                            io = await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if _time.time() > abs_timeout:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
            answered = msg["parent_header"].get("msg_id")

            def idle(m) -> bool:  # the kernel's idle status after the kernel_info that was answered
                return (m.get("msg_type") == "status" and m["content"].get("execution_state") == "idle"
                        and m["parent_header"].get("msg_id") == answered)

            while not idle(io):  # flush IOPub up to it (0.2 s of silence at most, as jupyter_client)
                try:
                    io = await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                except Empty:
                    break

        wait_for_ready = _async_wait_for_ready  # what nbclient calls (the library binds it to its own method)

    return ReadyClient


@lru_cache(maxsize=None)
def ipc_kernel_manager():
    """Kernels that talk over Unix sockets in a private folder instead of TCP ports on loopback: no port races
    when several reports start kernels at once (seen: "Address already in use" with two parallel runs), and no
    unencrypted TCP."""
    from jupyter_client.manager import AsyncKernelManager  # lazy: jupyter_client only when a kernel is started

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            kw.setdefault("transport", "ipc")
            super().__init__(**kw)
            self._ipc_dir = tempfile.mkdtemp(prefix="rtk-")
            self.ip = os.path.join(self._ipc_dir, "kernel")
            self._rt_clients = []
            self.client_factory = ready_client()

        async def _async_pre_start_kernel(self, **kw):
            if self.provisioner is None and not (self.kernel_spec.metadata or {}).get("kernel_provisioner"):
                # ours (see provisioner_class) unless the kernelspec names its own

                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(_uuid.uuid4())
                self.provisioner = provisioner_class()(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                       parent=self)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                run_after_launch()

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # the library polls a killed kernel every 0.1 s (0.1 s of every run's shutdown, the kill being
            # immediate): 5 ms steps, growing to its interval

            step = min(0.005, pollinterval)
            while await self._async_is_alive():
                await asyncio.sleep(step)
                step = min(step * 2, pollinterval)

        def client(self, **kw):  # remembered, so a warm kernel's owner can close nbclient's client too
            kc = super().client(**kw)
            self._rt_clients.append(kc)
            return kc

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client sends SIGINT before every orderly shutdown; a kernel that has finished its cells
            # needs none (it only made kernels under load log a stray KeyboardInterrupt). Timeouts interrupt
            # through ``interrupt_kernel``, which this does not change.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart)
            if not restart:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return IPCKernelManager


@lru_cache(maxsize=None)
def provisioner_class():
    """jupyter_client's local provisioner, waiting for a stopped kernel in 5 ms steps instead of 100 ms ones
    (the kill is at once; the 100 ms poll was up to 0.1 s of every run)."""
    from jupyter_client.provisioning import LocalProvisioner  # lazy: jupyter_client only when a kernel is started

    class RtProvisioner(LocalProvisioner):
        async def wait(self):
            if self.process:
                step = 0.005
                while await self.poll() is None:  # as the library does, in finer steps (at most 0.1 s)
                    await asyncio.sleep(step)
                    step = min(step * 2, 0.1)
            return await super().wait()

    return RtProvisioner


def kernel_environment() -> None:
    """What every report kernel inherits: one BLAS thread per kernel (reports run two at a time on two cores,
    and OpenBLAS threads on top of that oversubscribe them: the capacity report took 33-66 s under load instead
    of 7-10). A user's own setting wins."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
