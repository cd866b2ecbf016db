"""The offline calculator (``commissions calc``): CSV and plan files in, statements out.

It reads people, deals, quotas and campaigns in the formats of cli.md, checks every
row (errors name the file, the line and the field), runs the engine and prints text
statements or the JSON document. ``run_calculation`` is the same thing as a function.
"""

from commissions.calculator.readers import (
    CalcInput,
    CsvError,
    load_inputs,
    run_calculation,
)

__all__ = ["CalcInput", "CsvError", "load_inputs", "run_calculation"]
