"""Prepare the demo's database in one process: the schema, two accounts and the user's guests.

Run by scripts/demo.sh after fakepve is up, with the demo's environment (DATABASE_URL, PROXMOX_*):

    python scripts/demo_setup.py ADMIN_PASSWORD USER_PASSWORD

It does what `flask init-db`, `flask users create/set-password` and `flask users assign` do,
through the same services, without starting the app six times. Running it again resets the
two passwords and keeps everything else.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import (
    create_app,  # noqa: E402
    schema,  # noqa: E402
)
from app.cli import shell_actor  # noqa: E402
from app.services import audit, ownership, users  # noqa: E402

USER_GUESTS = (108, 118, 205, 208)  # VMs stopped and running (with a serial port), containers too


def ensure_account(username: str, role: str, password: str):
    """Create the account, or give the existing one this password."""
    user = users.find_by_username(username)
    if user is None:
        return users.create_user(username, password, role, acting=shell_actor())
    audit.record(shell_actor(), "set-password", f"user/{user.username}", "done")
    users.set_password(user, password)
    return user


def main(admin_password: str, user_password: str) -> None:
    app = create_app()
    with app.app_context():
        schema.upgrade(app)
        ensure_account("admin", "admin", admin_password)
        user = ensure_account("user", "user", user_password)
        for guest in ownership.find_by_vmids(USER_GUESTS):
            ownership.set_owner(shell_actor(), guest, user)
    print(f"Demo accounts ready; user has guests {', '.join(map(str, USER_GUESTS))}.")


if __name__ == "__main__":
    main(*sys.argv[1:3])
