"""``ecanfhir send`` puts each file on the wire in its own format (read by content):
``application/fhir+xml`` for XML files, ``application/fhir+json`` for JSON, or what
``--format`` says; XML that could not be read whole is not sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from _client_support import AT, BASE, PROCESS, referral

from ecanfhir.builders import BuildContext, build_acknowledgement
from ecanfhir.cli import main
from ecanfhir.formats.xml_read import parse_xml
from ecanfhir.formats.xml_write import to_xml


@pytest.fixture
def received() -> Any:
    """The centre, mocked: records each request's media type and body, acknowledges ok."""
    seen: list[tuple[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        media = request.headers["Content-Type"]
        body = (parse_xml(request.content)[0] if "xml" in media
                else json.loads(request.content))
        seen.append((media, body))
        ack = build_acknowledgement(body, "ok", context=BuildContext.seeded(9, at=AT))
        return httpx.Response(200, json=ack, headers={"Content-Type": "application/fhir+json"})

    with respx.mock(assert_all_called=False) as router:
        router.post(PROCESS).mock(side_effect=answer)
        yield seen


def files(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    xml_message, json_message = referral("CASE-1", seed=1), referral("CASE-2", seed=2)
    (tmp_path / "a.xml").write_text(to_xml(xml_message), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(json_message), encoding="utf-8")
    return xml_message, json_message


def test_each_file_goes_in_its_own_format(tmp_path: Path, received: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The XML file is sent as application/fhir+xml with the same content; JSON as JSON."""
    xml_message, json_message = files(tmp_path)
    assert main(["send", str(tmp_path), "--endpoint", BASE]) == 0
    assert "2 message(s): 2 ok" in capsys.readouterr().out
    assert [media for media, _ in received] == ["application/fhir+xml", "application/fhir+json"]
    assert received[0][1] == xml_message and received[1][1] == json_message


def test_format_option_overrides_the_files(tmp_path: Path, received: Any) -> None:
    """--format json sends the XML file's message as JSON."""
    xml_message, _ = files(tmp_path)
    assert main(["send", str(tmp_path / "a.xml"), "--endpoint", BASE, "--format", "json"]) == 0
    assert received == [("application/fhir+json", xml_message)]


def test_xml_with_an_unknown_element_is_not_sent(tmp_path: Path, received: Any,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """What the JSON form would leave out is refused before anything is sent: exit 2."""
    text = to_xml(referral("CASE-1", seed=1)).replace("<type ", '<colour value="red"/><type ', 1)
    (tmp_path / "a.xml").write_text(text, encoding="utf-8")
    assert main(["send", str(tmp_path / "a.xml"), "--endpoint", BASE]) == 2
    err = capsys.readouterr().err
    assert "a.xml: not FHIR XML (Bundle.colour: " in err
    assert received == []


@pytest.mark.parametrize(("name", "content", "exit_code", "note", "sent"), [
    pytest.param("pom.xml", "<project><modelVersion>4.0.0</modelVersion></project>", 0,
                 "skipping", 2, id="no-fhir-resource-skipped"),
    pytest.param("c.xml", '<Bundle xmlns="http://hl7.org/fhir"><id value="x"/>', 2,
                 "c.xml: not FHIR XML (", 0, id="malformed-stops-the-run"),
])
def test_other_xml_in_a_directory(tmp_path: Path, received: Any,
                                  capsys: pytest.CaptureFixture[str], name: str, content: str,
                                  exit_code: int, note: str, sent: int) -> None:
    """A build file beside the messages is skipped with a note, like manifest.json; a message
    file that is not well-formed is not skipped quietly: exit 2, nothing sent."""
    files(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert main(["send", str(tmp_path), "--endpoint", BASE]) == exit_code
    assert note in capsys.readouterr().err
    assert len(received) == sent
