"""The data lake: Parquet tables with one schema, written atomically, read through DuckDB."""
