"""The storage contract suite: every test runs on real SQLite and real PostgreSQL."""
