"""Definitions: the conformance resources the validator works from.

``core`` ships R4 core and the HL7 packages known by default (``data/``); ``registry`` holds
them, and whatever a user loads, by canonical URL; ``xver`` synthesises cross-version
extensions; ``snapshot`` generates snapshots from differentials (``snapshot_generator``
builds the tree, ``snapshot_merge`` merges each differential element, ``snapshot_elements``
holds keys, trees and nodes) and ``schema`` compiles snapshots into element trees;
``packages`` loads, installs and builds FHIR NPM packages; ``pilot`` is the eCAN+ pilot
package shipped with ecanfhir.

Internal: the public names are re-exported by :mod:`ecanfhir`.
"""
