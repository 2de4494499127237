"""Database models (typed SQLAlchemy 2.0), one module per area; import them from here.

- base.py: time as the models keep it (`utcnow`, `aware`) and the shared `Lock`;
- users.py: `User`, `RecoveryCode`, `Quota`, `GuestAssignment`;
- activity.py: `Task` (`TaskStatus`), `AuditEntry`, `ConsoleSession`;
- apps.py: `App` (`AppStatus`), `AppStep` (`StepStatus`);
- notifications.py: `NotificationTarget`, `Notification` (the outbox);
- tokens.py: `ApiToken` (the API's personal access tokens).

Imports among them point one way: base <- users <- activity <- apps; users <- notifications,
tokens.
"""

from app.models.activity import AuditEntry, ConsoleSession, Task, TaskStatus
from app.models.apps import APP_NAME_MAX, BUSY, SETTLED, App, AppStatus, AppStep, StepStatus
from app.models.base import Lock, aware, utcnow
from app.models.notifications import Notification, NotificationTarget
from app.models.tokens import SCOPES, TOKEN_NAME_MAX, ApiToken
from app.models.users import (
    EMAIL_MAX,
    GUEST_NAME_MAX,
    ROLES,
    USERNAME_MAX,
    GuestAssignment,
    Quota,
    RecoveryCode,
    User,
    password_hash_method,
)

__all__ = [
    "APP_NAME_MAX", "BUSY", "EMAIL_MAX", "GUEST_NAME_MAX", "ROLES", "SCOPES", "SETTLED",
    "TOKEN_NAME_MAX", "USERNAME_MAX", "ApiToken", "App", "AppStatus", "AppStep", "AuditEntry",
    "ConsoleSession", "GuestAssignment", "Lock", "Notification", "NotificationTarget", "Quota",
    "RecoveryCode", "StepStatus", "Task", "TaskStatus", "User", "aware", "password_hash_method",
    "utcnow",
]  # fmt: skip
