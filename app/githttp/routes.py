"""The three smart-HTTP endpoints, served by the real git binary.

Order of checks, so nothing leaks: the URL must be one of our endpoints (else 404, before auth);
credentials (401, or 429 when failures exhausted the log-in budget); the repository through the
caller's memberships (404, identical to a repository that does not exist); the action (403, with
a plain-text message git prints as `remote: ...`). Only then is git started.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from flask import Response, current_app, request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from app.extensions import db
from app.githttp import bp
from app.githttp.body import BadBody, BodyTooLarge, spool_body
from app.githttp.hooks import ensure_hooks_dir, home_dir
from app.githttp.paths import GitPath, parse
from app.githttp.runner import CHUNK, GitProcess, base_env, git_command
from app.githttp.wants import wanted_oids
from app.services import device_door, git_access, gitstore_bridge
from app.services.device_door import Actor
from app.services.errors import ServiceError
from app.services.git_access import GitAuthError, GitCaller, GitDenied, GitTarget
from app.services.teams import TeamAccess
from gitstore import DeviceRepo

log = logging.getLogger(__name__)

SERVICES = ("git-upload-pack", "git-receive-pack")
NO_CACHE = {
    "Expires": "Fri, 01 Jan 1980 00:00:00 GMT",
    "Pragma": "no-cache",
    "Cache-Control": "no-cache, max-age=0, must-revalidate",
}
REALM = 'Basic realm="InfraTrace"'
# `version=2`, `version=1:object-format=sha1`: keys and values of safe characters, nothing else.
GIT_PROTOCOL_RE = re.compile(r"[A-Za-z0-9-]+(=[A-Za-z0-9._-]*)?(:[A-Za-z0-9-]+(=[A-Za-z0-9._-]*)?)*")
NOT_FOUND = "Repository not found."
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "MKCOL", "MOVE", "COPY",
               "LOCK", "UNLOCK"]


class GitHTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def text_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """Plain text: git prints such a body line by line as `remote: ...` before its own error."""
    response = Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")
    response.headers.update(NO_CACHE)
    response.headers.update(headers or {})
    if status == 413:
        # The rest of the body is never read: the connection cannot be reused.
        response.headers["Connection"] = "close"
    return response


@bp.errorhandler(GitHTTPError)
def _git_error(exc: GitHTTPError) -> Response:
    db.session.rollback()
    return text_response(exc.status, exc.message, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    db.session.rollback()
    return text_response(exc.code or 500, exc.description or exc.name)


@bp.route("/git", methods=ALL_METHODS, merge_slashes=False)
@bp.route("/git/", methods=ALL_METHODS, merge_slashes=False)
@bp.route("/git/<path:_rest>", methods=ALL_METHODS, merge_slashes=False)
def serve(_rest: str = "") -> Response:
    path = parse(request.path, request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"))
    if path is None:
        raise GitHTTPError(404, "Not found.")
    service = _service(path)
    caller = _authenticate()
    target = git_access.find_repository(caller, path.team, path.project, path.device)
    if target is None:
        raise GitHTTPError(404, NOT_FOUND)
    try:
        git_access.check_read(caller, target)
    except GitDenied as exc:
        raise GitHTTPError(403, str(exc)) from None
    if service == "git-receive-pack":
        # The door's rules (scope, role, archived, plan) answer before git even lists the refs.
        with _door_answers():
            device_door.check_push(_actor(caller), target.device, _access(caller, target))
    repo_dir = _repo_dir(target)
    if path.endpoint == "info/refs":
        return _advertise(service, repo_dir)
    if request.mimetype != f"application/x-{service}-request":
        raise GitHTTPError(415, f"Expected Content-Type application/x-{service}-request.")
    if service == "git-upload-pack":
        return _upload_pack(repo_dir)
    return _receive_pack(repo_dir, caller, target)


def _service(path: GitPath) -> str:
    if path.endpoint == "info/refs":
        service = request.args.get("service")
        # Without ?service= a client asks for the dumb protocol, which serves repository files.
        if request.method != "GET" or service not in SERVICES:
            raise GitHTTPError(404, "Not found. Only git's smart HTTP protocol is served here.")
        return service
    if request.method != "POST":
        raise GitHTTPError(404, "Not found.")
    return path.endpoint


def _authenticate() -> GitCaller:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        raise GitHTTPError(
            401, "Authentication required: your InfraTrace username and a personal access token.",
            {"WWW-Authenticate": REALM},
        )
    try:
        return git_access.authenticate(auth.username, auth.password, ip=request.remote_addr)
    except GitAuthError as exc:
        headers = {"WWW-Authenticate": REALM} if exc.status == 401 else {}
        if exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        db.session.commit()  # keep what token lookup recorded
        raise GitHTTPError(exc.status, exc.message, headers) from None


def _repo_dir(target: GitTarget) -> Path:
    root = gitstore_bridge.repos_root().resolve()
    path = gitstore_bridge.repo_path(target.device).resolve()
    # The stored path must lead into the repos folder; anything else is a damaged row.
    if not path.is_relative_to(root) or not (path / "objects").is_dir():
        log.error("device %s has no usable repository at %s", target.device.id, path)
        raise GitHTTPError(404, NOT_FOUND)
    return path


def _git_protocol(service: str) -> dict[str, str]:
    value = request.headers.get("Git-Protocol")
    if value is None:
        return {}
    if len(value) > 256 or not GIT_PROTOCOL_RE.fullmatch(value):
        raise GitHTTPError(400, "Invalid Git-Protocol header.")
    if service == "git-receive-pack":
        # Push has no protocol v2: receive-pack answers v0 (or v1), so the advertisement keeps
        # its service line whatever the client asked for.
        value = ":".join(p for p in value.split(":") if p != "version=2")
    return {"GIT_PROTOCOL": value} if value else {}


def _wants_v2(env: dict[str, str]) -> bool:
    return "version=2" in env.get("GIT_PROTOCOL", "").split(":")


def _env(service: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    config = current_app.config["INFRATRACE"]
    env = _git_protocol(service)
    env.update(extra or {})
    return base_env(home_dir(config.data_dir), env)


def _start(service: str, repo_dir: Path, env: dict[str, str], *options: str,
           stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> GitProcess:
    config = current_app.config["INFRATRACE"]
    hooks = ensure_hooks_dir(config.data_dir)
    argv = git_command(repo_dir, hooks, service.removeprefix("git-"), *options)
    return GitProcess(argv, env, repo_dir, config.git_timeout_seconds, stdin=stdin, stdout=stdout)


def _stream(process: GitProcess, content_type: str, prefix: bytes = b"") -> Response:
    response = Response(process.stream(prefix), status=200, content_type=content_type, direct_passthrough=True)
    response.headers.update(NO_CACHE)
    # If the server drops the response before iterating it, the generator's own cleanup never
    # runs; this does, so git is always reaped.
    response.call_on_close(process.close)
    return response


def pkt_line(text: str) -> bytes:
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


def _advertise(service: str, repo_dir: Path) -> Response:
    env = _env(service)
    prefix = b"" if _wants_v2(env) else pkt_line(f"# service={service}\n") + b"0000"
    process = _start(service, repo_dir, env, "--advertise-refs")
    return _stream(process, f"application/x-{service}-advertisement", prefix)


def _spooled_body() -> IO[bytes]:
    cap = current_app.config["INFRATRACE"].max_push_bytes
    try:
        return spool_body(request.environ, cap)
    except BodyTooLarge:
        raise GitHTTPError(413, f"The request is larger than the limit of {cap} bytes.") from None
    except BadBody as exc:
        raise GitHTTPError(400, str(exc)) from None
    except ClientDisconnected:
        raise GitHTTPError(400, "The request body ended early.") from None


def _upload_pack(repo_dir: Path) -> Response:
    body = _spooled_body()
    try:
        wants = wanted_oids(body)
        if wants:
            with DeviceRepo.open(repo_dir) as repo:
                refused = repo.unreachable(wants)
            if refused:
                # An ERR packet: git prints "remote error: upload-pack: not our ref <id>", as it
                # does itself for an unreachable want under protocol v0.
                message = pkt_line(f"ERR upload-pack: not our ref {refused[0]}\n")
                response = Response(message, status=200, content_type="application/x-git-upload-pack-result")
                response.headers.update(NO_CACHE)
                return response
        process = _start("git-upload-pack", repo_dir, _env("git-upload-pack"), stdin=body)
    finally:
        body.close()  # git holds its own descriptor of the file
    return _stream(process, "application/x-git-upload-pack-result")


def _actor(caller: GitCaller) -> Actor:
    return Actor(caller.user, frozenset(caller.scopes), "git")


def _access(caller: GitCaller, target: GitTarget) -> TeamAccess:
    return TeamAccess(target.team, target.role, caller.user)


@contextmanager
def _door_answers() -> Iterator[None]:
    """The door's answer (a ServiceError) as plain text with the same status as on the API."""
    try:
        yield
    except ServiceError as exc:
        raise GitHTTPError(exc.status, exc.message, getattr(exc, "headers", None)) from None


def _receive_pack(repo_dir: Path, caller: GitCaller, target: GitTarget) -> Response:
    """git receive-pack through the door (device_door.push): the door checks, locks, records."""
    config = current_app.config["INFRATRACE"]
    body = _spooled_body()
    output = tempfile.TemporaryFile()

    def receive(rules_env: dict[str, str]) -> None:
        try:
            process = _start("git-receive-pack", repo_dir, _env("git-receive-pack", rules_env),
                             stdin=body, stdout=output)
        finally:
            body.close()
        process.wait()

    try:
        with _door_answers():
            device_door.push(_actor(caller), target.device, _access(caller, target), config.max_config_bytes,
                             receive)
    except BaseException:
        output.close()
        raise
    finally:
        if not body.closed:
            body.close()
    output.seek(0)
    response = Response(_file_chunks(output), status=200, content_type="application/x-git-receive-pack-result",
                        direct_passthrough=True)
    response.headers.update(NO_CACHE)
    response.call_on_close(output.close)
    return response


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()
