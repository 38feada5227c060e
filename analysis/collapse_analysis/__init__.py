"""Analysis of collapse runs: read the per-generation checkpoints of every ensemble member,
aggregate them across seeds, and write summary.h5, CSV tables, figures and report.md."""

__version__ = "0.1.0"
