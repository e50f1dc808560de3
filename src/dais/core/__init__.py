"""Foundations every other package builds on: settings, errors, plugins, ids, logging.

`dais.core` imports nothing above it.
"""
