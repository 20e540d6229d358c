"""A slow RQ job for the cancel test: it writes the pid of the process running it (the RQ work-horse), then
sleeps."""

from __future__ import annotations

import os
import time


def sleep_and_report(pid_file: str, seconds: int) -> str:
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    time.sleep(seconds)
    return "not stopped"
