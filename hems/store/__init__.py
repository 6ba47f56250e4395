"""SQLite storage of one home's history, setpoints, events, preferences and latest plan."""
from hems.store.db import StoreError, migrate, schema_version
from hems.store.migrations import MIGRATIONS, Migration
from hems.store.store import Store

__all__ = ["MIGRATIONS", "Migration", "Store", "StoreError", "migrate", "schema_version"]
