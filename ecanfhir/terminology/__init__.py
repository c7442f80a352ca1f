"""Terminology offline: value set expansion, code checks, UCUM, and comparing typed values.

``value_sets`` expands ValueSets and checks codes against what the Registry holds (FHIR R4
§4.9.5); ``ucum`` converts units of the same kind; ``comparison`` compares numbers, dates,
Quantities, Codings and References as FHIR defines.
"""
