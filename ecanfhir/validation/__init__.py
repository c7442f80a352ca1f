"""Validation of FHIR R4 resources against StructureDefinitions."""
