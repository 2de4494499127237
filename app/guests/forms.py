"""Forms on the guest pages. Each carries a request key so a double submit starts one task."""

import re
from uuid import uuid4

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NoneOf,
    NumberRange,
    Regexp,
)

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


class ConfigForm(ActionForm):
    """A guest's settings; the hidden `was_*` fields and `digest` are what the form was opened
    with, so a change made meanwhile is found and never overwritten."""

    cores = IntegerField("Cores", validators=[InputRequired(), NumberRange(1, 512)])
    memory = IntegerField("Memory (MiB)", validators=[InputRequired(), NumberRange(16, 16_777_216)])
    disk = IntegerField(
        "Disk (GiB, grow only)", validators=[InputRequired(), NumberRange(0, 131_072)]
    )
    description = TextAreaField("Description", validators=[Length(max=8000)])
    onboot = BooleanField("Start when its node boots")
    tags = StringField(
        "Tags (admins; separated by ;)",
        validators=[
            Length(max=500),
            Regexp(r"^[a-z0-9_+.;-]*$", message="Lower-case tags, ; between."),
        ],
    )
    digest = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{40}$")])
    was_cores = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    was_memory = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    was_disk = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    # A text area (kept out of sight): a description has line breaks, a hidden input none.
    was_description = TextAreaField(validators=[Length(max=8000)])
    was_onboot = HiddenField(validators=[Regexp(r"^[01]$")])
    was_tags = HiddenField(validators=[Length(max=500)])


BACKUP_OPERATIONS = ("restore", "restore-new", "delete", "protect", "unprotect")


class BackupActionForm(ActionForm):
    """One operation on one listed backup; restoring over the guest needs its name typed."""

    volid = HiddenField(validators=[InputRequired(), Length(max=500)])
    operation = HiddenField(validators=[InputRequired(), AnyOf(BACKUP_OPERATIONS)])
    confirm_name = StringField("Type the guest's name to confirm", validators=[Length(max=128)])


class OwnerForm(PortalForm):
    user_id = SelectField("Assigned to", coerce=int)

    def offer(self, users) -> None:
        """Choices: nobody (admins only), or one of users."""
        self.user_id.choices = [SelectChoice(0, "nobody (admins only)")] + [
            SelectChoice(u.id, u.username) for u in users
        ]
