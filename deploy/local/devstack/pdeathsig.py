"""Run a command that dies with its parent (Linux `prctl(PR_SET_PDEATHSIG)`), then exec it.

    python -m devstack.pdeathsig [--user NAME] TERM -- COMMAND [ARGS...]

`make run`'s supervisor starts every program through this, so a supervisor killed with -9
leaves no broker holding its port and no PostgreSQL holding its data folder. The signal survives
exec but not a change of user, so `--user` (PostgreSQL refuses to run as root) drops privileges
here, before the signal is armed."""
from __future__ import annotations

import ctypes
import os
import pwd
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main(argv: list[str]) -> None:
    user = None
    if argv[:1] == ["--user"]:
        user, argv = argv[1], argv[2:]
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m devstack.pdeathsig [--user NAME] SIGNAL -- COMMAND [ARGS...]")
    parent = os.getppid()
    if user:
        entry = pwd.getpwnam(user)
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    die_with_parent(signal.Signals[f"SIG{argv[0].upper().removeprefix('SIG')}"])
    if os.getppid() != parent:  # the parent died before the signal was armed
        sys.exit(1)
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
