"""Runnable examples (`python -m examples.credit_demo`)."""
