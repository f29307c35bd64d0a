"""The dashboard's route table and sign-in redirects (bot/web/review/), without a server."""

from __future__ import annotations

from typing import Dict, Tuple

import pytest

from bot.web.review import ROUTES, Access, is_dashboard
from bot.web.review.auth import safe_next


def test_only_the_sign_in_page_and_the_stylesheet_are_open_and_admin_routes_need_an_admin() -> None:
    access: Dict[Tuple[str, str], str] = {(method, route.uri): route.access.name for route in ROUTES for method in route.methods}
    assert {key for key, who in access.items() if who == "PUBLIC"} == {
        ("GET", "/static/review.css"),
        ("GET", "/login"),
        ("POST", "/login"),
    }
    assert {key for key, who in access.items() if who == "ADMIN"} == {
        ("POST", "/conversations/<sender_id:str>/erase"),
        ("GET", "/export.csv"),
        ("GET", "/export.jsonl"),
        ("GET", "/corrections.yml"),
        ("GET", "/gaps.yml"),
        ("GET", "/feedback.csv"),
        ("GET", "/users"),
        ("POST", "/users"),
        ("GET", "/audit"),
    }
    assert len(access) == 23 and set(access.values()) == {"PUBLIC", "SIGNED_IN", "ADMIN"}
    assert [route.access for route in ROUTES if route.uri == "/"] == [Access.SIGNED_IN]
    assert [route.access for route in ROUTES if route.uri in ("/gaps", "/feedback")] == [Access.SIGNED_IN] * 2


@pytest.mark.parametrize(
    "target, goes_to",
    [
        ("/review/conversations?topic=late_walking", "/review/conversations?topic=late_walking"),
        ("/review/", "/review/"),
        ("", "/review/"),
        ("//evil.example/review", "/review/"),
        ("https://evil.example/review", "/review/"),
        ("/elsewhere", "/review/"),
    ],
)
def test_after_signing_in_only_dashboard_paths_are_followed(target: str, goes_to: str) -> None:
    assert safe_next(target) == goes_to


@pytest.mark.parametrize("path, inside", [("/review", True), ("/review/users", True), ("/reviews", False), ("/", False)])
def test_dashboard_paths(path: str, inside: bool) -> None:
    assert is_dashboard(path) is inside
