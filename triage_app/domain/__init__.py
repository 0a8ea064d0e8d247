"""Pure functions of the decision: no I/O, no clock; the evaluation date is always an argument."""
