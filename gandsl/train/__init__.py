"""Training a compiled spec: `gandsl train` and `gandsl sample`.

The generated module's `Objective.iteration` is the training step; this package supplies what
it needs around it (data, optimizers' schedules, EMA, checkpoints, metrics, sample grids).
"""
