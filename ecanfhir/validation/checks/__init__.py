"""Small checks, each yielding :class:`~ecanfhir.Issue` objects for one kind of rule."""
