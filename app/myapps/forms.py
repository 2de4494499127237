"""The forms on an app's page: clone, its backup schedule, and its update."""

from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange

from app.apps.forms import INPUT_PREFIX, app_name_field, input_field
from app.catalog import Input
from app.guests.forms import ActionForm
from app.services.apps import schedules


class CloneForm(ActionForm):
    name = app_name_field("Name of the copy")
    node = SelectField("Node")


class ScheduleForm(ActionForm):
    schedule = SelectField(
        "Back up",
        choices=[SelectChoice("", "Never (no scheduled backups)")]
        + [SelectChoice(key, words) for key, (words, _) in schedules.SCHEDULES.items()],
    )
    keep = IntegerField(
        "Backups to keep", default=7,
        validators=[InputRequired(), NumberRange(1, schedules.KEEP_MAX)],
    )  # fmt: skip
    storage = SelectField("Storage")


def schedule_form(app, cluster) -> ScheduleForm:
    """The form, its storages those of the app's node that take backups (from the cluster's
    resources the page read already)."""
    current = next(
        (k for k, (_, event) in schedules.SCHEDULES.items() if event == app.backup_schedule), ""
    )
    form = ScheduleForm(schedule=current, keep=app.backup_keep or 7, storage=app.backup_storage)
    names = sorted(s.name for s in cluster.storages if s.node == app.node and "backup" in s.content)
    form.storage.choices = [SelectChoice(name, name) for name in names]
    return form


def update_form(asked: list[Input]) -> type[ActionForm]:
    """The update form's class: a field for each input the new version adds."""

    class Form(ActionForm):
        pass

    for item in asked:
        setattr(Form, INPUT_PREFIX + item.name, input_field(item))
    return Form
