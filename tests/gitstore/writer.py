"""A separate writer process for the concurrency and crash tests (run as a script).

Modes:
  stack <repo> <n> <id>   n writes without a parent (each must land)
  race <repo>             per stdin line "<parent>", one write on that parent; prints
                          "won <sha>" or "lost <head>"
  loop <repo> <start>     writes forever, printing each new head (to be SIGKILLed)
"""

from __future__ import annotations

import sys
from pathlib import Path

from gitstore import Author, Changes, ConflictError, DeviceRepo

AUTHOR = Author("user-writer", "user-writer@users.noreply.infratrace")


def main() -> None:
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "stack":
        count, ident = int(sys.argv[3]), sys.argv[4]
        for i in range(count):
            with DeviceRepo.open(path) as repo:
                change = Changes(configs={f"w{ident}": f"{ident} write {i}\n".encode()})
                result = repo.commit_version(change, AUTHOR, f"writer {ident} #{i}")
                assert result.changed
    elif mode == "race":
        ident = sys.argv[3]
        for i, line in enumerate(sys.stdin):
            with DeviceRepo.open(path) as repo:
                change = Changes(configs={"race": f"{ident} {i}\n".encode()})
                try:
                    result = repo.commit_version(change, AUTHOR, "race", line.strip())
                    print("won", result.commit, flush=True)
                except ConflictError as exc:
                    print("lost", exc.current_head, flush=True)
    elif mode == "loop":
        i = int(sys.argv[3])
        with DeviceRepo.open(path) as repo:
            while True:
                i += 1
                change = Changes(
                    configs={"loop": f"{i}\n".encode() * (i % 50 + 1), f"n/{i % 7}": b"%d" % i},
                    ports=[{"name": f"Gi1/0/{i % 13}", "vlans": [i % 4094 + 1]}],
                )
                result = repo.commit_version(change, AUTHOR, f"loop {i}")
                if i % 5 == 0:
                    repo.create_tag(f"t{i}", result.commit, "tag", AUTHOR)
                print(result.commit, flush=True)


if __name__ == "__main__":
    main()
