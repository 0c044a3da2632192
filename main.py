"""Optiscope: deep-learning optimizers, made visible.

``python main.py`` opens the app window; ``python main.py COMMAND ...`` runs a headless
command (``python main.py --help`` lists them). Bad input exits with status 2 and one line
on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: a headless command, or the GUI when no command is given."""
    import os
    from functools import partial

    from engine import allocator
    from engine.landscape.kernels import worker

    if os.environ.get(worker.ENV):  # started again as the app's kernel compiler (packaged)
        worker.serve()
        return 0
    allocator.keep_freed_memory()  # before the first large array (engine/allocator.py)

    from engine.cli.landscape import add_landscape_command
    from engine.cli.main import UsageError, build_parser, run_parsed
    from engine.cli.maps import add_maps_commands
    from engine.cli.train import add_train_command
    from gui.maps.picture import write_map_png
    from gui.render import add_render_command
    from gui.training.network_render import write_png as write_landscape_png

    def maps_commands(commands) -> None:
        add_maps_commands(commands, png_writer=write_map_png)  # PNGs drawn as the GUI draws

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(extensions=(
            add_render_command, add_train_command, maps_commands,
            partial(add_landscape_command, write_png=write_landscape_png),
        )).parse_args(argv)
    except UsageError as error:
        sys.stderr.write(f"optiscope: error: {error}\n")
        return 2
    if args.command is not None:
        return run_parsed(args)
    opened = None
    if args.scenario is not None:  # checked before any window opens: exit 2 if refused
        from engine.files import scenario

        try:
            opened = scenario.load(args.scenario)
        except scenario.ScenarioError as error:
            sys.stderr.write(f"optiscope: error: --scenario: {error}\n")
            return 2
    from gui.app import run_app

    return run_app(self_test=args.self_test, scenario=opened)


if __name__ == "__main__":
    sys.exit(main())
