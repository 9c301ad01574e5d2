"""``python -m planner``: the same as the ``planner`` command."""

from planner.cli.main import main

main()
