"""Flask extensions, created unbound here and bound to the app in the factory (Flask-Migrate
is app.schema's, loaded only where it is used)."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for the portal's typed models."""


db = SQLAlchemy(model_class=Base)
# The models' base class. db.Model is Base with Flask-SQLAlchemy's additions, but as an
# attribute it is no base class a type checker can follow: it checks against Base instead.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
sock = Sock()  # websockets (the consoles); needs gunicorn's gthread workers
