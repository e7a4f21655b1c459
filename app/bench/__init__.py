"""`infratrace bench`: our write, history and diff paths measured against git itself, on the same data.

Everything is built in a temporary folder (SQLite, repos) and removed afterwards:

- ingest: N sequential versions of a 1,500-line config with a few lines changed each, against
  `git fast-import` of the same history, through both documented paths: one
  `versions.write_version` per version (`ingest.single_ratio_vs_fast_import`) and
  `versions.import_versions` in batches (`ingest.import_ratio_vs_fast_import`, which is also
  `ingest.ratio_vs_fast_import`, the key the issue's target is set on);
- history (through the real request path: token, access check, author lookup, JSON): a
  10,000-version device made with fast-import and indexed with `rebuild_device`; newest
  50, a page 5,000 deep and a path-filtered page from the SQL index, against `git log` for the
  same pages;
- diff: two versions of a 50,000-line config with 1% of lines changed, `versions.diff_device` plus
  its JSON shaping (word-level marks on), against `git diff`;
- pages: server time of the version, compare and config pages on those devices (app/bench/pages.py);
- search and compliance: app/bench/search.py (fleet search against `grep -rFn`, compliance rules).
"""

from __future__ import annotations

import contextvars
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.bench.search import KEYS as SEARCH_KEYS
from app.bench.search import TARGETS as SEARCH_TARGETS
from app.bench.timing import median_ms, paired_median_ms

SIZES: dict[str, dict[str, int]] = {
    "tiny": {"ingest": 20, "ingest_rounds": 1, "concurrent": 3, "history": 300, "deep": 150, "config_lines": 1500,
             "diff_lines": 2000, "repeat": 3},
    "quick": {"ingest": 300, "ingest_rounds": 3, "concurrent": 20, "history": 10_000, "deep": 5000,
              "config_lines": 1500, "diff_lines": 50_000, "repeat": 7},
    "full": {"ingest": 2000, "ingest_rounds": 3, "concurrent": 40, "history": 10_000, "deep": 5000,
             "config_lines": 1500, "diff_lines": 50_000, "repeat": 15},
}
PAGE = 50
# The parts of a run, in order; `--only` picks some (pages brings history and diff along).
IN_APP_PARTS = ("ingest", "concurrent", "history", "diff", "pages")
PARTS = frozenset((*IN_APP_PARTS, "clone", "search"))
WRITERS = 16
# Versions per call of the import path (the endpoint takes up to 1,000).
IMPORT_BATCH = 100
AUTHOR = "bench <bench@example.invalid>"
KEYS = (
    "ingest.commits", "ingest.rounds", "ingest.import_batch", "ingest.fast_import_per_s", "ingest.single_per_s",
    "ingest.import_per_s", "ingest.single_mirror_s", "ingest.import_mirror_s",
    "ingest.single_ratio_vs_fast_import", "ingest.import_ratio_vs_fast_import",
    "ingest.ratio_vs_fast_import",
    "ingest.concurrent_writes", "ingest.concurrent_single_per_s", "ingest.concurrent16_per_s",
    "ingest.concurrent16_ratio_vs_single",
    "history.versions", "history.newest50_ms", "history.deep_page_ms", "history.path_ms",
    "history.git_newest50_ms", "history.git_deep_page_ms", "history.git_path_ms", "history.ratio_vs_git_log",
    "diff.lines", "diff.changed_lines", "diff.ms", "diff.git_ms", "diff.ratio_vs_git_diff",
    "clone.commits", "clone.pack_bytes", "clone.seconds", "clone.http_backend_seconds",
    "clone.throughput_mib_s", "clone.ratio_vs_http_backend", "clone.noop_fetch_ms",
    "pages.version_10k_ms", "pages.compare_10k_ms", "pages.version_50k_lines_ms",
    "pages.config_50k_last_page_ms", "pages.compare_50k_1pct_ms", "pages.compare_50k_10pct_ms",
    "pages.compare_50k_10pct_hunks",
    *SEARCH_KEYS,
)


def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *args], input=data, check=True,
                          capture_output=True).stdout


def _config(lines: int, rng: random.Random) -> list[str]:
    return [f"interface GigabitEthernet1/0/{i} description uplink-{rng.randrange(10**6):06d} mtu 9000"
            for i in range(lines)]


