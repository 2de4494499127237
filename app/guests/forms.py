"""Forms on the guest pages. Each carries a request key so a double submit starts one task."""

import re
from uuid import uuid4

from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NoneOf, Regexp

from app.models import GUEST_NAME_MAX
from app.validation import PortalForm

SNAPSHOT_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"  # PVE's configid format
BACKUP_MODES = [
    SelectChoice("snapshot", "Snapshot (no downtime)"),
    SelectChoice("suspend", "Suspend"),
    SelectChoice("stop", "Stop"),
]
COMPRESSIONS = [
    SelectChoice("zstd", "ZSTD (fast and good)"),
    SelectChoice("lzo", "LZO (fastest)"),
    SelectChoice("gzip", "GZIP"),
    SelectChoice("0", "None"),
]


def valid_snapshot_name(name: str) -> bool:
    """PVE's rule for snapshot names: a letter, then letters, digits, '-' or '_'; 40 at most."""
    return len(name) <= 40 and re.fullmatch(SNAPSHOT_NAME, name) is not None


def new_request_key() -> str:
    """A one-time key for a rendered action form (also the `new_request_key()` template global)."""
    return uuid4().hex


class ActionForm(PortalForm):
    """A button that starts a task; the hidden key is new each time the form is shown."""

    request_key = HiddenField(
        default=new_request_key,
        # InputRequired: the key must come from the submitted form, never from the default.
        validators=[InputRequired(), Length(max=64), Regexp(r"^[0-9a-f]+$")],
    )


class DeleteForm(ActionForm):
    confirm_name = StringField(
        "Type the guest's name to confirm", validators=[DataRequired(), Length(max=GUEST_NAME_MAX)]
    )


class SnapshotForm(ActionForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired(),
            Length(max=40, message="At most 40 characters."),
            Regexp(
                SNAPSHOT_NAME,
                message="Start with a letter; then use letters, digits, '-' and '_' only.",
            ),
            NoneOf(
                ["current", "pending", "vzdump"],
                message="Proxmox VE reserves 'current', 'pending' and 'vzdump'.",
            ),
        ],
    )
    description = TextAreaField("Description (optional)", validators=[Length(max=1000)])
    with_ram = BooleanField("Include RAM (running VMs only)")


class BackupForm(ActionForm):
    storage = SelectField("Storage", validators=[DataRequired()])
    mode = SelectField("Mode", choices=BACKUP_MODES, default="snapshot")
    compress = SelectField("Compression", choices=COMPRESSIONS, default="zstd")


class OwnerForm(PortalForm):
    user_id = SelectField("Assigned to", coerce=int)

    def offer(self, users) -> None:
        """Choices: nobody (admins only), or one of users."""
        self.user_id.choices = [SelectChoice(0, "nobody (admins only)")] + [
            SelectChoice(u.id, u.username) for u in users
        ]
