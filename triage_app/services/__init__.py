"""Application services: one module per aggregate or use case, over one unit of work (:mod:`.unite`).

:class:`~triage_app.services.application.Services` holds them for one structure; the page calls them through
:class:`~triage_app.services.autorisation.ServiceAutorise` (every call checked against the user's role), the command
line and the tests directly: the same services everywhere."""
