"""The gateway: the two faces of the sync gateway, each in its own room.

- :mod:`gateway.api`: the GraphQL API (strawberry on starlette), the webhook receiver and the
  per-domain folders; what frontends and integrators talk to over HTTP.
- :mod:`gateway.cli`: the ``sync-gateway`` command line: commands, the demo, foreground runs.
- :mod:`gateway.startup`: the executable's entry point, shared by both.
"""
