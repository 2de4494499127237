"""Checking a catalog app's Compose file before any guest sees it.

A Compose file is valid when it follows the official compose-spec JSON schema (vendored in
app/schemas/, Apache-2.0), every service runs an image pinned to a version tag (never
`latest`, never a build: a guest pulls what the catalog names), and every variable it
interpolates (`${VAR}`, `${VAR:-default}`, `$VAR`; `$$` is a literal `$`) is one the deploy
defines.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# compose-spec interpolation: $$, ${NAME}, ${NAME<op>...} with op one of :- - :? ? :+ +, $NAME
VARIABLE = re.compile(rf"\$(?:\$|\{{({NAME})(?:(?::?[-?+])[^}}]*)?\}}|({NAME}))")


# libyaml's loader when PyYAML has it (Debian's and PyPI's wheels do): ten times quicker than
# the pure-Python one, which made reading the catalog the slowest part of the portal's start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str):
    """A YAML document, read safely (yaml.YAMLError when it is not valid)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA.read_text()))


def variables_in(text: str) -> set[str]:
    """The names a Compose file interpolates (an escaped `$$` is none)."""
    return {braced or bare for braced, bare in VARIABLE.findall(text) if braced or bare}


def image_tag(image: str) -> str | None:
    """The tag of an image reference (`nginx:1.27`, `ghcr.io/a/b:2@sha256:...`), or None."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def images(text: str) -> dict[str, str]:
    """{service: image} of a (valid) Compose file."""
    services = (load_yaml(text) or {}).get("services") or {}
    return {str(name): str(service.get("image", "")) for name, service in services.items()}


def problems(text: str, known: set[str]) -> list[str]:
    """What is wrong with a Compose file, in words (empty when it is fine); `known` are the
    variables the deploy defines."""
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        return [f"not valid YAML: {error}"]
    if not isinstance(document, dict):
        return ["not a Compose file: it must be a mapping with `services`"]
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'the file'}: {error.message}"
        for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    ]
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        found.append("it defines no service")
        services = {}
    for name, service in services.items():
        found += _image_problems(str(name), service if isinstance(service, dict) else {})
    found += [f"${{{name}}} is not defined" for name in sorted(variables_in(text) - known)]
    return found


def _image_problems(name: str, service: dict) -> list[str]:
    if "build" in service:
        return [f"service {name} builds an image: name a published image instead"]
    image = service.get("image")
    if not isinstance(image, str) or not image:
        return [f"service {name} names no image"]
    tag = image_tag(image)
    if tag is None or tag == "latest" or "$" in image:
        return [f"service {name}: pin its image to a version tag ({image!r})"]
    return []
