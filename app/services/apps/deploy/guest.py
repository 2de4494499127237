"""Working inside a deploy's VM through its QEMU guest agent: run a command (an argument list,
never shell text), write and read files. Proxmox passes each call to the agent."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app

from app.exceptions import AppServiceError, ProxmoxError
from app.proxmox import ProxmoxClient
from app.proxmox import deploys as pve
from app.services.apps.deploy.context import Deploy


@dataclass(frozen=True)
class Result:
    """How a command ended: its exit status and what it wrote."""

    exitcode: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.exitcode == 0

    def said(self, deploy: Deploy, limit: int = 800) -> str:
        """The tail of its error output (else its output), secrets blanked."""
        text = (self.err or self.out).strip()
        return deploy.hide_secrets(text)[-limit:]


def run(deploy: Deploy, argv: list[str], timeout: float | None = None) -> Result:
    """Run argv in the guest and wait until it ends (DEPLOY_TASK_TIMEOUT at most)."""
    app = deploy.app
    answer = pve.agent(deploy.client, app.node, deploy.vmid, "exec", command=argv)
    pid = int((answer or {}).get("pid") or 0)
    limit = timeout or float(current_app.config["DEPLOY_TASK_TIMEOUT"])
    deadline = time.monotonic() + limit
    while True:
        status = pve.agent(deploy.client, app.node, deploy.vmid, "exec-status", pid=pid) or {}
        if status.get("exited"):
            return Result(
                int(status.get("exitcode", 1)),
                str(status.get("out-data") or ""),
                str(status.get("err-data") or ""),
            )
        if time.monotonic() > deadline:
            raise AppServiceError(f"`{' '.join(argv[:4])}` did not end within {limit:g} s.")
        deploy.pause()


def write_file(deploy: Deploy, path: str, content: str) -> None:
    """Write a whole file in the guest (the agent creates or replaces it)."""
    app = deploy.app
    pve.agent(deploy.client, app.node, deploy.vmid, "file-write", file=path, content=content)


def read_file(client: ProxmoxClient, node: str, vmid: int, path: str) -> str | None:
    """A file's text in a VM, or None when it has no such file (or its agent is away)."""
    try:
        answer = pve.agent(client, node, vmid, "file-read", file=path)
    except ProxmoxError as error:
        if error.kind != "api":  # Proxmox itself is away
            raise
        return None  # the agent could not open it
    return str((answer or {}).get("content") or "")
