"""One router per FHIR interaction; handlers parse, call the library, answer."""
