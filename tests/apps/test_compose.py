"""A catalog app's Compose file: the compose-spec schema, pinned images, known variables."""

from __future__ import annotations

import pytest

from app.catalog.compose import image_tag, problems, variables_in

GOOD = """
services:
  web:
    image: docker.gitea.com/gitea:1.24.6
    restart: unless-stopped
    environment:
      GITEA__database__PASSWD: ${DB_PASSWORD}
      GITEA__server__ROOT_URL: http://${PORTAL_IP}:${HTTP_PORT:-3000}/
      NOT_A_VARIABLE: price in $$
    ports: ["${HTTP_PORT:-3000}:3000"]
    volumes: [data:/data]
volumes:
  data: {}
"""
KNOWN = {"DB_PASSWORD", "PORTAL_IP", "HTTP_PORT"}


def test_a_good_file_has_no_problems():
    assert problems(GOOD, KNOWN) == []


def test_variables_are_read_the_way_compose_reads_them():
    text = "a: ${ONE} ${TWO:-x} ${THREE?needed} ${FOUR:+y} $FIVE $$SIX $${SEVEN}"
    assert variables_in(text) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}


def test_an_undefined_variable_is_named():
    assert problems(GOOD, KNOWN - {"DB_PASSWORD"}) == ["${DB_PASSWORD} is not defined"]


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("nginx", None),
        ("nginx:1.27", "1.27"),
        ("localhost:5000/team/app", None),
        ("localhost:5000/team/app:2.1", "2.1"),
        ("ghcr.io/a/b:3@sha256:" + "0" * 64, "3"),
    ],
)
def test_image_tags(image, tag):
    assert image_tag(image) == tag


@pytest.mark.parametrize(
    "image", ["docker.gitea.com/gitea", "docker.gitea.com/gitea:latest", "gitea:${TAG}"]
)
def test_an_image_must_be_pinned_to_a_version_tag(image):
    text = GOOD.replace("docker.gitea.com/gitea:1.24.6", image)
    found = problems(text, KNOWN | {"TAG"})
    assert found == [f"service web: pin its image to a version tag ({image!r})"]


def test_a_build_or_a_missing_image_is_refused():
    built = "services:\n  web:\n    build: .\n"
    assert problems(built, set()) == ["service web builds an image: name a published image instead"]
    assert problems("services:\n  web:\n    restart: always\n", set()) == [
        "service web names no image"
    ]


def test_the_schema_finds_what_compose_would_refuse():
    text = GOOD.replace("restart: unless-stopped", "restart: unless-stopped\n    colour: blue")
    [problem] = problems(text, KNOWN)
    assert problem == "services/web: 'colour' does not match any of the regexes: '^x-'"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("services: [", "not valid YAML"),
        ("- a list", "not a Compose file"),
        ("volumes: {}\n", "it defines no service"),
    ],
)
def test_files_that_are_no_compose_file(text, said):
    assert any(p.startswith(said) for p in problems(text, set()))
