"""Experiment tracking: experiments, runs, params, tags, metric history, inputs; an MLflow-compatible facade.

The tables live in :mod:`dais.tracking.models`, MLflow's semantics in :mod:`dais.tracking.service`,
the filter grammar in :mod:`dais.tracking.search`, chart reads in :mod:`dais.tracking.history`, and
the REST facade that MLflow clients talk to in :mod:`dais.tracking.mlflow`.
"""