def _mutate(lines: list[str], count: int, rng: random.Random, tag: int) -> list[str]:
    new = list(lines)
    for index in rng.sample(range(len(new)), count):
        new[index] = f"interface GigabitEthernet1/0/{index} description changed-{tag}-{rng.randrange(10**6)}"
    return new


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _fast_import_stream(versions: list[dict[str, bytes]], start: str | None, ref: str = "refs/heads/main",
                        author: str = AUTHOR) -> bytes:
    parts: list[bytes] = []
    when = 1_700_000_000
    for n, files in enumerate(versions):
        message = f"version {n}\n".encode()
        parts.append(f"commit {ref}\nauthor {author} {when + n} +0000\ncommitter {author} {when + n} +0000\n".encode())
        parts.append(b"data %d\n%s" % (len(message), message))
        if n == 0 and start:
            parts.append(f"from {start}\n".encode())
        for path, content in files.items():
            parts.append(f"M 100644 inline {path}\n".encode())
            parts.append(b"data %d\n%s\n" % (len(content), content))
        parts.append(b"\n")
    return b"".join(parts)


class Bench:
    def __init__(self, mode: str) -> None:
        from app import create_app
        from app.config import Config
        from app.migrate import upgrade

        self.size = SIZES[mode]
        self.tmp = Path(tempfile.mkdtemp(prefix="infratrace-bench-"))
        database_url = f"sqlite:///{self.tmp / 'bench.db'}"
        upgrade(database_url)
        self.config = Config(data_dir=self.tmp, database_url=database_url, secret_key="bench",
                             public_url="http://bench.invalid", bcrypt_rounds=4, testing=True)
        self.app = create_app(self.config)
        self.rng = random.Random(42)
        self.results: dict[str, Any] = {}

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- fixtures -------------------------------------------------------------------------------

    def _setup(self) -> None:
        from app.extensions import db
        from app.models import Project
        from app.services import accounts, teams

        self.user = accounts.create_user(accounts.SignupForm(email="bench@example.com", username="bench",
                                                             password="bench password 1", age_confirmed=True))
        access = teams.create_team(self.user, "Bench")
        project = Project(team_id=access.team.id, name="Bench", slug="bench", description="")
        db.session.add(project)
        db.session.commit()
        self.project_id = project.id

    def _device(self, name: str):  # type: ignore[no-untyped-def]
        from app.services import devices

        device, _ = devices.create_device(self.user, self.project_id, {"name": name})
        return device

    # -- measurements ---------------------------------------------------------------------------

    @contextmanager
    def _burst(self, timings: list[float]) -> Iterator[None]:
        """The writes of one burst; then the background work they caused, timed on its own.

        Each write schedules a mirror of the repo. In production an RQ worker, another process,
        runs it coalesced, off the write path; here the burst runs in one request context whose
        in-process jobs run once (coalesced) when its response closes. The ingest rate is the
        writes'; the mirror's duration is appended to `timings` and reported next to it.
        """
        from flask import Response

        with self.app.test_request_context("/"):
            yield
            response = self.app.process_response(Response("ok"))
            started = time.perf_counter()
            response.close()
            timings.append(time.perf_counter() - started)

    def ingest(self) -> None:
        """The same history three ways, in alternating rounds so load hits all of them alike.

        Each round: `git fast-import` of the history into a fresh repo; the single path, one
        `versions.write_version` per version (what one API request does: access check, CAS commit
        under the lock, two filesystem barriers, index row, audit event, SQL commit); the import
        path, `versions.import_versions` in batches of IMPORT_BATCH (what the import endpoint
        does: one pack, two barriers, one ref move, one SQL transaction and audit event per batch).
        Each path gets a fresh device. Ratios are per round (same load on both sides), medians.
        """
        from app.services import versions

        n, rounds = self.size["ingest"], self.size["ingest_rounds"]
        lines = _config(self.size["config_lines"], self.rng)
        texts = []
        for i in range(n):
            lines = _mutate(lines, 3, self.rng, i)
            texts.append(_text(lines))
        bodies = [{"message": f"version {i}", "configs": {"running-config": t.decode()}} for i, t in enumerate(texts)]
        stream = _fast_import_stream([{"configs/running-config": t} for t in texts], None)
        rates: dict[str, list[float]] = {"fast_import": [], "single": [], "import": []}
        mirror_seconds: dict[str, list[float]] = {"single": [], "import": []}
        for round_no in range(rounds):
            fi_repo = self.tmp / f"fast-import-{round_no}.git"
            subprocess.run(["git", "init", "-q", "--bare", str(fi_repo)], check=True)
            start = time.perf_counter()
            _git(fi_repo, "fast-import", "--quiet", data=stream)
            rates["fast_import"].append(n / (time.perf_counter() - start))

            device = self._device(f"ingest-single-{round_no}")
            with self._burst(mirror_seconds["single"]):
                start = time.perf_counter()
                for body in bodies:
                    versions.write_version(self.user, device.id, body)
                rates["single"].append(n / (time.perf_counter() - start))

            device = self._device(f"ingest-import-{round_no}")
            head = device.head_commit
            with self._burst(mirror_seconds["import"]):
                start = time.perf_counter()
                for first in range(0, n, IMPORT_BATCH):
                    result = versions.import_versions(
                        self.user, device.id, {"versions": bodies[first:first + IMPORT_BATCH], "parent": head})
                    head = result["head"]
                rates["import"].append(n / (time.perf_counter() - start))
            assert device.version_count == n + 1, device.version_count
            shutil.rmtree(fi_repo, ignore_errors=True)

        def ratio(path: str) -> float:
            return statistics.median(ours / theirs for ours, theirs in zip(rates[path], rates["fast_import"],
                                                                            strict=True))

        single, batch = ratio("single"), ratio("import")
        self.results.update({
            "ingest.commits": n,
            "ingest.rounds": rounds,
            "ingest.import_batch": IMPORT_BATCH,
            "ingest.fast_import_per_s": round(statistics.median(rates["fast_import"]), 1),
            "ingest.single_per_s": round(statistics.median(rates["single"]), 1),
            "ingest.import_per_s": round(statistics.median(rates["import"]), 1),
            # The coalesced mirror run each burst caused (a worker's job in production, off the write path).
            "ingest.single_mirror_s": round(statistics.median(mirror_seconds["single"]), 2),
            "ingest.import_mirror_s": round(statistics.median(mirror_seconds["import"]), 2),
            # One versions-service write (one API request) per version.
            "ingest.single_ratio_vs_fast_import": round(single, 3),
            # The batch import service, IMPORT_BATCH versions per call.
            "ingest.import_ratio_vs_fast_import": round(batch, 3),
            # The key issue 4 names, and its target: defined as the import path's ratio (see README).
            "ingest.ratio_vs_fast_import": round(batch, 3),
        })

    def _writer(self, device_id: str, bodies: list[dict], start: threading.Barrier, ends: list[float]) -> None:
        """One writer thread: its own app and request context (so its own SQL session, and its
        mirror jobs deferred as in `_burst`), one `versions.write_version` per version."""
        from app.extensions import db
        from app.models import User
        from app.services import versions

        with self.app.test_request_context("/"):
            user = db.session.get(User, self.user.id)
            try:
                start.wait()
                for body in bodies:
                    versions.write_version(user, device_id, body)
                ends.append(time.perf_counter())
            finally:
                db.session.remove()

    def concurrent(self) -> None:
        """WRITERS writers on WRITERS devices at once, against one writer doing as many writes.

        Each write is the single-write path (`versions.write_version`, durable before it returns);
        what concurrency can share is the filesystem barriers (gitstore.durability's group
        commit) and the waits. Rounds alternate the two sides; the ratio is per round, median.
        """
        per_writer, rounds = self.size["concurrent"], self.size["ingest_rounds"]
        total = per_writer * WRITERS
        lines = _config(self.size["config_lines"], self.rng)
        texts = []
        for i in range(total):
            lines = _mutate(lines, 3, self.rng, i)
            texts.append(_text(lines).decode())
        bodies = [{"message": f"version {i}", "configs": {"running-config": t}} for i, t in enumerate(texts)]
        rates: dict[str, list[float]] = {"single": [], "concurrent": []}
        from app.extensions import db

        for round_no in range(rounds):
            device = self._device(f"concurrent-single-{round_no}")
            start = threading.Barrier(2)
            ends: list[float] = []
            thread = threading.Thread(target=self._writer, args=(device.id, bodies, start, ends))
            thread.start()
            start.wait()
            began = time.perf_counter()
            thread.join()
            rates["single"].append(total / (ends[0] - began))

            devices = [self._device(f"concurrent-{round_no}-{i}") for i in range(WRITERS)]
            db.session.commit()  # this thread's session holds no connection or lock while they write
            start = threading.Barrier(WRITERS + 1)
            ends = []
            threads = [threading.Thread(target=self._writer,
                                        args=(d.id, bodies[i * per_writer:(i + 1) * per_writer], start, ends))
                       for i, d in enumerate(devices)]
            for thread in threads:
                thread.start()
            start.wait()
            began = time.perf_counter()
            for thread in threads:
                thread.join()
            assert len(ends) == WRITERS, "a writer failed"
            rates["concurrent"].append(total / (max(ends) - began))
        ratio = statistics.median(c / s for c, s in zip(rates["concurrent"], rates["single"], strict=True))
        self.results.update({
            "ingest.concurrent_writes": total,
            "ingest.concurrent_single_per_s": round(statistics.median(rates["single"]), 1),
            "ingest.concurrent16_per_s": round(statistics.median(rates["concurrent"]), 1),
            "ingest.concurrent16_ratio_vs_single": round(ratio, 3),
        })

    def history(self) -> None:
        """History pages through the real request path: `GET /api/v1/devices/<id>/versions` with a
        token (authentication, the team access check, the SQL page, the author lookup of every
        row, the JSON answer), against `git log` of the same pages."""
        from app.extensions import db
        from app.services import commit_index, tokens, versions
        from app.services.gitstore_bridge import repo_path

        total, deep, repeat = self.size["history"], self.size["deep"], self.size["repeat"]
        device = self._device("history")
        repo = repo_path(device)
        # Every commit changes the running config; every 10th also a second file, for the path page.
        history = []
        for i in range(total - 1):
            files = {"configs/running-config": f"hostname bench\nversion {i}\n".encode()}
            if i % 10 == 0:
                files["configs/startup-config"] = f"startup {i}\n".encode()
            history.append(files)
        # Authored by the bench user's pseudonym, so every row's author is looked up as a person.
        author = f"{self.user.author_name} <{self.user.author_email}>"
        _git(repo, "fast-import", "--quiet", data=_fast_import_stream(history, device.head_commit, author=author))
        commit_index.rebuild_device(device)
        token = tokens.create_token(self.user, "bench", ["read"]).secret
        db.session.commit()
        assert device.version_count == total, device.version_count
        client = self.app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/devices/{device.id}/versions"

        def page(**params: object) -> dict:
            # In an empty context, as a server runs each request: its own app context, session and
            # pooled connection, checked out and handed back. (The bench runs inside an app context,
            # which the test client would otherwise reuse, session, connection and loaded user too.)
            response = contextvars.Context().run(client.get, url, query_string={"limit": PAGE, **params},
                                                 headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            return response.get_json()

        fmt = "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%s"
        # The cursor of a page `deep` versions down (the API serves at most 200 per page).
        cursor = versions.history(self.user, device.id, None, deep, None)["next_cursor"]

        def check(items: list[dict], expected: list[bytes]) -> None:
            got = [item["commit"] for item in items]
            want = [line.split(b"\0", 1)[0].decode() for line in expected if line]
            assert got == want, "our page and git's differ"
            assert all(item["author"]["username"] == self.user.username for item in items)

        check(page()["items"], _git(repo, "log", "-n", str(PAGE), fmt).splitlines())
        check(page(cursor=cursor)["items"], _git(repo, "log", "-n", str(PAGE), f"--skip={deep}", fmt).splitlines())
        path = "configs/startup-config"
        check(page(path=path)["items"], _git(repo, "log", "-n", str(PAGE), fmt, "--", path).splitlines())

        pairs = {
            "newest50": (lambda: page(), lambda: _git(repo, "log", "-n", str(PAGE), fmt)),
            "deep_page": (lambda: page(cursor=cursor),
                          lambda: _git(repo, "log", "-n", str(PAGE), f"--skip={deep}", fmt)),
            "path": (lambda: page(path=path), lambda: _git(repo, "log", "-n", str(PAGE), fmt, "--", path)),
        }
        ours, git = {}, {}
        for key, (request, log) in pairs.items():
            ours[key], git[key] = paired_median_ms(request, log, repeat)
        self.results.update({
            "history.versions": total,
            "history.newest50_ms": round(ours["newest50"], 2),
            "history.deep_page_ms": round(ours["deep_page"], 2),
            "history.path_ms": round(ours["path"], 2),
            "history.git_newest50_ms": round(git["newest50"], 2),
            "history.git_deep_page_ms": round(git["deep_page"], 2),
            "history.git_path_ms": round(git["path"], 2),
            "history.ratio_vs_git_log": round(max(ours[k] / git[k] for k in ours), 3),
        })

    def diff(self) -> None:
        from app.services import versions
        from app.services.gitstore_bridge import repo_path

        count, repeat = self.size["diff_lines"], self.size["repeat"]
        changed = count // 100
        device = self._device("diff")
        old_lines = _config(count, self.rng)
        new_lines = _mutate(old_lines, changed, self.rng, 0)
        a, _ = versions.write_version(self.user, device.id,
                                      {"message": "a", "configs": {"big": _text(old_lines).decode()}})
        b, _ = versions.write_version(self.user, device.id,
                                      {"message": "b", "configs": {"big": _text(new_lines).decode()}})
        old, new = a["commit"], b["commit"]
        result = versions.diff_device(device, old, new)
        big = result.files[0]
        assert not big.too_large and big.additions == changed and big.deletions == changed, big
        repo = repo_path(device)

        def ours() -> None:
            versions.diff_json(versions.diff_device(device, old, new))

        ours_ms = median_ms(ours, repeat)
        git_ms = median_ms(lambda: _git(repo, "diff", old, new), repeat)
        self.results.update({
            "diff.lines": count,
            "diff.changed_lines": changed,
            "diff.ms": round(ours_ms, 2),
            "diff.git_ms": round(git_ms, 2),
            "diff.ratio_vs_git_diff": round(ours_ms / git_ms, 3),
        })

    def pages(self) -> None:
        from app.bench.pages import measure_pages

        measure_pages(self)

    def run(self, parts: frozenset[str] = PARTS) -> dict[str, Any]:
        steps = [getattr(self, name) for name in IN_APP_PARTS if name in _with_prerequisites(parts)]
        with self.app.app_context():
            self._setup()
            for step in steps:
                started = time.perf_counter()
                step()
                print(f"  {step.__name__} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        return self.results


TARGETS = {
    "ingest.ratio_vs_fast_import": (">=", 0.75),
    "ingest.concurrent16_ratio_vs_single": (">=", 3.0),
    "history.newest50_ms": ("<", 10.0),
    "history.deep_page_ms": ("<", 10.0),
    "history.path_ms": ("<", 10.0),
    "history.ratio_vs_git_log": ("<=", 1.0),
    "diff.ratio_vs_git_diff": ("<=", 1.0),  # with word-level marks on (issue 11)
    "pages.version_10k_ms": ("<", 50.0),
    "pages.compare_10k_ms": ("<", 50.0),
    "pages.version_50k_lines_ms": ("<", 50.0),
    "pages.config_50k_last_page_ms": ("<", 50.0),
    "pages.compare_50k_1pct_ms": ("<", 50.0),
    "pages.compare_50k_10pct_ms": ("<", 50.0),
    "clone.ratio_vs_http_backend": (">=", 0.8),
    "clone.noop_fetch_ms": ("<", 150.0),
    **SEARCH_TARGETS,
}


def meets(key: str, value: float) -> bool:
    op, bound = TARGETS[key]
    return value >= bound if op == ">=" else value < bound if op == "<" else value <= bound


def _with_prerequisites(parts: frozenset[str]) -> frozenset[str]:
    # The page timings use the history and diff devices those parts build.
    return parts | {"history", "diff"} if "pages" in parts else parts


def parse_parts(text: str | None) -> frozenset[str]:
    """`--only ingest,history`: the parts to run (all of them when not given)."""
    if not text:
        return PARTS
    wanted = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = wanted - PARTS
    if unknown or not wanted:
        raise ValueError(f"unknown bench part(s): {', '.join(sorted(unknown)) or '(none)'}; "
                         f"choose from {', '.join(sorted(PARTS))}")
    return wanted


def run(mode: str = "quick", parts: frozenset[str] = PARTS) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {}
    if _with_prerequisites(parts) & set(IN_APP_PARTS):
        bench = Bench(mode)
        try:
            results = bench.run(parts)
        finally:
            bench.close()
    if "clone" in parts:
        from app.bench.clone import run_clone_bench

        results.update(run_clone_bench(quick=mode != "full", commits=200 if mode == "tiny" else None))
    if "search" in parts:
        from app.bench.search import run_search_bench

        results.update(run_search_bench(mode, os.environ.get("DATABASE_URL")))
    results["mode"] = mode
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["targets_met"] = all(meets(key, results[key]) for key in TARGETS if key in results)
    return results


def main(mode: str = "quick", json_path: str | None = None, parts: frozenset[str] = PARTS) -> int:
    results = run(mode, parts)
    print(f"{'measure':<32} {'value':>12}  target")
    for key in (key for key in KEYS if key in results):
        target = TARGETS.get(key)
        mark = ""
        if target:
            mark = f"{target[0]} {target[1]}  {'ok' if meets(key, results[key]) else 'MISSED'}"
        print(f"{key:<32} {results[key]:>12}  {mark}")
    print(f"{mode} run in {results['seconds']} s; all targets met: {results['targets_met']}")
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0
