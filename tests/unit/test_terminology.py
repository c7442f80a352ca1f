from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecanfhir.definitions.registry import Registry
from ecanfhir.terminology import code_sets
from ecanfhir.terminology.code_syntax import check_code_syntax
from ecanfhir.terminology.value_sets import EXTERNAL_SYSTEMS, Expansion, Terminology

GENDER_VS = "http://hl7.org/fhir/ValueSet/administrative-gender"
GENDER = "http://hl7.org/fhir/administrative-gender"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_VS = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

TUMOUR = "http://example.org/cs/tumour"
STAGE = "http://example.org/cs/stage"
TUMOUR_CS: dict[str, Any] = {
    "resourceType": "CodeSystem", "url": TUMOUR, "version": "2", "status": "active",
    "content": "complete", "caseSensitive": True, "hierarchyMeaning": "is-a",
    "property": [{"code": "grade", "type": "code"}],
    "concept": [
        {"code": "neoplasm", "display": "Neoplasm",
         "property": [{"code": "notSelectable", "valueBoolean": True}],
         "concept": [
             {"code": "benign", "display": "Benign neoplasm"},
             {"code": "malignant", "display": "Malignant neoplasm", "concept": [
                 {"code": "carcinoma", "display": "Carcinoma",
                  "property": [{"code": "grade", "valueCode": "high"}],
                  "concept": [{"code": "adenocarcinoma", "display": "Adenocarcinoma",
                               "designation": [{"value": "Adeno-Ca"}]}]},
                 {"code": "sarcoma", "display": "Sarcoma",
                  "property": [{"code": "status", "valueCode": "retired"}]},
             ]},
         ]},
        {"code": "other", "display": "Other"},
    ],
}
STAGE_CS: dict[str, Any] = {
    "resourceType": "CodeSystem", "url": STAGE, "status": "active", "content": "complete",
    "caseSensitive": False,
    "concept": [{"code": "I", "display": "Stage I"}, {"code": "II", "display": "Stage II"},
                {"code": "IIIa", "display": "Stage IIIA"}],
}


def value_set(name: str, include: list[dict[str, Any]], **compose: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": f"http://example.org/vs/{name}",
            "status": "active", "compose": {"include": include, **compose}}


def terminology(*resources: dict[str, Any]) -> Terminology:
    registry = Registry()
    registry.add_all([TUMOUR_CS, STAGE_CS, *resources])
    return Terminology(registry)


def codes(expansion: Expansion | None) -> list[str]:
    assert expansion is not None
    return [c.code for c in expansion]


def filtered(name: str, *filters: dict[str, str]) -> dict[str, Any]:
    return value_set(name, [{"system": TUMOUR, "filter": list(filters)}])


def concept_filter(op: str, value: str) -> dict[str, str]:
    return {"property": "concept", "op": op, "value": value}


@pytest.fixture(scope="module")
def core() -> Terminology:
    return Terminology(Registry())


# -- core value sets ---------------------------------------------------------------------------
def test_administrative_gender_member(core: Terminology) -> None:
    """A code of the bound system is a member and carries the code system's display."""
    check = core.check_code(GENDER_VS, system=GENDER, code="male")
    assert (check.outcome, check.display, check.message) == ("member", "Male", "")


def test_administrative_gender_not_member(core: Terminology) -> None:
    """A misspelt code is not a member; the message names the code and the allowed ones."""
    check = core.check_code(GENDER_VS, system=GENDER, code="mal")
    assert check.outcome == "not-member"
    assert "'mal'" in check.message and "'male', 'female', 'other', 'unknown'" in check.message


def test_wrong_system_is_not_member(core: Terminology) -> None:
    """A code from a system the value set does not use is not a member, and says which is."""
    check = core.check_code(GENDER_VS, system=LOINC, code="male")
    assert check.outcome == "not-member"
    assert GENDER in check.message


