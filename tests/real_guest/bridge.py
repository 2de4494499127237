"""The demo's fake Proxmox with one VM that is real: the guest agent calls Proxmox would pass to
that VM's agent (exec, exec-status, file-write, file-read) go to a real Debian VM's
qemu-guest-agent, translated as qemu-server translates them. Everything else (clone, config,
start, the address the agent reports) stays the fake's."""

from __future__ import annotations

import asyncio
import base64

from fakepve import agent as fake_agent
from fakepve.model import PveError

from scripts.fakepve_demo import DemoPve
from tests.real_guest.guest import Guest

FORWARDED = ("exec", "exec-status", "file-write", "file-read")


class RealGuestPve(DemoPve):
    """DemoPve whose VM named `real_name` is `real_guest`; its agent answers once `ready` is set."""

    real_name = ""
    real_guest: Guest | None = None
    ready = False  # the test's setup in the VM is done: the agent "starts" then

    async def _agent_call(self, match, values):
        vm = self.find(values["node"], values["vmid"])
        if self.real_guest is None or vm.name != self.real_name:
            return await super()._agent_call(match, values)
        if vm.status != "running" or not self.ready:
            raise PveError(500, "QEMU guest agent is not running")
        command = match.template.rsplit("/", 1)[1]
        if command not in FORWARDED:  # ping, the address (on loopback: QEMU's port forward)
            return await super()._agent_call(match, values)
        fake_agent.record(vm, command, values)
        return await asyncio.to_thread(forward, self.real_guest, command, values)


def forward(guest: Guest, command: str, values: dict):
    """One PVE agent command, done by the real agent (PVE's answer shapes)."""
    try:
        if command == "exec":
            argv = list(values["command"])
            arguments = {"path": argv[0], "arg": argv[1:], "capture-output": True}
            return {"pid": guest.agent("guest-exec", arguments)["pid"]}
        if command == "exec-status":
            status = guest.agent("guest-exec-status", {"pid": int(values["pid"])})
            for key in ("out-data", "err-data"):
                if key in status:
                    status[key] = base64.b64decode(status[key]).decode(errors="replace")
            return status
        path = values["file"]
        if command == "file-write":
            handle = guest.agent("guest-file-open", {"path": path, "mode": "wb"})
            data = base64.b64encode(str(values["content"]).encode()).decode()
            guest.agent("guest-file-write", {"handle": handle, "buf-b64": data})
            guest.agent("guest-file-close", {"handle": handle})
            return None
        handle = guest.agent("guest-file-open", {"path": path, "mode": "r"})
        read = guest.agent("guest-file-read", {"handle": handle, "count": 16 * 2**20})
        guest.agent("guest-file-close", {"handle": handle})
        content = base64.b64decode(read.get("buf-b64", "")).decode(errors="replace")
        return {"content": content, "truncated": not read.get("eof", True)}
    except RuntimeError as error:  # the agent's own error, as PVE passes it on
        raise PveError(500, f"Agent error: {error}") from None
