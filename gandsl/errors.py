"""Errors about what the user gave (a file, a flag, a checkpoint, a dataset): the command line
prints their message and exits with status 2, never with a traceback."""


class UserError(Exception):
    """Bad input outside the spec itself; the message names the thing and what was expected."""


class TrainingStopped(Exception):
    """A run that cannot go on (repeated non-finite losses); the last checkpoint is intact."""
