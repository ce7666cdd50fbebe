"""The GraphQL API of the sync gateway (strawberry on starlette).

Organised like PyCon Italia's backend: one folder per domain (``orders``, ``jobs``, ``shops``,
``tokens``, ``system``) with ``types``, ``queries`` and ``mutations``; a per-request
:class:`~gateway.api.context.Context` holding DataLoaders; permissions in one module; the schema
exported to ``docs/schema.graphql`` and checked by a test. Build the app with
:func:`gateway.api.app.create_app`.
"""
