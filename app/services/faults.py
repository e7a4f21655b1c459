"""The one fault-injection point of the service, for crash tests; off in production.

`point(name)` does nothing unless the environment variable INFRATRACE_FAULT equals `name`; then
it kills this process with SIGKILL on the spot (no cleanup, no `finally`, no SQL commit), which
is what a power cut or the OOM killer does. Known points:

* `door.after_ref_move`: in the door (device_door.py), after a ref moved in git and before the
  commit index, audit event and mirror job are committed in SQL. tests/test_door_faults.py uses
  it to show that the reconciler (reconcile.py) repairs index, audit trail and mirror.

Never set INFRATRACE_FAULT in production; the variable is read on each call so a test can set it
for one child process only.
"""

from __future__ import annotations

import os
import signal

ENV = "INFRATRACE_FAULT"


def point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
