"""Polychrome core: colour science, marginal models, sampler, hints, IO, evaluation.

Nothing in this package imports Qt.
"""
