"""SIGTERM during a run is a flag, not a kill: StopOnSignal nests, and gmsh's initialisation
does not take the handler away. Each check runs in a child process: when it fails, the child
is the one killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap


def _child(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120)


def test_nested_blocks_share_the_flag_and_the_outermost_restores_the_handler():
    """A signal inside the inner block is seen by the outer one after the inner has ended;
    after the outer block the handler Python had before is back (here SIG_IGN)."""
    proc = _child("""
        import os, signal
        from ecx_device.runs.common import StopOnSignal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with StopOnSignal() as outer:
            with StopOnSignal():
                os.kill(os.getpid(), signal.SIGTERM)
            print("outer flag", outer.signal)
        print("after", signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["outer", "flag", str(int(signal.SIGTERM)), "after", "True"]


def test_a_gmsh_session_inside_the_block_leaves_the_handler_in_place():
    """gmsh.initialize resets SIGTERM to the default action in C (Python still reports its
    handler); without gmsh_session putting it back, this child dies of the signal (exit -15)."""
    proc = _child("""
        import os, signal
        from ecx_device.runs.common import StopOnSignal
        from ecx_device.device.gmsh_model import gmsh_session
        with StopOnSignal() as stop:
            with gmsh_session():
                pass
            os.kill(os.getpid(), signal.SIGTERM)
            print("flag", stop.signal)
    """)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert proc.stdout.split() == ["flag", str(int(signal.SIGTERM))]
