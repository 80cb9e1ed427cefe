"""Storage: SQLite by default, through a URL."""
