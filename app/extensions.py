"""The Flask extensions, created once and bound to an app in create_app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.models.base import Base

# Objects stay loaded after commit: a request that commits and then renders needs no reload queries.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
# Only the explicit per-route limits of app/http/rate_limits.py apply; storage is set per app.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
