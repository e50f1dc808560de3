"""Artifact store plugins (group ``dais.artifact_stores``)."""
