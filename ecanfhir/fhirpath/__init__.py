"""FHIRPath (R4 fhirpath.html) for invariants, slicing and search expressions on JSON.

Imports run one way: ``engine`` (compile once, evaluate) uses the fast-path ``compiler`` and
the ``natives`` (Python equivalents of the hottest core invariants); both use ``functions``
(FHIR's additional FHIRPath functions), which use ``model`` (how FHIR JSON looks to FHIRPath).
The ``compiler`` builds on ``fast_operators`` and ``fast_functions``, which build on
``fast_nodes`` (the collections, nodes and member navigation of the fast path).
"""
