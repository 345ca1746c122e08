"""Read models of the change-request workflow, shared by the command line, the dashboards and the API."""
