"""Labels, records, readers and sentence splitting. Imports nothing else of stanceframe."""
