"""HelloAsso connector: API client, tolerant models, sync engine and services."""
