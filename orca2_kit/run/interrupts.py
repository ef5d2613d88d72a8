"""How a run stops when asked: SIGINT (Ctrl-C) or SIGTERM (`kill`, a scheduler) to the runner.

The runner passes SIGINT on to every process it started: the Jupyter kernel (where the teacher's
requests are cancelled and awaited, see teacher/client.py `_run_sync`) and whatever the kernel
launched (training). The cell ends with KeyboardInterrupt; the runner sees the flag this context
manager sets, marks the stage and the run "interrupted" and writes the report.
"""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def stop_on_signals(log=print):
    """SIGINT and SIGTERM stop the running stage cleanly: the kernel (and what it started: training,
    the teacher's requests) gets SIGINT, which cancels in-flight requests and ends the cell; the
    runner then marks the stage "interrupted" and writes the report. If the kernel does not stop
    within 30 s, or a second signal arrives, the runner stops waiting for it."""
    import _thread
    import signal
    import threading

    state = {"signal": None}
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield state
        return

    def handler(signum, frame):
        if state["signal"] is not None:
            raise KeyboardInterrupt
        state["signal"] = signal.Signals(signum).name
        log(f"orca2-kit: {state['signal']} received: stopping the running stage ...")
        _interrupt_children()
        state["timer"] = threading.Timer(30, _thread.interrupt_main)
        state["timer"].daemon = True
        state["timer"].start()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        if state.get("timer"):
            state["timer"].cancel()
        for s, h in old.items():
            signal.signal(s, h)


def _interrupt_children() -> None:
    """SIGINT to every process this runner started (the kernel, and training it launched)."""
    import signal

    import psutil

    for p in psutil.Process().children(recursive=True):
        try:
            p.send_signal(signal.SIGINT)
        except psutil.Error:
            pass
