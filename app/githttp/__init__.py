"""Git's smart HTTP protocol for device repositories: `/git/<team>/<project>/<device>.git`.

Clone, fetch and push are served by the real git binary (`upload-pack` / `receive-pack` with
`--stateless-rpc`), authenticated with a username and personal access token, scoped through the
caller's team memberships, with pushes validated by our pre-receive check before any ref moves.
These routes sit outside the browser's machinery: no session cookie is read or written, no CSRF.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from flask.sessions import SessionInterface, SessionMixin

bp = Blueprint("githttp", __name__)

GIT_PREFIX = "/git"


class _NoSessionOnGit(SessionInterface):
    """Delegates to the app's session interface, except that git requests get no session at all.

    A browser's cookie sent along with a git request is neither read nor refreshed, so a git
    client can never act with someone's web session.
    """

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    @staticmethod
    def _is_git(request: Any) -> bool:
        return request.path == GIT_PREFIX or request.path.startswith(GIT_PREFIX + "/")

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        if self._is_git(request):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        if self.is_null_session(session):
            return None
        return self.inner.save_session(app, session, response)

    def is_null_session(self, obj: object) -> bool:
        return self.inner.is_null_session(obj)

    def make_null_session(self, app: Flask) -> Any:
        return self.inner.make_null_session(app)


def init_app(app: Flask) -> None:
    """Register the git routes: exempt from CSRF, without sessions."""
    from app.extensions import csrf
    from app.githttp import routes  # noqa: F401  (registers the views)

    app.register_blueprint(bp)
    csrf.exempt(bp)
    if not isinstance(app.session_interface, _NoSessionOnGit):
        app.session_interface = _NoSessionOnGit(app.session_interface)
