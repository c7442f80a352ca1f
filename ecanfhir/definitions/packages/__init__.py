"""FHIR NPM packages (FHIR R4 §3.3.0): loaded, installed into the user cache, built.

``load`` reads a package (folder or ``.tgz``) into a Registry; ``npm`` speaks the npm registry
protocol of FHIR package servers; ``cache`` writes the user package cache safely; ``install``
resolves and installs a package with its dependencies; ``build`` makes a package from sources.
"""
