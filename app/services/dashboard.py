"""The dashboard: a cluster summary and a filtered, sorted guest table from one API call."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from app.exceptions import NotFoundError
from app.models import User
from app.proxmox import get_client
from app.proxmox.cluster import ClusterResources, Guest, Node, node_status
from app.proxmox.guests import GUEST_TYPES
from app.services import ownership

STATUSES = ("running", "stopped", "paused", "unknown")
SORT_KEYS = {
    "vmid": lambda g: g.vmid,
    "name": lambda g: g.name.lower(),
    "type": lambda g: g.type,
    "node": lambda g: g.node,
    "status": lambda g: g.status,
    "cpu": lambda g: g.cpu,
    "mem": lambda g: g.mem,
    "uptime": lambda g: g.uptime,
}
SEARCH_MAX = 100
PAGE_SIZE = 100  # guest rows per dashboard page


@dataclass
class GuestQuery:
    """Filters and sort order for the guest table, as they appear in the URL."""

    node: str = ""
    status: str = ""
    type: str = ""
    q: str = ""
    sort: str = "vmid"
    order: str = "asc"
    page: int = 1

    def args(self, **changes: str | int) -> dict:
        """Query parameters for a link that keeps these filters, with `changes` applied.
        A new filter or sort order starts again at the first page."""
        values = {**asdict(self), "page": 1, **changes} if changes else asdict(self)
        return {
            k: v for k, v in values.items() if v and GuestQuery.__dataclass_fields__[k].default != v
        }

    def matches(self, guest: Guest) -> bool:
        return (
            (not self.node or guest.node == self.node)
            and (not self.status or guest.status == self.status)
            and (not self.type or guest.type == self.type)
            and (not self.q or self.q.lower() in guest.name.lower() or self.q == str(guest.vmid))
        )


def parse_query(args, node_names: list[str]) -> tuple[GuestQuery, list[str]]:
    """Read filters from request args; unknown values are dropped with a message saying so."""
    query, problems = GuestQuery(), []
    allowed = {
        "node": node_names,
        "status": STATUSES,
        "type": GUEST_TYPES,
        "sort": tuple(SORT_KEYS),
        "order": ("asc", "desc"),
    }
    for name, choices in allowed.items():
        value = args.get(name, "").strip()
        if not value:
            continue
        if value in choices:
            setattr(query, name, value)
        else:
            problems.append(
                f"Ignored unknown {name} {value[:40]!r}: choose one of {', '.join(choices)}."
            )
    query.page = _page_number(args.get("page", ""), problems)
    q = args.get("q", "").strip()
    if len(q) > SEARCH_MAX:
        problems.append(f"The search was cut to its first {SEARCH_MAX} characters.")
    query.q = q[:SEARCH_MAX]
    return query, problems


def _page_number(value: str, problems: list[str]) -> int:
    value = value.strip()
    if not value:
        return 1
    if value.isascii() and value.isdigit() and len(value) <= 6 and int(value) >= 1:
        return int(value)
    problems.append(f"Ignored page {value[:20]!r}: pages are numbered from 1.")
    return 1


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    nodes: list[Node]
    guests: list[Guest]  # this page's rows
    templates: list[Guest]
    counts: dict[str, Counter] = field(default_factory=dict)
    total_guests: int = 0
    matching: int = 0  # guests the filters select, on every page
    page: int = 1
    pages: int = 1

    @property
    def first_row(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.guests else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.guests) - 1 if self.guests else 0


def _counts(guests: list[Guest]) -> dict[str, Counter]:
    """Guest counts by type and status, templates excluded."""
    counts: dict[str, Counter] = {t: Counter() for t in GUEST_TYPES}
    for (kind, status), number in Counter((g.type, g.status) for g in guests).items():
        counts.setdefault(kind, Counter())[status] = number
    return counts


def build_dashboard(resources: ClusterResources, query: GuestQuery) -> Dashboard:
    """Summarise the whole cluster and list one page of the guests the query selects
    (filtered and sorted first; a page past the end shows the last one)."""
    real = [g for g in resources.guests if not g.template]
    selected = sorted(
        (g for g in resources.guests if query.matches(g)),
        key=SORT_KEYS[query.sort],
        reverse=query.order == "desc",
    )
    guests = [g for g in selected if not g.template]
    pages = max(1, -(-len(guests) // PAGE_SIZE))
    page = min(query.page, pages)
    return Dashboard(
        nodes=resources.nodes,
        guests=guests[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        templates=[g for g in selected if g.template],
        counts=_counts(real),
        total_guests=len(real),
        matching=len(guests),
        page=page,
        pages=pages,
    )


def node_page(name: str, user: User) -> tuple[Node, dict, list[Guest]]:
    """One node, its live status (when online) and user's guests on it; NotFoundError when
    the cluster has no such node."""
    resources = ownership.visible_resources(user)
    node = next((n for n in resources.nodes if n.name == name), None)
    if node is None:
        raise NotFoundError(f"There is no node called {name[:64]!r} in this cluster.")
    status = node_status(get_client(), name) if node.online else {}
    guests = sorted((g for g in resources.guests if g.node == name), key=lambda g: g.vmid)
    return node, status, guests
