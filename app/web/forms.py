"""Flask-WTF forms: every form carries a CSRF token and reports errors per field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

ROLE_CHOICES = [("viewer", "Viewer"), ("editor", "Editor"), ("admin", "Admin"), ("owner", "Owner")]


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Email is required.")])
    username = StringField("Username", validators=[DataRequired("Username is required.")])
    password = PasswordField("Password", validators=[DataRequired("Password is required.")])
    age_confirmed = BooleanField("I am 16 or older")


class LoginForm(FlaskForm):
    login = StringField("Email or username", validators=[DataRequired("Enter your email or username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in")


class ProfileForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Email is required.")])
    username = StringField("Username", validators=[DataRequired("Username is required.")])
    display_name = StringField("Display name", validators=[Optional(), Length(max=100)])
    company = StringField("Company", validators=[Optional(), Length(max=100)])
    job_title = StringField("Role or job title", validators=[Optional(), Length(max=100)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password.")])


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[DataRequired("Name is required."), Length(max=100)])


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Email is required.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required."), Length(max=100)])
    scopes = SelectField("Scopes", choices=[("read", "read"), ("read,write", "read and write")], default="read")
    expires_on = DateField("Expires on (optional)", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A POST button: nothing but the CSRF token."""


DEVICE_STATUS_CHOICES = [("planned", "Planned"), ("active", "Active"), ("spare", "Spare"),
                         ("decommissioned", "Decommissioned")]


class DeviceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required."), Length(max=100)])
    vendor = StringField("Vendor", validators=[Optional(), Length(max=100)])
    model = StringField("Model", validators=[Optional(), Length(max=100)])
    serial = StringField("Serial number", validators=[Optional(), Length(max=100)])
    management_ips = StringField("Management IPs (comma separated)", validators=[Optional(), Length(max=1200)])
    location = StringField("Location", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=DEVICE_STATUS_CHOICES, default="active")
    custom_fields = TextAreaField("Custom fields (one key=value per line)", validators=[Optional()])


class VersionForm(FlaskForm):
    config_name = StringField("Config name", default="running-config",
                              validators=[DataRequired("A config name is required."), Length(max=255)])
    content = TextAreaField("Content (or upload a file below)", validators=[Optional()])
    upload = FileField("File")
    message = StringField("Message", validators=[DataRequired("A message is required."), Length(max=10000)])


class TagForm(FlaskForm):
    name = StringField("Tag name", validators=[DataRequired("A name is required."), Length(max=100)])
    rev = StringField("Version", default="HEAD", validators=[Optional(), Length(max=100)])
    message = StringField("Message", validators=[Optional(), Length(max=10000)])


class PhotoForm(FlaskForm):
    file = FileField("Photo (JPEG, PNG or WebP)")
    caption = StringField("Caption", validators=[Optional(), Length(max=1000)])
    # The privacy choice is visible and on by default; unticking it keeps the GPS position.
    strip_location = BooleanField("Remove location data (recommended)", default=True)


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password to confirm.")])


THEME_CHOICES = [("light", "Light"), ("dark", "Dark")]
LANGUAGE_CHOICES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]


class PreferencesForm(FlaskForm):
    theme = SelectField("Theme", choices=THEME_CHOICES, default="light")
    language = SelectField("Language", choices=LANGUAGE_CHOICES, default="en")


class BillingTeamForm(FlaskForm):
    team = HiddenField(validators=[DataRequired("Which team?")])


class CheckoutForm(BillingTeamForm):
    plan = SelectField("Plan", choices=[("pro", "Pro"), ("team", "Team")],
                       validators=[DataRequired("Choose a plan.")])
