"""FHIRPath (R4 fhirpath.html) for invariants, slicing and search expressions on JSON.

Imports run one way: ``engine`` (compile once, evaluate) uses the fast-path ``compiler`` and
the ``natives`` (Python equivalents of the hottest core invariants), which read plain JSON as
``model`` describes it (how FHIR JSON looks to FHIRPath) and ``html_checks`` (the narrative
rules). The ``compiler`` builds on ``fast_operators`` and ``fast_functions``, which build on
``fast_nodes`` (the collections, nodes and member navigation of the fast path). None of these
imports fhirpathpy: ``engine`` imports ``interpreter`` (fhirpathpy's parser and evaluator, with
FHIR's additional functions in ``functions`` over fhirpathpy's ``nodes``) only to parse an
expression that the user cache does not hold, or to evaluate one that neither a native nor the
fast path answers.
"""
