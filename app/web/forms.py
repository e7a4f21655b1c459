"""Flask-WTF forms: every form carries a CSRF token and reports errors per field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

ROLE_CHOICES = [SelectChoice("viewer", _l("Viewer")), SelectChoice("editor", _l("Editor")),
                SelectChoice("admin", _l("Admin")), SelectChoice("owner", _l("Owner"))]


class SignupForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Email is required."))])
    username = StringField(_l("Username"), validators=[DataRequired(_l("Username is required."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Password is required."))])
    age_confirmed = BooleanField(_l("I am 16 or older"))


class LoginForm(FlaskForm):
    login = StringField(_l("Email or username"), validators=[DataRequired(_l("Enter your email or username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me signed in"))


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter the email address of your account."))])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password."))])


class ProfileForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Email is required."))])
    username = StringField(_l("Username"), validators=[DataRequired(_l("Username is required."))])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=100)])
    job_title = StringField(_l("Role or job title"), validators=[Optional(), Length(max=100)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password."))])


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Email is required."))])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="viewer")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])
    scopes = SelectField(_l("Scopes"), default="read",
                         choices=[SelectChoice("read", _l("read")), SelectChoice("read,write", _l("read and write"))])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A POST button: nothing but the CSRF token."""


DEVICE_STATUS_CHOICES = [SelectChoice("planned", _l("Planned")), SelectChoice("active", _l("Active")),
                         SelectChoice("spare", _l("Spare")), SelectChoice("decommissioned", _l("Decommissioned"))]


class DeviceForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name is required.")), Length(max=100)])
    vendor = StringField(_l("Vendor"), validators=[Optional(), Length(max=100)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=100)])
    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=100)])
    management_ips = StringField(_l("Management IPs (comma separated)"), validators=[Optional(), Length(max=1200)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    tags = StringField(_l("Tags (comma separated, for filtering lists)"), validators=[Optional(), Length(max=1100)])
    status = SelectField(_l("Status"), choices=DEVICE_STATUS_CHOICES, default="active")
    custom_fields = TextAreaField(_l("Custom fields (one key=value per line)"), validators=[Optional()])


class VersionForm(FlaskForm):
    config_name = StringField(_l("Config name"), default="running-config",
                              validators=[DataRequired(_l("A config name is required.")), Length(max=255)])
    content = TextAreaField(_l("Content (or upload a file below)"), validators=[Optional()])
    upload = FileField(_l("File"))
    message = StringField(_l("Message"), validators=[DataRequired(_l("A message is required.")), Length(max=10000)])


class TagForm(FlaskForm):
    name = StringField(_l("Tag name"), validators=[DataRequired(_l("A name is required.")), Length(max=100)])
    rev = StringField(_l("Version"), default="HEAD", validators=[Optional(), Length(max=100)])
    message = StringField(_l("Message"), validators=[Optional(), Length(max=10000)])


class PhotoForm(FlaskForm):
    file = FileField(_l("Photo (JPEG, PNG or WebP)"))
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=1000)])
    # The privacy choice is visible and on by default; unticking it keeps the GPS position.
    strip_location = BooleanField(_l("Remove location data (recommended)"), default=True)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(_l("Enter your password to confirm."))])


THEME_CHOICES = [SelectChoice("light", _l("Light")), SelectChoice("dark", _l("Dark"))]
# Only languages with a complete catalogue (app/i18n.py); each named in its own language.
LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]


class PreferencesForm(FlaskForm):
    theme = SelectField(_l("Theme"), choices=THEME_CHOICES, default="light")
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="en")


class BillingTeamForm(FlaskForm):
    team = HiddenField(validators=[DataRequired(_l("Which team?"))])


class CheckoutForm(BillingTeamForm):
    plan = SelectField(_l("Plan"), choices=[SelectChoice("pro", _l("Pro")), SelectChoice("team", _l("Team"))],
                       validators=[DataRequired(_l("Choose a plan."))])
