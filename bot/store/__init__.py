"""Storage: SQLite by default, through a URL."""

from bot.store.keys import cache_key, normalize_url
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import Store, StoredBrief

__all__ = ["MIGRATIONS", "Migration", "Store", "StoredBrief", "cache_key", "normalize_url"]
