"""A custom formula's gradient as data a compiled kernel interprets: opcodes, not source.

:func:`compile_gradient` turns the exact gradient program of a checked formula
(:attr:`engine.landscape.expressions.Expression.gradient_program`, a list of steps built from
the whitelisted tree) into a few integer and float arrays: one instruction per step (opcode,
destination register, two operand registers), the constants and the two output registers.
The kernel runs each instruction over a whole block of starts, so its dispatch is paid once
per block, not per point. Nothing of the user's text is ever turned into code: the opcodes
come from a fixed table of the whitelisted operations, and the constants are numbers.

Each opcode does what the NumPy step does, operation for operation: the same C-library
functions (:mod:`engine.landscape.libm`), NumPy's exact shortcuts for a constant power of
-1, 0, ½, 1 or 2, and NumPy's ``sign`` and ``logaddexp`` formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.landscape import libm
from engine.landscape.symbolic import FUNCTIONS, Program

# Opcodes (the kernel's interpreter reads the same numbers).
X, Y, NEG, ADD, SUB, MUL, DIV, POW = 1, 2, 3, 4, 5, 6, 7, 8
POW_M1, POW_0, POW_HALF, POW_1, POW_2 = 9, 10, 11, 12, 13
(SIN, COS, TAN, EXP, LOG, LOG10, LOG2, SQRT, ABS, SIGN, TANH, SINH, COSH, ARCTAN, ARCSIN,
 ARCCOS, SIGMOID) = range(20, 37)
UNARY = {"sin": SIN, "cos": COS, "tan": TAN, "exp": EXP, "log": LOG, "log10": LOG10,
         "log2": LOG2, "sqrt": SQRT, "abs": ABS, "sign": SIGN, "tanh": TANH, "sinh": SINH,
         "cosh": COSH, "arctan": ARCTAN, "arcsin": ARCSIN, "arccos": ARCCOS, "sigmoid": SIGMOID}
_BINARY = {np.add: ADD, np.subtract: SUB, np.multiply: MUL, np.divide: DIV, libm.power: POW}
_SHORTCUTS = {-1.0: POW_M1, 0.0: POW_0, 0.5: POW_HALF, 1.0: POW_1, 2.0: POW_2}
_FUNCTION_CODES = {id(function): UNARY[name] for name, function in FUNCTIONS.items()}


@dataclass(frozen=True)
class CompiledGradient:
    """The data of one gradient program.

    ``code`` rows are instructions ``(opcode, destination, a, b)`` (registers; ``b`` is -1 for
    one operand); register ``constant_registers[i]`` holds ``constants[i]`` from the start;
    ``outputs`` are the registers of df/dx and df/dy after the last instruction.
    """

    code: np.ndarray  # (n, 4) int64
    constant_registers: np.ndarray  # (c,) int64
    constants: np.ndarray  # (c,) float64
    outputs: np.ndarray  # (2,) int64
    registers: int


def compile_gradient(program: Program) -> CompiledGradient:
    """Translate a gradient :class:`Program` (roots df/dx, df/dy) into instructions.

    Registers are reused once a step's value is no longer needed, so a long formula needs
    few of them.
    """
    if len(program.outputs) != 2:
        raise ValueError("compile_gradient needs a gradient program (df/dx, df/dy)")
    steps, outputs = program.steps, program.outputs
    needed, stack = set(), list(outputs)
    while stack:
        slot = stack.pop()
        if slot not in needed:
            needed.add(slot)
            stack.extend(steps[slot][2])
    order = sorted(needed)  # a step's operands always come before it
    last_use = {a: slot for slot in order for a in steps[slot][2]}
    register: dict[int, int] = {}
    free: list[int] = []
    count = 0
    code, const_regs, consts = [], [], []

    def allocate(reuse: bool = True) -> int:
        nonlocal count
        if free and reuse:
            return free.pop()
        count += 1
        return count - 1

    for slot in order:
        kind, payload, args = steps[slot]
        if kind == 0:  # constants are set once per block: their registers are never reused
            register[slot] = allocate(reuse=False)
            const_regs.append(register[slot])
            consts.append(float(payload))
            continue
        opcode = _opcode(kind, payload, args, steps)
        operands = [register[a] for a in args]
        if opcode in _SHORTCUTS.values():
            operands = operands[:1]  # the exponent is a constant the opcode names
        for a in set(args):  # free operands used for the last time (constants stay)
            if last_use[a] == slot and a not in outputs and steps[a][0] != 0:
                free.append(register[a])
        register[slot] = allocate()
        code.append((opcode, register[slot], *operands, *([-1] * (2 - len(operands)))))
    return CompiledGradient(
        np.array(code, dtype=np.int64).reshape(-1, 4),
        np.array(const_regs, dtype=np.int64), np.array(consts, dtype=np.float64),
        np.array([register[s] for s in outputs], dtype=np.int64), max(count, 1))


def _opcode(kind: int, payload: object, args: tuple[int, ...], steps: list) -> int:
    if kind == 1:
        return X
    if kind == 2:
        return Y
    if payload is np.negative:
        return NEG
    if payload in _BINARY:
        opcode = _BINARY[payload]
        exponent = steps[args[1]]
        if opcode == POW and exponent[0] == 0 and float(exponent[1]) in _SHORTCUTS:
            return _SHORTCUTS[float(exponent[1])]
        return opcode
    if id(payload) in _FUNCTION_CODES:
        return _FUNCTION_CODES[id(payload)]
    raise ValueError(f"no opcode for the step {payload!r}")  # pragma: no cover - whitelist
