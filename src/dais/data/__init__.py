"""Data: connections to sources, registered datasets (sample, schema, partitions), versions, readers."""
