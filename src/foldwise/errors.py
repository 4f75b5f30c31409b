"""The one exception type the command line turns into a one-line error."""


class FoldwiseError(Exception):
    """A user-facing error: bad input, a missing file, a conflicting setting.

    The message is a single line that names the file, row, column or key at fault;
    the CLI prints it as ``error: <message>`` and exits with status 2.
    """
