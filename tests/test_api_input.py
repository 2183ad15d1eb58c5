"""Input no text can hold: lone surrogates and JSON nested past reading are refused with a 400 naming the field
(or the body), never a 500; forms drop lone surrogates like control characters."""
from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from tests.portal import tickets
from web.forms import TicketForm, clean

# `category` is left out: any value but a known category id is refused already.
FIELDS = ("subject", "description", "searched")


def send(client, body: str | bytes):
    return client.post("/api/tickets", data=body, content_type="application/json")


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("escape", ["\\ud800", "x\\ude00y"])
def test_a_lone_surrogate_in_any_field_is_a_400_naming_it(app, ann, field, escape):
    fields = {"subject": "Printer", "description": "It is offline", "category": "", "searched": ""}
    body = json.dumps(fields).replace(f'"{field}": "{fields[field]}"', f'"{field}": "{fields[field]}{escape}"')
    assert escape in body
    response = send(ann, body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field and field in response.get_json()["error"]
    assert tickets(app) == []


def test_surrogate_pairs_are_characters_and_kept_lone_halves_refused(app, ann):
    assert send(ann, '{"subject": "Printer \\udc00\\ud83d", "description": "offline"}').status_code == 400
    response = send(ann, '{"subject": "Printer \\ud83d\\ude00", "description": "offline"}')
    assert response.status_code == 201 and response.get_json()["subject"] == "Printer \U0001F600"


@pytest.mark.parametrize("body", [
    "[" * 2000, '{"subject": ' + "[" * 2000 + "]" * 2000 + ', "description": "x"}',
    '{"subject": "a", "description": "b", "extra": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}",
    "[" * 100_000,
])
def test_deeply_nested_json_is_a_400_naming_the_body(app, ann, body):
    response = send(ann, body)
    assert response.status_code == 400
    assert response.get_json()["field"] == "body" and "nests too deeply" in response.get_json()["error"]
    assert tickets(app) == []


@pytest.mark.parametrize("body", [b'{"subject": "\xff\xfe", "description": "x"}', b"{not json", b"",
                                  b'{"subject": "a", "description": "b",}', b"\xed\xa0\x80"])
def test_a_body_that_is_not_json_is_a_400_naming_the_body(app, ann, body):
    response = send(ann, body)
    assert response.status_code == 400 and response.get_json()["field"] == "body"
    assert tickets(app) == []


def test_forms_drop_lone_surrogates_like_control_characters(app):
    assert clean("Print\ud800er\x07 \udfff offline\U0001F600") == "Printer  offline\U0001F600"
    data = MultiDict({"subject": "Printer\ud800", "description": "\udc00offline", "searched": "prin\ud83dter"})
    with app.test_request_context():
        form = TicketForm(formdata=data, meta={"csrf": False})
        assert (form.subject.data, form.description.data, form.searched.data) == ("Printer", "offline", "printer")

