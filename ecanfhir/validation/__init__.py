"""Validation of FHIR R4 resources against StructureDefinitions.

The walker (``_walk``) carries the FHIRPath location through a resource; each module in
``checks/`` implements one kind of rule and yields :class:`~ecanfhir.Issue` objects. The
public names (``Validator``, ``validate``, ``ValidationResult``...) are exported by ``ecanfhir``.
"""
