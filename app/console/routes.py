"""Console views: the page (it issues a one-time token) and the websocket it opens.

The websocket is refused before its handshake unless the session is logged in, the request
comes from the portal's own pages (Origin), the token is this session's for this guest, and
the user may see the guest (404 otherwise, as everywhere).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user, login_required

from app.extensions import sock
from app.security import TERMINAL_POLICY, talisman
from app.services import ownership
from app.services.console import access, relay

bp = Blueprint("console", __name__)

GUEST_URL = "/guests/<node>/<guest_type>/<int:vmid>/console"
CONSOLE_URL = GUEST_URL + "/<kind>"
BUSY = "The portal has as many consoles open as it can serve: try again in a few minutes."


@bp.get(GUEST_URL + "/screen")
@login_required
def screen(node: str, guest_type: str, vmid: int):
    """A VM's screen (noVNC)."""
    return _page(node, guest_type, vmid, "screen", ("qemu",))


@bp.get(GUEST_URL + "/terminal")
@login_required
@talisman(content_security_policy=TERMINAL_POLICY)
def terminal(node: str, guest_type: str, vmid: int):
    """A serial terminal (xterm.js): a container's console, or a VM's serial port."""
    return _page(node, guest_type, vmid, "terminal", ("qemu", "lxc"))


def _page(node: str, guest_type: str, vmid: int, kind: str, guest_types: tuple[str, ...]):
    """The console page; it issues the one-time token its websocket presents."""
    guest, _ = ownership.locate(current_user, node, guest_type, vmid)
    if guest.type not in guest_types:
        abort(404)
    reason = access.cannot_open(current_user, guest, kind)
    token = None if reason else access.issue_token(current_user, guest, kind)
    return render_template(f"console/{kind}.html", guest=guest, token=token, reason=reason)


@bp.before_request
def refuse_foreign_sockets():
    """The checks a console's websocket passes before its handshake (a 403 or 404 refuses
    it, as a browser sees it)."""
    if request.endpoint != "console.socket":
        return
    if not current_user.is_authenticated:
        abort(403, description="Log in to open a console.")
    if request.headers.get("Origin") != request.host_url.rstrip("/"):
        abort(403, description="A console opens from the portal's own pages only.")
    grant = access.read_token(request.args.get("token", ""))
    args = request.view_args or {}
    wanted = (args.get("node"), args.get("guest_type"), args.get("vmid"), args.get("kind"))
    if args.get("kind") not in ("screen", "terminal"):
        abort(404)
    if grant is None or grant.session_id != current_user.get_id() or wanted != (
        grant.node, grant.guest_type, grant.vmid, grant.kind
    ):  # fmt: skip
        abort(403, description="This console link has expired: open the console again.")
    if access.used(grant):
        abort(403, description="This console link was used already: open the console again.")
    g.console_guest, _ = ownership.locate(current_user, grant.node, grant.guest_type, grant.vmid)
    g.console_grant = grant


@sock.route(CONSOLE_URL + "/socket", bp=bp)
def socket(ws, node: str, guest_type: str, vmid: int, kind: str):
    """Relay the console between the browser and Proxmox, for as long as it lasts. An open
    console holds this thread: a worker keeps CONSOLES_PER_WORKER at most, and threads for
    pages; a user has CONSOLES_PER_USER at most. Its row is closed and audited however it
    ends."""
    if not relay.worker_slots.take():
        relay.close_quietly(ws, message=BUSY, code=1013)
        return
    try:
        user, grant = current_user._get_current_object(), g.console_grant
        session, refusal = access.open_session(user, grant)
        if session is None:
            relay.close_quietly(ws, message=refusal, code=1008)
            return
        reason, reference = "broke (see the error reference)", None
        try:
            reason, reference = relay.serve(ws, grant, g.console_guest)
        finally:
            access.close_session(user, session, reason)
        if reason == "failed":
            note = f" (error reference {reference})" if reference else ""
            relay.close_quietly(ws, f"it could not open{note}", code=1011)
    finally:
        relay.worker_slots.give_back()
