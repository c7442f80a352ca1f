"""Terminology offline: value set expansion, code checks, UCUM, and comparing typed values.

``value_sets`` expands ValueSets and checks codes against what the Registry holds (FHIR R4
§4.9.5), from ``code_systems`` (CodeSystems indexed, compose filters) and ``code_sets``
(three-valued code sets and their algebra); ``code_syntax`` checks the form of codes from
external systems (SNOMED CT, LOINC, UCUM, ...); ``ucum`` converts units of the same kind;
``comparison`` compares numbers, dates, Quantities, Codings and References as FHIR defines.
"""
