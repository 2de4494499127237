"""Changing a guest's settings: applied with PVE's digest (a change made meanwhile is shown,
never overwritten), pending until the next start on a running guest, disks only grow, the
node's room and the user's quota are checked, and every change is audited old -> new."""

from __future__ import annotations

from html.parser import HTMLParser

from app.extensions import db
from app.models import AuditEntry, Quota, User
from tests.conftest import log_in
from tests.guests.conftest import last_task, pve_calls, url

CONFIG = url("qemu", 101, suffix="/config")


class Fields(HTMLParser):
    """The named inputs, text areas and checkboxes of a page, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._area: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.values[a["name"]] = a.get("value") or (
                    "y" if a.get("type") == "checkbox" else ""
                )
        elif tag == "textarea":
            self._area = a.get("name")
            self.values[self._area] = ""

    def handle_data(self, data):
        if self._area:
            self.values[self._area] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._area:  # a browser drops the newline that opens a text area
                text = self.values[self._area]
                self.values[self._area] = text.removeprefix("\r\n").removeprefix("\n")
            self._area = None


def form_of(client, path: str = CONFIG) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.data
    parser = Fields()
    parser.feed(page.get_data(as_text=True))
    return parser.values


def save(client, **changes):
    return client.post(CONFIG, data={**form_of(client), **changes})


def audit_details(app) -> list[str]:
    with app.app_context():
        return [e.detail for e in db.session.scalars(db.select(AuditEntry)) if e.action == "config"]


def test_the_form_shows_the_guests_settings(admin_client, guests):
    values = form_of(admin_client)
    assert (values["cores"], values["memory"], values["disk"]) == ("2", "2048", "32")
    assert values["description"] == "The web server" and values["tags"] == "prod;web"
    assert len(values["digest"]) == 40


def test_a_change_is_applied_and_audited_old_to_new(app, admin_client, guests):
    response = save(admin_client, memory="4096", cores="3", onboot="y")
    assert response.status_code == 302
    vm = guests.vm(101)
    assert int(vm.config["memory"]) == 4096 and int(vm.config["cores"]) == 3
    assert str(vm.config["onboot"]) == "1"
    assert audit_details(app) == ["cores 2 → 3, memory 2048 → 4096, onboot False → True"]


def test_a_running_guest_keeps_the_change_pending_until_its_next_start(admin_client, guests):
    guests.vm(101).status = "running"
    save(admin_client, memory="3072")
    assert int(guests.vm(101).config["memory"]) == 2048  # PVE applies it at the next start
    page = admin_client.get(CONFIG).get_data(as_text=True)
    assert "Waiting for the next start of web" in page and "2048 → 3072" in page


def test_a_change_made_meanwhile_is_shown_and_never_overwritten(app, admin_client, guests):
    opened = form_of(admin_client)
    guests.vm(101).config["memory"] = "1024"  # someone else, in Proxmox's own UI
    stale = admin_client.post(CONFIG, data={**opened, "cores": "4"})
    assert stale.status_code == 400
    page = stale.get_data(as_text=True)
    assert "Changed since you opened the form: it is now 1024." in page
    assert int(guests.vm(101).config["cores"]) == 2  # nothing written
    parser = Fields()
    parser.feed(page)
    again = admin_client.post(CONFIG, data=parser.values)  # the form as it came back
    assert again.status_code == 302
    vm = guests.vm(101)
    assert int(vm.config["cores"]) == 4 and int(vm.config["memory"]) == 1024  # theirs stays
    assert audit_details(app) == ["cores 2 → 4"]


def test_disks_only_grow_and_growing_is_a_followed_task(app, admin_client, guests):
    shrink = save(admin_client, disk="16")
    assert shrink.status_code == 400
    assert "Disks can only grow: it is 32 GiB." in shrink.get_data(as_text=True)
    guests.requests.clear()
    grow = save(admin_client, disk="40")
    assert grow.status_code == 302 and "/tasks/" in grow.location
    assert ("PUT", "/nodes/pve1/qemu/101/resize") in pve_calls(guests)
    assert "Finished: OK" in admin_client.get(grow.location).get_data(as_text=True)
    assert last_task(app).action == "resize" and last_task(app).succeeded


def test_more_than_the_node_has_is_refused(admin_client, guests):
    page = save(admin_client, cores="64", memory="999999").get_data(as_text=True)
    assert "pve1 has 4 cores." in page and "MiB free." in page
    assert int(guests.vm(101).config["cores"]) == 2


def test_users_change_their_own_guests_but_not_tags_nor_others(app, guests, assign):
    client = log_in(app, "bob", "user")
    assert client.get(CONFIG).status_code == 404
    assign(101, "bob")
    form = form_of(client)
    assert "was_tags" in form and "tags" not in form  # the tags field is for admins
    response = client.post(CONFIG, data={**form, "tags": "hacked", "memory": "1024"})
    assert response.status_code == 302
    assert (
        guests.vm(101).config["tags"] == "prod;web" and int(guests.vm(101).config["memory"]) == 1024
    )


def test_a_change_over_the_users_quota_is_refused_and_reported_once(sentry, guests, assign):
    app, transport = sentry()
    client = log_in(app, "bob", "user")
    assign(101, "bob")
    with app.app_context():
        bob = db.session.scalar(db.select(User).where(User.username == "bob"))
        db.session.add(Quota(user_id=bob.id, memory=3000))
        db.session.commit()
    response = save(client, memory="4096")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This change goes over your memory quota: 4096 MiB of memory of 3000 allowed" in page
    assert "(1096 too many; you use 2048 now)" in page
    assert int(guests.vm(101).config["memory"]) == 2048
    events = [e for e in transport.events() if e["tags"].get("error_type") == "app_service"]
    assert len(events) == 1
    context = events[0]["contexts"]["app_service_error"]
    assert (context["quota"], context["limit"], context["over_by"]) == ("memory", 3000, 1096)
    assert events[0]["event_id"] in page


def test_forged_opened_values_change_nothing_beyond_the_quota(app, guests, assign):
    """The growth is counted from Proxmox's configuration, never from the form's was_* fields."""
    client = log_in(app, "bob", "user")
    assign(101, "bob")
    with app.app_context():
        bob = db.session.scalar(db.select(User).where(User.username == "bob"))
        db.session.add(Quota(user_id=bob.id, cores=2, memory=2048))  # exactly what bob uses
        db.session.commit()
    forged = save(client, cores="4", was_cores="9", memory="3072", was_memory="999999")
    assert forged.status_code == 400
    assert "goes over your cores quota: 4 cores of 2 allowed" in forged.get_data(as_text=True)
    vm = guests.vm(101)
    assert int(vm.config["cores"]) == 2 and int(vm.config["memory"]) == 2048
    # Within the quota, the audited "from" values are Proxmox's, whatever the form says.
    save(client, description="mine", was_cores="9", was_memory="999999")
    assert audit_details(app) == ["description The web server → mine"]


def test_a_change_landing_between_the_check_and_the_write_is_refused_by_its_digest(
    app, admin_client, guests, monkeypatch
):
    from app.services.guests import settings as guest_config

    read = guest_config._current

    def read_then_someone_edits(guest):
        current = read(guest)
        guests.vm(101).config["memory"] = "1024"  # in Proxmox, just after the portal looked
        return current

    opened = form_of(admin_client)
    monkeypatch.setattr(guest_config, "_current", read_then_someone_edits)
    response = admin_client.post(CONFIG, data={**opened, "cores": "3"})
    assert response.status_code == 400
    assert "Changed since you opened the form: it is now 1024." in response.get_data(as_text=True)
    assert int(guests.vm(101).config["cores"]) == 2 and audit_details(app) == []
