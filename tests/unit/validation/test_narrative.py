"""Narrative XHTML element by element (ecanfhir.validation.checks.narrative): what txt-1 rejects,
said precisely, and what it lets through (attributes, namespaces, blocks in paragraphs,
entities, URLs, languages).

Each rule has a valid narrative and an invalid one asserting code, rule and FHIRPath location.
All data is synthetic.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecanfhir import Issue, validate

NS = 'xmlns="http://www.w3.org/1999/xhtml"'
AT = "Basic.text.div"


def basic(div: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Basic", "code": {"text": "Synthetic note"},
            "text": {"status": "generated", "div": div}, **elements}


def narrative_issues(resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validate(resource).issues if i.rule.startswith("xhtml-")]


def the_rule(resource: dict[str, Any], rule: str) -> Issue:
    found = [i for i in narrative_issues(resource) if i.rule == rule]
    assert len(found) == 1, narrative_issues(resource)
    return found[0]


@pytest.mark.parametrize("div", [
    f"<div {NS}><p>Ann <b>Smith</b><br/>&nbsp;&amp;&#169;&apos;</p></div>",
    f'<div {NS}><table class="grid"><tr><td colspan="2" style="x">1</td></tr></table></div>',
    f'<div {NS}><a href="#p1" name="top">here</a> <img src="logo.png" alt="logo"/></div>',
    f'<div {NS}><a href="https://example.org/søg?q=a&amp;b=c#x">æøå</a></div>',
    f'<div {NS}><p><span lang="da">tekst</span></p><!-- <script> in a comment --></div>',
    f'<div {NS}><img src="data:image/png;base64,iVBORw0KGgo="/></div>',
])
def test_narratives_within_the_rules_pass(div: str) -> None:
    """Basic formatting, tables, links, images, entities and comments are fine."""
    result = validate(basic(div))
    assert narrative_issues(basic(div)) == []
    assert result.errors == ()


@pytest.mark.parametrize(("div", "rule", "words"), [
    ("<div>no namespace</div>", "xhtml-namespace", "has no xmlns"),
    ('<div xmlns="http://example.org/ns">x</div>', "xhtml-namespace", "example.org"),
    (f'<div {NS}><p xmlns="urn:other">x</p></div>', "xhtml-namespace", "urn:other"),
    (f"<p {NS}>not a div</p>", "xhtml-root", "<p>"),
    (f"<div {NS}><script>x()</script>hi</div>", "xhtml-element", "<script>"),
    (f'<div {NS}><p data-id="1">hi</p></div>', "xhtml-attribute", "'data-id'"),
    (f'<div {NS}><p onclick="x()">hi</p></div>', "xhtml-attribute", "'onclick'"),
    (f'<div {NS}><span href="#x">hi</span></div>', "xhtml-attribute", "on <span>"),
    (f"<div {NS}><p>a<ul><li>b</li></ul></p></div>", "xhtml-in-paragraph", "<ul>"),
    (f"<div {NS}><!DOCTYPE html>hi</div>", "xhtml-doctype", "DOCTYPE"),
    (f"<div {NS}>caf&eacute; &bogus;</div>", "xhtml-entity", "'&bogus;'"),
    (f'<div {NS}><a href="">empty</a></div>', "xhtml-url", "it is empty"),
    (f'<div {NS}><a href="http://x.org/a b">x</a></div>', "xhtml-url", "' '"),
    (f'<div {NS}><img src="data:image/png;base64,"/>x</div>', "xhtml-url", "data after the comma"),
    (f'<div {NS}><img src="data:a,b,c"/>x</div>', "xhtml-url", "cannot contain a comma"),
    (f'<div {NS}><img src="data:image/png;base64,***"/>x</div>', "xhtml-url", "not valid base64"),
])
def test_narrative_breaking_a_rule_is_an_error(div: str, rule: str, words: str) -> None:
    """Each broken rule is an error of its own rule id at the narrative's div."""
    issue = the_rule(basic(div), rule)
    assert (issue.severity, issue.code, issue.expression) == ("error", "invalid", AT)
    assert words in issue.message
    assert not validate(basic(div)).ok


def test_narrative_of_a_contained_resource_is_located_there() -> None:
    """A contained resource's narrative is checked at its own location."""
    inner = basic(f"<div {NS}><form>x</form></div>", id="b1")
    outer = basic(f"<div {NS}>outer</div>", contained=[inner],
                  extension=[{"url": "http://example.org/ext", "valueReference":
                              {"reference": "#b1"}}])
    issue = the_rule(outer, "xhtml-element")
    assert issue.expression == "Basic.contained[0].text.div"


def test_language_stated_on_the_narrative_passes() -> None:
    """Resource.language repeated as lang and xml:lang on the root div: nothing to say."""
    div = f'<div {NS} lang="da" xml:lang="da">Synthetic</div>'
    assert narrative_issues(basic(div, language="da")) == []


@pytest.mark.parametrize(("attributes", "words"), [
    ("", "no lang or xml:lang"),
    ('lang="da"', "no xml:lang attribute"),
    ('xml:lang="da"', "no lang attribute"),
    ('lang="en" xml:lang="da"', "lang is 'en'"),
])
def test_language_missing_or_different_on_the_narrative_is_a_warning(attributes: str,
                                                                      words: str) -> None:
    """The W3C i18n rule is best practice: a warning, and the resource stays valid."""
    resource = basic(f"<div {NS} {attributes}>Synthetic</div>", language="da")
    issue = the_rule(resource, "xhtml-lang")
    assert (issue.severity, issue.code, issue.expression) == ("warning", "business-rule", AT)
    assert words in issue.message
    assert validate(resource).ok


def test_malformed_markup_fails_txt_1_at_the_div() -> None:
    """Markup that is not well-formed (text after the root) fails txt-1 at the div."""
    result = validate(basic(f"<div {NS}>a</div>trailing text"))
    assert [(i.rule, i.expression) for i in result.errors if i.rule == "txt-1"] == [("txt-1", AT)]


def test_every_narrative_element_is_checked_not_only_the_resource_text() -> None:
    """Composition.section.text is a Narrative too; Resource.language applies to text only."""
    composition = {
        "resourceType": "Composition", "language": "da", "status": "final",
        "text": {"status": "generated", "div": f'<div {NS} lang="da" xml:lang="da">x</div>'},
        "type": {"text": "Note"}, "date": "2024-05-01", "title": "Note",
        "author": [{"display": "Synthetic Clinician"}],
        "section": [{"title": "A", "text": {"status": "generated",
                                            "div": f'<div {NS}><p><hr/><table/></p></div>'}}]}
    found = [(i.rule, i.expression) for i in narrative_issues(composition)]
    assert found == [("xhtml-in-paragraph", "Composition.section[0].text.div")]
