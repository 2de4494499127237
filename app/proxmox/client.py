"""The one place that talks to Proxmox VE through proxmoxer.

Every call goes through `ProxmoxClient.request`, which turns whatever can go wrong
(an API error, refused credentials, a timeout, an unreachable or untrusted host)
into one `ProxmoxError` with a message a person can act on. Messages are built
from our own words and PVE's message only, so a token value or password never
ends up in one.
"""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass
from typing import Any

import requests
from proxmoxer import AuthenticationError, ProxmoxAPI, ResourceException

from app import observability
from app.exceptions import ProxmoxError


@dataclass(frozen=True)
class ProxmoxSettings:
    """Where Proxmox is and how to log in, from the PROXMOX_* settings."""

    host: str
    port: int = 8006
    user: str = ""
    token_name: str | None = None
    token_value: str | None = None
    password: str | None = None
    verify_ssl: bool | str = True
    timeout: float = 10

    @classmethod
    def from_config(cls, config) -> ProxmoxSettings:
        """Build from a Flask config mapping."""
        return cls(
            host=config["PROXMOX_HOST"],
            port=config["PROXMOX_PORT"],
            user=config["PROXMOX_USER"],
            token_name=config["PROXMOX_TOKEN_NAME"],
            token_value=config["PROXMOX_TOKEN_VALUE"],
            password=config["PROXMOX_PASSWORD"],
            verify_ssl=config["PROXMOX_VERIFY_SSL"],
            timeout=config["PROXMOX_TIMEOUT"],
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def auth_method(self) -> str | None:
        """`token`, `password`, or None when neither is configured."""
        if self.token_name and self.token_value:
            return "token"
        if self.password:
            return "password"
        return None

    @property
    def credential_label(self) -> str:
        """Names the credential in messages, without its secret."""
        if self.auth_method == "token":
            return f"the API token {self.user}!{self.token_name}"
        return f"the password of {self.user}"


class ProxmoxClient:
    """A lazily connected proxmoxer API that reuses one HTTP session per process."""

    def __init__(self, settings: ProxmoxSettings):
        self.settings = settings
        self._api: ProxmoxAPI | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self, path: str, **params: Any) -> Any:
        """GET path (e.g. `cluster/resources`) and return PVE's `data`."""
        return self.request("GET", path, **params)

    def request(self, method: str, path: str, **params: Any) -> Any:
        """Call the API; raise ProxmoxError for anything but a success.

        A rejected ticket (expired or revoked) is renewed once for password logins.
        """
        path = path.strip("/")
        context = {"api_method": method, "api_path": "/" + path, **_ids_in(path)}
        try:
            return self._call(method, path, params)
        except ResourceException as exc:
            if exc.status_code == 401 and self.settings.auth_method == "password":
                self._api = None
                try:
                    return self._call(method, path, params)
                except Exception as retry_exc:  # noqa: BLE001 - translated below
                    raise self._translate(retry_exc, context) from retry_exc
            raise self._translate(exc, context) from exc
        except (AuthenticationError, requests.RequestException, ValueError) as exc:
            raise self._translate(exc, context) from exc

    def websocket_headers(self) -> dict[str, str]:
        """The credentials a websocket to the API presents (a console's vncwebsocket): the
        token's header, or the login ticket's cookie."""
        s = self.settings
        if s.auth_method == "token":
            return {"Authorization": f"PVEAPIToken={s.user}!{s.token_name}={s.token_value}"}
        ticket = self._connection()._store["auth"].pve_auth_ticket
        return {"Cookie": f"PVEAuthCookie={ticket}"}

    def ssl_context(self) -> ssl.SSLContext:
        """TLS for a websocket to the API, verified as every call is (PROXMOX_VERIFY_SSL)."""
        verify = self.settings.verify_ssl
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)

    def close(self) -> None:
        """Close the HTTP session (its keep-alive connections)."""
        if self._api is not None:
            self._api._store["session"].close()
            self._api = None

    def _call(self, method: str, path: str, params: dict) -> Any:
        """One HTTP request, with a Sentry span and breadcrumb (method, path, status, time)."""
        with observability.proxmox_call(method, "/" + path) as outcome:
            try:
                result = getattr(self._connection()(path), method.lower())(**params)
            except ResourceException as exc:
                outcome["status"] = exc.status_code
                raise
            outcome["status"] = 200
            return result

    def _connection(self) -> ProxmoxAPI:
        """The proxmoxer API object; rebuilt after a fork so workers never share a socket."""
        if self._api is None or self._pid != os.getpid():
            with self._lock:  # the threads of parallel.at_once may ask at the same moment
                if self._api is None or self._pid != os.getpid():
                    self._connect()
        assert self._api is not None
        return self._api

    def _connect(self) -> None:
        """A new proxmoxer API object (with a password, this fetches its first ticket)."""
        self._api = None  # never close a session inherited across fork: the parent owns it
        settings = self.settings
        if not settings.host or not settings.auth_method:
            raise ProxmoxError(
                "The portal has no Proxmox connection configured.",
                kind="config",
                hint="Set PROXMOX_HOST, PROXMOX_USER and either PROXMOX_TOKEN_NAME with "
                "PROXMOX_TOKEN_VALUE or PROXMOX_PASSWORD, then restart the portal.",
                http_status=503,
            )
        credentials: dict[str, Any] = (
            {"token_name": settings.token_name, "token_value": settings.token_value}
            if settings.auth_method == "token"
            else {"password": settings.password}
        )
        self._api = ProxmoxAPI(
            settings.host,
            port=settings.port,
            user=settings.user,
            verify_ssl=settings.verify_ssl,
            timeout=settings.timeout,
            **credentials,
        )
        self._pid = os.getpid()

    def _translate(self, exc: Exception, context: dict) -> ProxmoxError:
        """One ProxmoxError, in words a person can act on, for whatever went wrong."""
        s = self.settings
        if isinstance(exc, ProxmoxError):
            return exc
        if isinstance(exc, AuthenticationError) or (
            isinstance(exc, ResourceException) and exc.status_code == 401
        ):
            return ProxmoxError(
                f"Proxmox at {s.address} refused {s.credential_label}.",
                kind="auth",
                status_code=getattr(exc, "status_code", 401),
                pve_message=getattr(exc, "content", None),
                hint="Check PROXMOX_USER, and PROXMOX_TOKEN_NAME / PROXMOX_TOKEN_VALUE (or "
                "PROXMOX_PASSWORD): the token or user must exist, be enabled and not expired.",
                **context,
            )
        if isinstance(exc, ResourceException):
            return _api_error(exc, s, context)
        if isinstance(exc, requests.exceptions.SSLError):
            return ProxmoxError(
                f"The TLS certificate of Proxmox at {s.address} could not be verified.",
                kind="tls",
                hint="Set PROXMOX_VERIFY_SSL to the path of the CA that signed the Proxmox "
                "certificate (on a node: /etc/pve/pve-root-ca.pem).",
                **context,
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return ProxmoxError(
                f"Proxmox at {s.address} did not answer within {s.timeout:g} s.",
                kind="timeout",
                hint="The host may be overloaded or a firewall may drop the traffic. "
                "PROXMOX_TIMEOUT sets how long the portal waits.",
                http_status=504,
                **context,
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return ProxmoxError(
                f"Could not connect to Proxmox at {s.address}.",
                kind="unreachable",
                hint="Check that PROXMOX_HOST and PROXMOX_PORT are right, that the node is up, "
                "and that pveproxy is running.",
                http_status=503,
                **context,
            )
        return ProxmoxError(
            f"Proxmox at {s.address} sent an answer the portal could not read.",
            kind="api",
            **context,
        )


def _api_error(exc: ResourceException, settings: ProxmoxSettings, context: dict) -> ProxmoxError:
    """PVE answered with an error status: keep its own message and per-field errors."""
    pve_message = (exc.content or exc.status_message or "").strip()
    errors = exc.errors if isinstance(exc.errors, dict) else None
    detail = "; ".join(f"{name}: {text.strip()}" for name, text in (errors or {}).items())
    message = f"Proxmox refused {context['api_method']} {context['api_path']}: {pve_message}"
    if detail:
        message += f" ({detail})"
    hint = None
    if exc.status_code == 403:
        hint = f"{settings.credential_label.capitalize()} lacks a privilege this needs."
    elif exc.status_code == 595:
        hint = "A node the request needs is offline or unreachable from the cluster."
    return ProxmoxError(
        message,
        kind="api",
        status_code=exc.status_code,
        pve_message=pve_message,
        errors=errors,
        hint=hint,
        **context,
    )


def _ids_in(path: str) -> dict:
    """node, vmid and upid named in an API path such as nodes/pve1/qemu/100/status."""
    parts = path.split("/")
    found: dict[str, Any] = {}
    if len(parts) >= 2 and parts[0] == "nodes":
        found["node"] = parts[1]
    if len(parts) >= 4 and parts[2] in ("qemu", "lxc") and parts[3].isdigit():
        found["vmid"] = int(parts[3])
    if len(parts) >= 4 and parts[2] == "tasks" and parts[3].startswith("UPID:"):
        found["upid"] = parts[3]
        task_id = parts[3].split(":")[6] if parts[3].count(":") >= 7 else ""
        if task_id.isdigit():
            found["vmid"] = int(task_id)
    return found
