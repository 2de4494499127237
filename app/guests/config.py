"""The guest's settings page: change cores, memory, disk, description, start on boot, tags."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.guests.forms import ConfigForm
from app.guests.routes import GUEST_URL, bp, page_url
from app.observability.reports import reported_refusal
from app.services import ownership
from app.services.guests import settings
from app.services.guests.settings import Settings
from app.services.quotas import QuotaExceeded


@bp.route(GUEST_URL + "/config", methods=["GET", "POST"])
@login_required
def configure(node: str, guest_type: str, vmid: int):
    """The form, filled from Proxmox; a valid change is applied with the digest it was opened
    with, or comes back with what changed meanwhile."""
    guest, host = ownership.locate(current_user, node, guest_type, vmid)
    form = ConfigForm()
    if not form.is_submitted():
        current = settings.read(guest)
        _fill(form, current, typed=set())
        return render_template("guests/config.html", guest=guest, form=form, current=current)
    outcome = _apply(form, guest, host) if form.validate() else None
    if outcome is not None and outcome.task is not None:
        return redirect(url_for("tasks.show", task_id=outcome.task.id))
    if outcome is not None and outcome.changed:
        flash("Saved: " + ", ".join(outcome.changed) + ".", "success")
        return redirect(request.path)
    if outcome is not None and not (outcome.problems or outcome.stale or form.form_errors):
        flash("Nothing was changed.", "info")
        return redirect(page_url(guest))
    current = settings.read(guest)
    if outcome is not None and outcome.stale:
        _fill(form, current, typed=_typed(form))
    return render_template("guests/config.html", guest=guest, form=form, current=current), 400


def _apply(form: ConfigForm, guest, host) -> settings.Outcome | None:
    """Change the guest; field messages for refusals; None when a quota refused it."""
    try:
        outcome = settings.change(
            current_user, guest, host, _settings(form, ""), _settings(form, "was_"),
            form.digest.data, form.request_key.data,
        )  # fmt: skip
    except QuotaExceeded as refusal:
        form.form_errors.append(reported_refusal(refusal))
        return None
    for name, message in outcome.problems.items():
        form[name].errors = [*form[name].errors, message]
    for name, value in outcome.stale.items():
        message = f"Changed since you opened the form: it is now {_shown(value)}."
        form[name].errors = [*form[name].errors, message]
    return outcome


def _settings(form: ConfigForm, prefix: str) -> Settings:
    def value(name: str):
        return form[prefix + name].data

    tags = value("tags") or ""
    return Settings(
        cores=int(value("cores")), memory=int(value("memory")), disk=int(value("disk")),
        description=(value("description") or "").replace("\r\n", "\n"),
        onboot=value("onboot") in (True, "1"),
        tags=";".join(sorted(t for t in tags.split(";") if t)),
    )  # fmt: skip


def _typed(form: ConfigForm) -> set[str]:
    """The fields the user changed from what the form was opened with."""
    typed, opened = _settings(form, ""), _settings(form, "was_")
    return {name for name in vars(typed) if getattr(typed, name) != getattr(opened, name)}


def _fill(form: ConfigForm, current: settings.Current, typed: set[str]) -> None:
    """The hidden fields (digest, opened values) from Proxmox now, and the visible ones too —
    but what the user typed stays, so they can check it against the new value and save."""
    form.digest.data = current.digest
    for name, value in vars(current.settings).items():
        form["was_" + name].data = ("1" if value else "0") if name == "onboot" else str(value)
        if name not in typed:
            form[name].data, form[name].raw_data = value, None  # raw_data would be shown


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return repr(value) if isinstance(value, str) else str(value)
