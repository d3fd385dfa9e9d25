"""The application layer: one use case per module (plan, dispatch, simulate, move, cancel,
free/busy, check, the database), called alike by the CLI, the service and the web app.
Each takes the installation's ``Services`` and the clock, and returns a typed result;
printing is the caller's."""