def test_case_sensitive_hint(core: Terminology) -> None:
    """A code differing only in case is rejected with a did-you-mean hint."""
    check = core.check_code("http://hl7.org/fhir/ValueSet/observation-status",
                            system="http://hl7.org/fhir/observation-status", code="Final")
    assert check.outcome == "not-member" and "did you mean 'final'" in check.message


def test_observation_status_expansion(core: Terminology) -> None:
    """A whole-system include lists every code of the CodeSystem in order."""
    expansion = core.expand("http://hl7.org/fhir/ValueSet/observation-status")
    assert codes(expansion)[:3] == ["registered", "preliminary", "final"]


def test_is_a_filter_with_exclude(core: Terminology) -> None:
    """v3 ActEncounterCode: is-a keeps nested descendants, the exclude drops the abstract root."""
    expansion = core.expand(ENCOUNTER_VS)
    assert expansion is not None
    assert {"AMB", "IMP", "ACUTE", "VR"} <= set(codes(expansion))
    assert "_ActEncounterCode" not in codes(expansion)
    assert core.check_code(ENCOUNTER_VS, system=ACT_CODE, code="ACUTE").outcome == "member"
    assert core.check_code(ENCOUNTER_VS, system=ACT_CODE, code="CASH").outcome == "not-member"


def test_imports_union(core: Terminology) -> None:
    """security-labels is the union of six imported v3 value sets."""
    vs = "http://hl7.org/fhir/ValueSet/security-labels"
    confidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
    assert core.check_code(vs, system=confidentiality, code="R").outcome == "member"
    assert core.check_code(vs, system=confidentiality, code="Q").outcome == "not-member"


def test_import_plus_concept(core: Terminology) -> None:
    """yesnodontknow imports v2-0136 and adds one data-absent-reason code."""
    assert sorted(codes(core.expand("http://hl7.org/fhir/ValueSet/yesnodontknow"))) == [
        "N", "Y", "asked-unknown"]


def test_versioned_system_url_in_core(core: Terminology) -> None:
    """Core v2 tables whose CodeSystem url carries '|2.1' still expand under the bare url."""
    vs = "http://terminology.hl7.org/ValueSet/v2-2.1-0006"
    system = "http://terminology.hl7.org/CodeSystem/v2-0006"
    assert core.check_code(vs, system=system, code="A").outcome == "member"
    assert core.lookup(system, "ABC", version="2.4") is not None


def test_external_system_is_unknown(core: Terminology) -> None:
    """A value set including all of SNOMED CT cannot be decided, and the message says why."""
    check = core.check_code("http://hl7.org/fhir/ValueSet/condition-code", system=SNOMED,
                            code="22298006")
    assert check.outcome == "unknown" and "SNOMED CT" in check.message
    assert core.expand("http://hl7.org/fhir/ValueSet/condition-code") is None


def test_listed_external_codes_are_enumerable(core: Terminology) -> None:
    """SNOMED codes listed one by one in compose.concept are decided without SNOMED itself."""
    vs = "http://hl7.org/fhir/ValueSet/texture-code"
    member = core.check_code(vs, system=SNOMED, code="228053002")
    assert member.outcome == "member" and member.display is None
    assert member.concept is not None and member.concept.display == "Cut-up food"
    assert core.check_code(vs, system=SNOMED, code="22298006").outcome == "not-member"


def test_stored_expansion_used_when_compose_unusable(core: Terminology) -> None:
    """example-expansion filters LOINC by parent, so its stored expansion is used."""
    vs = "http://hl7.org/fhir/ValueSet/example-expansion"
    assert core.check_code(vs, system=LOINC, code="2093-3").outcome == "member"
    assert len(core.expand(vs) or ()) == 8


def test_unevaluable_filter_is_unknown(core: Terminology) -> None:
    """A filter on a property the trimmed core does not keep gives unknown, naming the filter."""
    check = core.check_code("http://hl7.org/fhir/ValueSet/example-filter",
                            system="http://hl7.org/fhir/CodeSystem/example", code="chol")
    assert check.outcome == "unknown" and "acme-plasma" in check.message


