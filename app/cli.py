"""The `infratrace` command: serve, worker, migrate, and maintenance entry points."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.config import Config


def cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    from app.migrate import upgrade

    upgrade(config.database_url)
    print(f"Database is at the latest schema ({_redacted(config.database_url)}).")
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from gunicorn.app.base import BaseApplication

    from app import create_app

    host = args.host
    port = args.port or config.port
    if args.port and not os.environ.get("PUBLIC_URL"):
        # Links and clone URLs must name the port actually served.
        config = config.with_changes(public_url=f"http://{host}:{port}")

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # Threads, so one long clone or export does not block every other request.
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 600)
            self.cfg.set("accesslog", "-")
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # Each worker writes its metric values to files in that folder; a dead worker's
                # live gauges are dropped so /metrics sums only what still runs.
                self.cfg.set("child_exit", _prometheus_child_exit)

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(config)

    _reconcile_at_startup(config)
    print(f"InfraTrace is serving on http://{host}:{port}", flush=True)
    Server().run()
    return 0


def _prometheus_child_exit(_server, worker) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _reconcile_at_startup(config: Config) -> None:
    """Repos touched in the last day are compared with SQL before anything is served: a crash
    between a ref move and its SQL commit is repaired (index, audit, mirror) at once."""
    from app import create_app
    from app.services.reconcile import reconcile_recent

    with create_app(config).app_context():
        repairs = reconcile_recent("startup")
    if repairs:
        print(f"Reconciled {len(repairs)} device(s) whose git and SQL had drifted.", flush=True)


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    if not config.redis_url:
        print("REDIS_URL is not set: jobs run in-process in the web server, no worker is needed.",
              file=sys.stderr)
        return 2
    from app import create_app
    from workers.runner import run_worker

    # The entry point builds the app; the worker package never imports the app factory (it sits
    # beside the web faces, and must not depend on them: see .importlinter).
    _reconcile_at_startup(config)
    return run_worker(create_app(config), config, burst=args.burst)


def cmd_reindex(args: argparse.Namespace, config: Config) -> int:
    from app import create_app
    from app.services.commit_index import reindex

    app = create_app(config)
    with app.app_context():
        try:
            devices, commits = reindex(args.device)
        except LookupError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    print(f"Reindexed {devices} device(s), {commits} commit(s).")
    return 0


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from app.bench import main as bench_main
    from app.bench import parse_parts

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    try:
        parts = parse_parts(args.only)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return bench_main(mode, args.json, parts)


def _in_app(config: Config):  # type: ignore[no-untyped-def]
    from app import create_app

    return create_app(config).app_context()


def cmd_sweep(args: argparse.Namespace, config: Config) -> int:
    from app.services.reconcile import reconcile_recent
    from workers.schedule import schedule_maintenance, sweep_mirrors

    with _in_app(config):
        repairs = reconcile_recent("sweep")
        mirrors = sweep_mirrors()
        maintained = schedule_maintenance()
    print(f"{len(repairs)} device(s) reconciled, {mirrors} mirror(s) and {len(maintained)} maintenance run(s) "
          "enqueued.")
    return 0


def cmd_scheduler(args: argparse.Namespace, config: Config) -> int:
    from workers.schedule import run_scheduler

    with _in_app(config):
        run_scheduler()
    return 0


def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    from workers.restore import restore_devices

    with _in_app(config):
        failures = restore_devices(args.team, args.device, verify=args.verify)
    return 1 if failures else 0


def cmd_purge(args: argparse.Namespace, config: Config) -> int:
    from app.services.purge import purge

    with _in_app(config):
        summary = purge()
    print(f"Purged {summary}.")
    return 0


def cmd_billing_sync(args: argparse.Namespace, config: Config) -> int:
    if not config.stripe_secret_key:
        print("STRIPE_SECRET_KEY is not set: billing is off, every team is unlimited.", file=sys.stderr)
        return 2
    from app.services.billing import reconcile

    with _in_app(config):
        summary = reconcile()
    print(f"Billing sync: {summary['teams']} paying team(s) re-read from Stripe, "
          f"{summary['repaired']} repaired, {summary['failed']} failed.")
    return 1 if summary["failed"] else 0


class _ProgressBar:
    """A one-line progress bar on a terminal (nothing when output is piped or logged)."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream
        self.enabled = stream.isatty()
        self.stage = ""

    def __call__(self, done: int, total: int, stage: str) -> None:
        if not self.enabled:
            return
        if stage != self.stage and self.stage:
            self.stream.write("\n")
        self.stage = stage
        width = 30
        filled = width * done // total if total else width
        self.stream.write(f"\r{stage:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
            self.stage = ""
        self.stream.flush()


def cmd_import_git(args: argparse.Namespace, config: Config) -> int:
    from pathlib import Path

    from app.services.errors import ServiceError
    from app.services.git_import import import_git

    with _in_app(config):
        try:
            summary = import_git(Path(args.source), args.project, username=args.user, config_name=args.config,
                                 progress=_ProgressBar(sys.stderr))
        except ServiceError as exc:
            print(f"import-git: {exc.message}", file=sys.stderr)
            return 1
    print(summary.text())
    return 0


def cmd_notify_policy_change(args: argparse.Namespace, config: Config) -> int:
    from app.extensions import db
    from app.services.errors import ServiceError
    from app.services.policy import publish

    try:
        summary = Path(args.summary).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"Cannot read the summary file {args.summary}: {exc}", file=sys.stderr)
        return 2
    with _in_app(config):
        try:
            mailed = publish(args.version, summary)
        except ServiceError as exc:
            db.session.rollback()
            print(exc.message, file=sys.stderr)
            return 2
        db.session.commit()
    print(f"Policy version {args.version} published; {mailed} active user(s) notified by email. "
          "Each sees an in-app banner until they dismiss it.")
    return 0


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infratrace", description="InfraTrace service commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    serve = sub.add_parser("serve", help="serve the web app and API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run an RQ worker for background jobs")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.set_defaults(func=cmd_worker)
    reindex = sub.add_parser("reindex", help="rebuild the SQL commit index from the device repositories "
                             "(and repair audit and mirror where git and SQL drifted)")
    reindex.add_argument("--device", help="only this device id")
    reindex.set_defaults(func=cmd_reindex)
    bench = sub.add_parser("bench", help="measure writes, history and diffs against git itself")
    size = bench.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller data, well under 3 minutes")
    size.add_argument("--tiny", action="store_true", help="a few seconds: checks the bench runs")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--only", metavar="PARTS", help="comma-separated parts to run: ingest, concurrent, "
                       "history, diff, pages, clone, search (default: all)")
    bench.set_defaults(func=cmd_bench)

    sub.add_parser("sweep", help="enqueue lagging mirrors and a maintenance slice once (for cron)").set_defaults(
        func=cmd_sweep)
    sub.add_parser("scheduler", help="run the periodic schedule (mirror sweep, maintenance) forever").set_defaults(
        func=cmd_scheduler)
    restore = sub.add_parser("restore", help="rebuild repos and photo blobs from object storage")
    restore.add_argument("--team", metavar="SLUG", help="only this team's devices")
    restore.add_argument("--device", metavar="ID", help="only this device")
    restore.add_argument("--verify", action="store_true",
                         help="compare refs with the database and run git fsck; exit 1 on any mismatch")
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("purge", help="remove deleted accounts past their 30 days, their teams' data, expired exports"
                   ).set_defaults(func=cmd_purge)
    sub.add_parser("billing-sync", help="re-read every paying team's subscription from Stripe, repair local state"
                   ).set_defaults(func=cmd_billing_sync)
    imports = sub.add_parser("import-git", help="import an Oxidized or RANCID git repository with its history")
    imports.add_argument("source", help="path of the source git repository")
    imports.add_argument("--project", required=True, metavar="ID", help="the project that receives the devices")
    imports.add_argument("--user", metavar="USERNAME", help="act as this user (default: the team's first owner)")
    imports.add_argument("--config", default="running-config", metavar="NAME",
                         help="the config name each file becomes (default: running-config)")
    imports.set_defaults(func=cmd_import_git)
    notify = sub.add_parser("notify-policy-change",
                            help="publish a privacy-policy version: email every active user, show a banner")
    notify.add_argument("--version", required=True, metavar="DATE", help="the version's date, e.g. 2026-12-01")
    notify.add_argument("--summary", required=True, metavar="FILE", help="a text file: what changes, in brief")
    notify.set_defaults(func=cmd_notify_policy_change)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The bench builds its own data in a temporary folder and never touches the configured stores.
    config = None if args.command == "bench" else Config.from_env()
    return args.func(args, config)


if __name__ == "__main__":
    sys.exit(main())
