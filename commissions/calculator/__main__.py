"""``python -m commissions.calculator ...``: the ``calc`` command without the rest of the CLI."""

from commissions.calculator.command import calc_command

if __name__ == "__main__":
    calc_command(prog_name="commissions calc")
