class DwellError(RuntimeError):
    """A failure the command line reports as a message, not a traceback."""
