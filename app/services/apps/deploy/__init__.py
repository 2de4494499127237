"""A deploy in the worker. Imports point one way:

plans (step tables and names) <- context (`Deploy`, what every step gets) <- steps, clone,
teardown <- runner (claim, run, reconcile; only app.jobs imports it).
"""
