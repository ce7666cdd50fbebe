"""The ``sync-gateway`` command line: the Typer commands (:mod:`.commands`), the demo
(:mod:`.demo`) and runs in the foreground with a progress bar (:mod:`.foreground`)."""
