"""The ``sync-gateway`` command line: the Typer app (:mod:`.app`), one module per command
group (:mod:`.shops`, :mod:`.jobs`, :mod:`.run`, :mod:`.tokens`, :mod:`.database`,
:mod:`.secret_key`, :mod:`.plugins`, :mod:`.servers`), what they share (:mod:`.context`,
:mod:`.output`, :mod:`.failures`), the demo (:mod:`.demo`) and runs in the foreground with a
progress bar (:mod:`.foreground`)."""
