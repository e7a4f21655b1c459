"""Flask-WTF forms of the inventory pages; the service layer does the real validation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.models import PROJECT_STATUSES, TASK_STATUSES


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required."), Length(max=100)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    status = SelectField("Status", choices=_choices(PROJECT_STATUSES), default="active")
    metadata = TextAreaField("Metadata (a JSON object, optional)", validators=[Optional()],
                             render_kw={"rows": 4, "placeholder": '{"site": "PAR1", "contract": "C-42"}'})


class NetworkForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required."), Length(max=100)])
    cidr = StringField("CIDR", validators=[DataRequired("CIDR is required.")],
                       render_kw={"placeholder": "10.0.0.0/24 or 2001:db8::/48"})
    description = TextAreaField("Description", validators=[Optional()], render_kw={"rows": 2})
    documentation = TextAreaField("Documentation (Markdown)", validators=[Optional()], render_kw={"rows": 8})
    topology_notes = TextAreaField("Topology notes", validators=[Optional()], render_kw={"rows": 4})
    vlans = TextAreaField("VLANs, one per line: id, name, description", validators=[Optional()],
                          render_kw={"rows": 5, "placeholder": "10, mgmt, management\n20, users"})


class TaskForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Title is required."), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional()], render_kw={"rows": 4})
    status = SelectField("Status", choices=_choices(TASK_STATUSES), default="todo")
    assignee = SelectField("Assignee", choices=[("", "nobody")], validate_choice=False)
    due_date = DateField("Due date", validators=[Optional()])
    device_id = SelectField("Device", choices=[("", "none")], validate_choice=False)


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired("Write a comment first.")], render_kw={"rows": 3})


class ProjectDeleteForm(FlaskForm):
    cascade = BooleanField("Also delete its devices and their history")
