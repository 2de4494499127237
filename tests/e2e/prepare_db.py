"""A portal's database for an end-to-end test, in one process: the schema, then alice (admin)
and bob (user) with the passwords given. What `flask init-db` and `flask users create` do,
without starting the app three times. Run with the portal's environment:

    python -m tests.e2e.prepare_db [ALICE_PASSWORD BOB_PASSWORD]   (no passwords: schema only)
"""

import sys

from app import create_app, schema
from app.cli import shell_actor
from app.services import users

if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        schema.upgrade(app)
        if passwords := sys.argv[1:3]:
            admin_password, user_password = passwords
            users.create_user("alice", admin_password, "admin", "alice@example.com",
                              acting=shell_actor())  # fmt: skip
            users.create_user("bob", user_password, "user", acting=shell_actor())
