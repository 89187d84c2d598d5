"""Prefect flows, fetching, settings and the ``radar`` CLI (the thin shell).

Importing this package must not import Prefect: ``radar parse``/``radar diff`` stay fast.
"""
