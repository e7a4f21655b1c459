"""Flask-WTF forms of the inventory pages; the service layer does the real validation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.i18n import VALUE_LABELS
from app.models import PROJECT_STATUSES, TASK_STATUSES


def _choices(values: tuple[str, ...]) -> list[SelectChoice]:
    # Shown in the reader's language; the values stay English (they are the API's too).
    return [SelectChoice(value, VALUE_LABELS.get(value, value.replace("_", " "))) for value in values]


class ProjectForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    status = SelectField(_l("Status"), choices=_choices(PROJECT_STATUSES), default="active")
    metadata = TextAreaField(_l("Metadata (a JSON object, optional)"), validators=[Optional()],
                             render_kw={"rows": 4, "placeholder": '{"site": "PAR1", "contract": "C-42"}'})


class NetworkForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])
    cidr = StringField(_l("CIDR"), validators=[DataRequired(_l("CIDR is required."))],
                       render_kw={"placeholder": _l("10.0.0.0/24 or 2001:db8::/48")})
    description = TextAreaField(_l("Description"), validators=[Optional()], render_kw={"rows": 2})
    documentation = TextAreaField(_l("Documentation (Markdown)"), validators=[Optional()], render_kw={"rows": 8})
    topology_notes = TextAreaField(_l("Topology notes"), validators=[Optional()], render_kw={"rows": 4})
    vlans = TextAreaField(_l("VLANs, one per line: id, name, description"), validators=[Optional()],
                          render_kw={"rows": 5, "placeholder": "10, mgmt, management\n20, users"})


class TaskForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Title is required.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional()], render_kw={"rows": 4})
    status = SelectField(_l("Status"), choices=_choices(TASK_STATUSES), default="todo")
    assignee = SelectField(_l("Assignee"), choices=[SelectChoice("", _l("nobody"))], validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])
    device_id = SelectField(_l("Device"), choices=[SelectChoice("", _l("none"))], validate_choice=False)


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(_l("Write a comment first."))], render_kw={"rows": 3})


class ProjectDeleteForm(FlaskForm):
    cascade = BooleanField(_l("Also delete its devices and their history"))
