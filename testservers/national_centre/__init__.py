"""The mock national cancer centre (issue 5): FHIR messaging endpoint with MedCom
acknowledgements and duplicate detection, FHIR REST read/search, and the pilot KPIs.

>>> from testservers.national_centre import Settings, create_app
>>> app = create_app(Settings(database=":memory:"))
"""

from __future__ import annotations

from .app import create_app
from .settings import AuthSettings, CentreIdentity, FaultRule, RegisteredClient, Settings

__all__ = ["AuthSettings", "CentreIdentity", "FaultRule", "RegisteredClient", "Settings",
           "create_app"]
