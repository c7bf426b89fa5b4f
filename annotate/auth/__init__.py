"""Who may talk to the app server, and as whom: the public origin check, signed API tokens
and session cookies, and the client address used by the login limits."""
