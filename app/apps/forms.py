"""The deploy form: the same fields for every app, plus the app's own inputs from the catalog."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.catalog import CatalogEntry, Input
from app.exceptions import AppServiceError
from app.guests.forms import ActionForm
from app.models import APP_NAME_MAX
from app.observability.reports import reported_refusal
from app.services import quotas
from app.services.apps import admission
from app.services.apps.deploys import DeployRequest
from app.services.apps.placement import AUTOMATIC, DeployOptions
from app.validation import MAX_ID

DNS_LABEL = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
SSH_KEYS = (
    r"^((ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) "
    r"[A-Za-z0-9+/]+={0,3}( [^\r\n]*)?(\r?\n|$))+$"
)
INPUT_PREFIX = "input_"
ENV_SAFE = r"^[^'\r\n\x00]*$"
NAME_MESSAGE = (
    "Use lower-case letters, digits and '-'; start with a letter, end with a letter or digit."
)


def app_name_field(label: str) -> StringField:
    """An app's name: a DNS label (it is also its guest's name and host name)."""
    return StringField(
        label,
        validators=[
            DataRequired(),
            Length(max=APP_NAME_MAX, message=f"At most {APP_NAME_MAX} characters."),
            Regexp(DNS_LABEL, message=NAME_MESSAGE),
        ],
        description="Also the guest's name and host name.",
    )


class DeployForm(ActionForm):
    runtime = HiddenField(default="vm")
    name = app_name_field("Name")
    node = SelectField("Node")
    storage = SelectField("Storage for its disk")
    cores = IntegerField("Cores", validators=[InputRequired()])
    memory = IntegerField("Memory (MiB)", validators=[InputRequired()])
    disk = IntegerField("Disk (GiB)", validators=[InputRequired()])
    keep_on_failure = BooleanField("If the deploy fails, keep the guest (stopped) to inspect it")

    def app_inputs(self) -> list[Field]:
        return [f for f in self if f.name.startswith(INPUT_PREFIX)]

    def input_values(self) -> dict[str, object]:
        return {f.name.removeprefix(INPUT_PREFIX): f.data for f in self.app_inputs()}


def deploy_form(entry: CatalogEntry, options: DeployOptions, **values) -> DeployForm:
    """The deploy form of one app, its choices and bounds taken from the cluster; values
    replace the app's defaults (for "deploy again")."""

    class Form(DeployForm):
        pass

    if len(entry.versions()) > 1:  # the catalog still offers earlier versions
        newest = [SelectChoice(entry.version, f"{entry.version} (newest)")]
        Form.version = SelectField(
            "Version", choices=newest + [SelectChoice(v, v) for v in entry.older],
            default=entry.version,
            description="An earlier version can be updated to the newest later, from its page.",
        )  # fmt: skip
    for item in entry.form_inputs:
        if options.runtime == "vm" or item.target == "env":  # cloud-init is for VMs
            setattr(Form, INPUT_PREFIX + item.name, input_field(item))
    resources = entry.resources
    defaults = {
        "cores": resources.cores.default, "memory": resources.memory.default,
        "disk": resources.disk.default, "node": AUTOMATIC, "runtime": options.runtime,
    }  # fmt: skip
    form = Form(**{**defaults, **values})
    form.node.choices = [SelectChoice(AUTOMATIC, "Automatic: the node with the most free memory")]
    form.node.choices += [
        SelectChoice(n.name, f"{n.name} ({options.free_memory_mib(n)} MiB free, {n.maxcpu} cores)")
        for n in options.nodes
    ]
    form.storage.choices = [SelectChoice(s, s) for s in options.storage_names()]
    limits = (
        (form.cores, resources.cores.minimum, "cores"),
        (form.memory, resources.memory.minimum, "MiB"),
        (form.disk, resources.disk.minimum, "GiB"),
    )
    for field, minimum, unit in limits:
        field.validators = [
            InputRequired(message="Give a whole number."),
            NumberRange(min=minimum, message=f"{entry.name} needs at least {minimum} {unit}."),
            NumberRange(max=MAX_ID, message=f"At most {MAX_ID} {unit}."),
        ]
    return form


def input_field(item: Input) -> Field:
    """A form field for one catalog input, with its checks."""
    required = [DataRequired()] if item.required else [Optional()]
    checks: list = []
    if item.pattern:
        checks.append(Regexp(item.pattern, message=item.help or f"Match {item.pattern}."))
    if item.target == "env":  # a line of the app's .env, single-quoted (compose_vm.env_text)
        checks.append(Regexp(ENV_SAFE, message="It cannot hold a ' (quote) or a line break."))
    kwargs = {"description": item.help or ""}
    if item.type == "integer":
        low = item.minimum if item.minimum is not None else -MAX_ID
        high = item.maximum if item.maximum is not None else MAX_ID
        return IntegerField(
            item.label, default=item.default, **kwargs,
            validators=[InputRequired() if item.required else Optional(), NumberRange(low, high)],
        )  # fmt: skip
    if item.type == "boolean":
        return BooleanField(item.label, default=bool(item.default), **kwargs)
    if item.type == "choice":
        choices = [SelectChoice(c, c) for c in item.choices or []]
        return SelectField(item.label, choices=choices, default=item.default, **kwargs)
    if item.type == "secret":
        return PasswordField(item.label, validators=[*required, Length(max=256), *checks], **kwargs)
    if item.type == "ssh-key":
        key_check = Regexp(SSH_KEYS, message="Paste OpenSSH public keys, one per line.")
        validators = [*required, Length(max=8000), key_check, *checks]
        return TextAreaField(item.label, validators=validators, **kwargs)
    return StringField(
        item.label, default=item.default, validators=[*required, Length(max=255), *checks],
        **kwargs,
    )  # fmt: skip


def placed(form, options: DeployOptions) -> DeployRequest | None:
    """The deploy asked for on a node and storage that fit it; None with messages on the form
    if none does. The name, limits and quota are checked when it starts (deploys.start)."""
    placement = options.place(
        form.node.data, form.storage.data, form.cores.data, form.memory.data, form.disk.data
    )
    for name, message in placement.problems.items():
        form[name].errors = [*form[name].errors, message]
    if placement.problems:
        return None
    return DeployRequest(
        name=form.name.data, node=placement.node, storage=placement.storage,
        cores=form.cores.data, memory=form.memory.data, disk=form.disk.data,
        inputs=form.input_values(), keep_on_failure=form.keep_on_failure.data,
        runtime=options.runtime, version=form.version.data if "version" in form else None,
    )  # fmt: skip


def show_refusal(form, refusal: AppServiceError) -> int:
    """Put a refused deploy's or clone's reason on its form; the page's status code. A quota
    is reported to Sentry (with the reference on the form); a taken name or a deploy limit
    is the user's to fix."""
    if isinstance(refusal, admission.NameTaken):
        form.name.errors = [*form.name.errors, refusal.message]
    elif isinstance(refusal, quotas.QuotaExceeded):
        form.form_errors.append(reported_refusal(refusal))
    else:
        form.form_errors.append(refusal.message)
    return 429 if isinstance(refusal, admission.TooManyDeploys) else 400