def test_missing_value_set_is_unknown(core: Terminology) -> None:
    """An unknown value set canonical gives unknown rather than raising."""
    check = core.check_code("http://example.org/nope", system=GENDER, code="male")
    assert check.outcome == "unknown" and "http://example.org/nope" in check.message
    assert core.expand("http://example.org/nope") is None


def test_expand_every_core_value_set() -> None:
    """Every core ValueSet expands to an Expansion or None, never an exception."""
    registry = Registry()
    tx = Terminology(registry)
    urls = [e.url for e in registry.core.entries.values() if e.resource_type == "ValueSet"]
    results = [tx.expand(url) for url in urls]
    assert len(urls) > 1300
    assert all(r is None or isinstance(r, Expansion) for r in results)
    assert sum(r is not None for r in results) > 1100


def test_expansion_is_cached(core: Terminology) -> None:
    """A second expand returns the cached object."""
    assert core.expand(GENDER_VS) is core.expand(GENDER_VS)


@pytest.mark.interpreted_only("ecanfhir.terminology.value_sets")
def test_check_code_is_a_lookup_once_expanded(core: Terminology,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first check, the value set is neither read nor evaluated again: a check is a
    dictionary lookup (work counted, not timed)."""
    first = core.check_code(ENCOUNTER_VS, system=ACT_CODE, code="AMB")

    def not_again(*_args: object) -> object:
        raise AssertionError("the value set was evaluated again")

    monkeypatch.setattr(core, "_evaluate", not_again)
    monkeypatch.setattr(core.registry, "value_set", not_again)
    for _ in range(3):
        assert core.check_code(ENCOUNTER_VS, system=ACT_CODE, code="AMB") == first


def test_check_code_answers_are_forgotten_when_the_definitions_change() -> None:
    """A remembered answer holds until the registry changes: a code system loaded later turns
    'not-member' into 'member' for the same question."""
    tx = terminology(value_set("both", [{"system": TUMOUR}, {"system": STAGE}]))
    vs = "http://example.org/vs/both"
    extra = "http://example.org/cs/extra"
    assert tx.check_code(vs, system=None, code="benign").outcome == "member"
    assert tx.check_code(vs, system=None, code="grade-x").outcome == "not-member"
    tx.registry.add({"resourceType": "CodeSystem", "url": extra, "status": "active",
                     "content": "complete", "concept": [{"code": "grade-x"}]})
    tx.registry.add(value_set("both", [{"system": TUMOUR}, {"system": extra}]))
    assert tx.check_code(vs, system=None, code="grade-x").outcome == "member"
    assert tx.check_code(vs, system=None, code="benign").outcome == "member"


def test_remember_computes_a_fact_once_per_key_until_the_registry_changes() -> None:
    """remember(): one computation per key; none is reused after the registry changes."""
    tx = terminology()
    calls: list[str] = []

    def fact(name: str) -> str:
        calls.append(name)
        return name.upper()

    assert [tx.remember(("k", n), fact, n) for n in ("a", "b", "a")] == ["A", "B", "A"]
    assert calls == ["a", "b"]
    tx.registry.add(STAGE_CS | {"version": "2"})
    assert tx.remember(("k", "a"), lambda: fact("a")) == "A"  # a computation without arguments
    assert calls == ["a", "b", "a"]


# -- hand-written compose rules ----------------------------------------------------------------
def test_whole_system_keeps_abstract_codes_flagged() -> None:
    """Including a whole system keeps notSelectable codes but flags them abstract."""
    tx = terminology(value_set("all", [{"system": TUMOUR}]))
    expansion = tx.expand("http://example.org/vs/all")
    assert codes(expansion) == ["neoplasm", "benign", "malignant", "carcinoma",
                                "adenocarcinoma", "sarcoma", "other"]
    assert expansion is not None
    neoplasm = expansion.find(TUMOUR, "neoplasm")
    sarcoma = expansion.find(TUMOUR, "sarcoma")
    assert neoplasm is not None and neoplasm.abstract
    assert sarcoma is not None and sarcoma.inactive


def test_concept_list_and_exclude() -> None:
    """Listed concepts are included; excluded ones removed."""
    tx = terminology(value_set(
        "list", [{"system": TUMOUR, "concept": [{"code": "benign"}, {"code": "other"}]}],
        exclude=[{"system": TUMOUR, "concept": [{"code": "other"}]}]))
    assert codes(tx.expand("http://example.org/vs/list")) == ["benign"]


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("is-a", "malignant", ["malignant", "carcinoma", "adenocarcinoma", "sarcoma"]),
    ("descendent-of", "malignant", ["carcinoma", "adenocarcinoma", "sarcoma"]),
    ("is-not-a", "malignant", ["neoplasm", "benign", "other"]),
    ("generalizes", "carcinoma", ["neoplasm", "malignant", "carcinoma"]),
    ("=", "benign", ["benign"]),
    ("in", "benign, other,unknown-code", ["benign", "other"]),
    ("not-in", "neoplasm,malignant,carcinoma,adenocarcinoma", ["benign", "sarcoma", "other"]),
    ("regex", ".*oma", ["carcinoma", "adenocarcinoma", "sarcoma"]),
    ("is-a", "no-such-code", []),
])
def test_concept_filters(op: str, value: str, expected: list[str]) -> None:
    """Hierarchy and code filters select the codes R4 §4.9.5 says they do."""
    tx = terminology(filtered("f", concept_filter(op, value)))
    assert codes(tx.expand("http://example.org/vs/f")) == expected


def test_property_filters_and_intersection() -> None:
    """Property filters (kept or declared) work, and several filters intersect."""
    tx = terminology(
        filtered("retired", {"property": "status", "op": "=", "value": "retired"}),
        filtered("selectable", concept_filter("is-a", "neoplasm"),
                 {"property": "notSelectable", "op": "=", "value": "false"}),
        filtered("grade", {"property": "grade", "op": "=", "value": "high"}))
    assert codes(tx.expand("http://example.org/vs/retired")) == ["sarcoma"]
    assert "neoplasm" not in codes(tx.expand("http://example.org/vs/selectable"))
    assert codes(tx.expand("http://example.org/vs/grade")) == ["carcinoma"]


def test_property_exists_and_not_in() -> None:
    """'exists' tests for a stated property; 'not-in' keeps concepts without the listed values."""
    tx = terminology(
        filtered("graded", {"property": "grade", "op": "exists", "value": "true"}),
        filtered("current", {"property": "status", "op": "not-in", "value": "retired"}))
    assert codes(tx.expand("http://example.org/vs/graded")) == ["carcinoma"]
    assert "sarcoma" not in codes(tx.expand("http://example.org/vs/current"))
    assert len(codes(tx.expand("http://example.org/vs/current"))) == 6


def test_unsupported_filter_is_unknown() -> None:
    """A filter operator we cannot evaluate makes the system's part unknown."""
    tx = terminology(filtered("odd", {"property": "undeclared", "op": "=", "value": "x"}))
    check = tx.check_code("http://example.org/vs/odd", system=TUMOUR, code="benign")
    assert check.outcome == "unknown" and "undeclared = x" in check.message
    assert tx.expand("http://example.org/vs/odd") is None


def test_import_intersection_and_system_restriction() -> None:
    """Several valueSet imports intersect; a system next to them restricts to that system."""
    tx = terminology(
        filtered("malignant", concept_filter("is-a", "malignant")),
        filtered("carcinoma", concept_filter("is-a", "carcinoma")),
        value_set("both", [{"valueSet": ["http://example.org/vs/malignant",
                                         "http://example.org/vs/carcinoma"]}]),
        value_set("mixed", [{"system": STAGE}, {"system": TUMOUR, "concept": [{"code": "other"}]}]),
        value_set("only-stage", [{"system": STAGE, "valueSet": ["http://example.org/vs/mixed"]}]))
    assert codes(tx.expand("http://example.org/vs/both")) == ["carcinoma", "adenocarcinoma"]
    assert codes(tx.expand("http://example.org/vs/only-stage")) == ["I", "II", "IIIa"]


def test_case_insensitive_code_system() -> None:
    """Codes of a caseSensitive=false system match in any case."""
    tx = terminology(value_set("stage", [{"system": STAGE}]))
    check = tx.check_code("http://example.org/vs/stage", system=STAGE, code="iiia")
    assert (check.outcome, check.display) == ("member", "Stage IIIA")
    assert tx.lookup(STAGE, "ii") is not None


def test_import_cycle_is_unknown() -> None:
    """Value sets importing each other give unknown instead of recursing forever."""
    tx = terminology(
        value_set("a", [{"valueSet": ["http://example.org/vs/b"]}]),
        value_set("b", [{"valueSet": ["http://example.org/vs/a"]},
                        {"system": TUMOUR, "concept": [{"code": "other"}]}]))
    check = tx.check_code("http://example.org/vs/a", system=TUMOUR, code="benign")
    assert check.outcome == "unknown" and "circular" in check.message
    assert tx.expand("http://example.org/vs/b") is None
    assert tx.check_code("http://example.org/vs/b", system=TUMOUR, code="other").outcome == "member"


def test_partial_enumerability() -> None:
    """With SNOMED and a local system included, local codes are decided, SNOMED ones unknown."""
    tx = terminology(value_set("mix", [{"system": SNOMED}, {"system": STAGE}]))
    vs = "http://example.org/vs/mix"
    assert tx.check_code(vs, system=STAGE, code="II").outcome == "member"
    assert tx.check_code(vs, system=STAGE, code="IV").outcome == "not-member"
    snomed = tx.check_code(vs, system=SNOMED, code="22298006")
    assert snomed.outcome == "unknown" and "SNOMED CT" in snomed.message
    assert tx.expand(vs) is None


def test_missing_import_makes_everything_unknown() -> None:
    """An import of an unknown value set could hold any code, so non-members become unknown."""
    tx = terminology(value_set("m", [{"valueSet": ["http://example.org/vs/absent"]},
                                     {"system": STAGE}]))
    vs = "http://example.org/vs/m"
    assert tx.check_code(vs, system=STAGE, code="I").outcome == "member"
    unknown = tx.check_code(vs, system=TUMOUR, code="benign")
    assert unknown.outcome == "unknown" and "http://example.org/vs/absent" in unknown.message


def test_exclude_of_unknown_keeps_upper_bound() -> None:
    """Excluding an unknown import leaves listed codes undecided but others still rejected."""
    tx = terminology(value_set("x", [{"system": STAGE}],
                               exclude=[{"valueSet": ["http://example.org/vs/absent"]}]))
    vs = "http://example.org/vs/x"
    assert tx.check_code(vs, system=STAGE, code="I").outcome == "unknown"
    assert tx.check_code(vs, system=STAGE, code="IV").outcome == "not-member"


def test_inactive_false_drops_retired_codes() -> None:
    """compose.inactive = false leaves retired codes out."""
    tx = terminology(value_set("active", [{"system": TUMOUR}], inactive=False))
    assert "sarcoma" not in codes(tx.expand("http://example.org/vs/active"))


def test_version_mismatch_still_matches() -> None:
    """An include pinned to another CodeSystem version still uses the loaded one."""
    tx = terminology(value_set("v", [{"system": TUMOUR, "version": "1"}]),
                     value_set("pipe", [{"system": f"{TUMOUR}|1"}]))
    assert tx.check_code("http://example.org/vs/v", system=TUMOUR, code="other").outcome == "member"
    assert tx.check_code("http://example.org/vs/pipe", system=TUMOUR,
                         code="other").outcome == "member"


def test_expansion_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value set larger than MAX_EXPANSION counts as not enumerable."""
    monkeypatch.setattr(code_sets, "MAX_EXPANSION", 3)
    tx = terminology(value_set("all", [{"system": TUMOUR}]))
    assert tx.expand("http://example.org/vs/all") is None
    check = tx.check_code("http://example.org/vs/all", system=TUMOUR, code="benign")
    assert check.outcome == "unknown" and "more than 3 codes" in check.message


def test_partial_stored_expansion_is_not_used() -> None:
    """A paged stored expansion (total above the codes present) is not trusted."""
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/paged",
          "expansion": {"total": 10, "contains": [{"system": STAGE, "code": "I"}]}}
    assert terminology(vs).expand("http://example.org/vs/paged") is None


def test_registry_change_invalidates_cache() -> None:
    """A new version of a value set is picked up once the registry generation moves on."""
    tx = terminology({**value_set("g", [{"system": STAGE, "concept": [{"code": "I"}]}]),
                      "version": "1"})
    assert codes(tx.expand("http://example.org/vs/g")) == ["I"]
    tx.registry.add({**value_set("g", [{"system": STAGE, "concept": [{"code": "II"}]}]),
                     "version": "2"})
    assert codes(tx.expand("http://example.org/vs/g")) == ["II"]


def test_bare_code_matches_any_system() -> None:
    """With system None (the `code` datatype) the code is looked up in every system."""
    tx = terminology(value_set("mix", [{"system": STAGE}, {"system": TUMOUR}]))
    vs = "http://example.org/vs/mix"
    assert tx.check_code(vs, system=None, code="benign").outcome == "member"
    assert tx.check_code(vs, system=None, code="iiia").outcome == "member"
    missing = tx.check_code(vs, system=None, code="IV")
    assert missing.outcome == "not-member" and "'IV'" in missing.message


def test_bare_code_outside_every_external_syntax_is_not_member() -> None:
    """Systems not available offline keep a bare code unknown, unless it cannot be one of
    their codes at all (R4 jurisdiction: ISO 3166, ISO 3166-2, UN M49 regions)."""
    tx = terminology(value_set("places", [
        {"system": "urn:iso:std:iso:3166"}, {"system": "urn:iso:std:iso:3166:-2"},
        {"system": "http://unstats.un.org/unsd/methods/m49/m49.htm",
         "filter": [{"property": "class", "op": "=", "value": "region"}]}]))
    vs = "http://example.org/vs/places"
    for code in ("DK", "DNK", "DK-84", "150"):
        assert tx.check_code(vs, system=None, code=code).outcome == "unknown", code
    assert tx.check_code(vs, system=None, code="Denmark").outcome == "not-member"


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                      st.sampled_from([TUMOUR, STAGE, SNOMED, "is-a", "concept", "benign",
                                       "http://example.org/vs/h"]))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["system", "concept", "filter", "valueSet", "code",
                                     "property", "op", "value", "version", "include",
                                     "exclude", "contains", "total"]), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(compose=json_value, expansion=json_value)
def test_malformed_value_sets_never_raise(compose: Any, expansion: Any) -> None:
    """Arbitrary JSON in compose/expansion yields a result, never an exception."""
    tx = terminology({"resourceType": "ValueSet", "url": "http://example.org/vs/h",
                      "compose": compose, "expansion": expansion})
    expansion = tx.expand("http://example.org/vs/h")
    assert expansion is None or isinstance(expansion, Expansion)
    check = tx.check_code("http://example.org/vs/h", system=TUMOUR, code="benign")
    assert check.outcome in ("member", "not-member", "unknown")


# -- code system look-ups -------------------------------------------------------------------
def test_lookup_and_known_systems(core: Terminology) -> None:
    """lookup finds codes of complete code systems; SNOMED (not shipped) is not known."""
    concept = core.lookup(ACT_CODE, "_ActEncounterCode")
    assert concept is not None and concept.abstract and concept.display == "ActEncounterCode"
    assert core.lookup(GENDER, "mal") is None
    assert core.is_known_system(GENDER)
    assert not core.is_known_system(SNOMED)
    assert not core.is_known_system("http://example.org/unknown")


def test_check_display(core: Terminology) -> None:
    """Displays compare case- and whitespace-insensitively; a wrong one gets a message."""
    assert core.check_display(GENDER, "male", "  MALE ") is None
    message = core.check_display(GENDER, "male", "Man")
    assert message is not None and "'Man'" in message and "'Male'" in message
    assert core.check_display(SNOMED, "22298006", "anything") is None


def test_check_display_accepts_designations() -> None:
    """A designation of the concept is an acceptable display."""
    assert terminology().check_display(TUMOUR, "adenocarcinoma", "adeno-ca") is None


def test_display_mismatch_reported_on_member(core: Terminology) -> None:
    """check_code with a wrong display stays a member but carries the display message."""
    check = core.check_code(GENDER_VS, system=GENDER, code="male", display="Man")
    assert check.outcome == "member" and "Wrong display 'Man'" in check.message


def test_validate_system_code(core: Terminology) -> None:
    """Unknown codes of loaded complete systems are reported; other systems are not judged."""
    assert core.validate_system_code(GENDER, "male") is None
    message = core.validate_system_code(GENDER, "mal")
    assert message is not None
    assert message.startswith(f"Unknown code 'mal' in the CodeSystem '{GENDER}'")
    assert core.validate_system_code(SNOMED, "anything") is None


# -- syntax of external systems ------------------------------------------------------------
@pytest.mark.parametrize("code", [
    "22298006", "404684003", "138875005", "71388002", "386661006", "73211009",
    "439031000124108", "900000000000207008", "73211009 |Diabetes mellitus|",
    "128045006:{363698007=56459004}",
])
def test_valid_snomed_ids(code: str) -> None:
    """Real SNOMED CT concept ids and expressions pass the Verhoeff and partition checks."""
    assert check_code_syntax(SNOMED, code) is None


@pytest.mark.parametrize(("code", "fragment"), [
    ("22298007", "check digit should be 6"),
    ("022298006", "leading zero"),
    ("12345", "6 to 18 digits"),
    ("12345013", "description or relationship id"),
    ("diabetes", "neither"),
])
def test_invalid_snomed_ids(code: str, fragment: str) -> None:
    """Malformed SNOMED CT ids are reported with the reason."""
    message = check_code_syntax(SNOMED, code)
    assert message is not None and fragment in message


@pytest.mark.parametrize("code", ["8480-6", "2093-3", "14647-2", "85354-9", "718-7",
                                  "LP43571-6", "LA6576-8"])
def test_valid_loinc_codes(code: str) -> None:
    """LOINC codes with a correct mod-10 check digit, and part/answer codes, pass."""
    assert check_code_syntax(LOINC, code) is None


@pytest.mark.parametrize(("code", "reason"), [
    ("8480-5", "is not a valid LOINC code: the check digit should be 6"),
    ("123456-7", "is not a valid LOINC code: the check digit should be 6"),
    ("8480", "is not a LOINC code: expected digits, a hyphen and a check digit"),
    ("8480-66", "is not a LOINC code: expected digits, a hyphen and a check digit"),
    ("LX123-4", "is not a LOINC code: expected digits, a hyphen and a check digit"),
])
def test_invalid_loinc_codes(code: str, reason: str) -> None:
    """Wrong check digits (naming the right one) and malformed LOINC codes are reported."""
    assert check_code_syntax(LOINC, code) == f"{code!r} {reason}"


@pytest.mark.parametrize(("system", "code", "reason"), [
    ("http://unitsofmeasure.org", "mg/dL", None),
    ("http://unitsofmeasure.org", "10*3/uL", None),
    ("http://unitsofmeasure.org", "{score}", None),
    ("http://unitsofmeasure.org", "[in_i]", None),
    ("http://unitsofmeasure.org", "mg /dL",
     'is not a UCUM unit: it must be non-empty printable ASCII, no spaces'),
    ("http://unitsofmeasure.org", "[in_i",
     "is not a UCUM unit: ']' is missing"),
    ("http://unitsofmeasure.org", "m]",
     "is not a UCUM unit: unbalanced ']'"),
    ("http://unitsofmeasure.org", "",
     'is not a UCUM unit: it must be non-empty printable ASCII, no spaces'),
    ("http://hl7.org/fhir/sid/icd-10", "C50.9", None),
    ("http://hl7.org/fhir/sid/icd-10", "C50", None),
    ("http://hl7.org/fhir/sid/icd-10", "c50.9",
     "is not an ICD-10 code (e.g. 'C50.9')"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "S72.001A", None),
    ("http://hl7.org/fhir/sid/icd-10-cm", "C7A.0", None),
    ("http://hl7.org/fhir/sid/icd-10-cm", "50.9",
     "is not an ICD-10-CM code (e.g. 'C50.911')"),
    ("http://terminology.hl7.org/CodeSystem/icd-o-3", "8140/3", None),
    ("http://terminology.hl7.org/CodeSystem/icd-o-3", "8140",
     "is not an ICD-O-3 code (morphology '8140/3' or site 'C50.9')"),
    ("urn:ietf:bcp:47", "en", None),
    ("urn:ietf:bcp:47", "en-GB", None),
    ("urn:ietf:bcp:47", "zh-Hant-TW", None),
    ("urn:ietf:bcp:47", "de-CH-1901", None),
    ("urn:ietf:bcp:47", "x-private", None),
    ("urn:ietf:bcp:47", "en_GB",
     "is not a BCP-47 language tag (e.g. 'en-GB')"),
    ("urn:ietf:bcp:47", "en--GB",
     "is not a BCP-47 language tag (e.g. 'en-GB')"),
    ("urn:ietf:bcp:47", "e",
     "is not a BCP-47 language tag (e.g. 'en-GB')"),
    ("urn:iso:std:iso:3166", "NL", None),
    ("urn:iso:std:iso:3166", "nl",
     'is not an ISO 3166 country code'),
    ("urn:iso:std:iso:3166:-2", "DK-84", None),
    ("urn:iso:std:iso:3166:-2", "GB-ENG", None),
    ("urn:iso:std:iso:3166:-2", "DK",
     "is not an ISO 3166-2 subdivision code (e.g. 'DK-84')"),
    ("http://unstats.un.org/unsd/methods/m49/m49.htm", "150", None),
    ("http://unstats.un.org/unsd/methods/m49/m49.htm", "Europe",
     "is not a UN M49 area code (three digits, e.g. '150')"),
    ("urn:iso:std:iso:4217", "EUR", None),
    ("http://example.org/local", "anything goes", None),
])
def test_other_syntaxes(system: str, code: str, reason: str | None) -> None:
    """UCUM, ICD-10, ICD-O-3, BCP-47 and ISO codes get a syntax check that says what is wrong;
    unknown systems none."""
    expected = None if reason is None else f"{code!r} {reason}"
    assert check_code_syntax(system, code) == expected


def test_external_systems_named() -> None:
    """The well-known external systems have human names for messages."""
    assert EXTERNAL_SYSTEMS[SNOMED] == "SNOMED CT"
    assert EXTERNAL_SYSTEMS[LOINC] == "LOINC"
    assert {"http://unitsofmeasure.org", "urn:ietf:bcp:47", "urn:iso:std:iso:3166",
            "http://terminology.hl7.org/CodeSystem/icd-o-3"} <= EXTERNAL_SYSTEMS.keys()
