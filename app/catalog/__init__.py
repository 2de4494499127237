"""The app catalog (catalog/<id>/: app.yaml and compose.yaml), validated when the portal
starts. entry.py says what an app is; loader.py reads and checks the folders; compose.py and
oci.py check and read Compose files."""

from app.catalog.entry import (
    BASE_ID,
    BASE_TEMPLATE,
    GUEST_TYPES,
    PORTAL_VARIABLES,
    RUNTIME_LABELS,
    CatalogEntry,
    Health,
    Input,
    Output,
    Runtime,
)
from app.catalog.loader import CatalogError, load_catalog

__all__ = [
    "BASE_ID", "BASE_TEMPLATE", "GUEST_TYPES", "PORTAL_VARIABLES", "RUNTIME_LABELS",
    "CatalogEntry", "CatalogError", "Health",
    "Input", "Output", "Runtime", "load_catalog",
]  # fmt: skip
