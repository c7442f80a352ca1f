"""Test servers for ecanfhir: mock counterparts that pilot sites and the e2e tests talk to.

``testservers.national_centre`` is the mock national cancer centre (issue 5).
"""
