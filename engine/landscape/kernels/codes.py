"""Numbers shared by the Python side and the compiled kernels (no numba here).

A kernel is compiled for one optimizer family, one set of option flags and one surface
(numba specializes on them as literals, so unused code is never compiled); everything else
is data.
"""

from __future__ import annotations

# Optimizer families: one update rule each (engine.optimizers.rules).
SGD, RMSPROP, ADAGRAD, ADADELTA, ADAM, ADAMAX, NADAM, LION = range(1, 9)

# Option flags (bits).
MOMENTUM = 1  #: SGD's velocity slot; RMSprop's momentum slot
NESTEROV = 2
CENTERED = 4
AMSGRAD = 8
CLIPNORM = 16
GLOBAL_CLIPNORM = 32
CLIPVALUE = 64
WEIGHT_DECAY = 128
PER_START = 256  #: hyperparameters differ by start (hyper maps, sweeps)
NOISE = 512  #: gradient noise
RECORD = 1024  #: write every step's point, gradient and velocity (paths)

# Rows of the hyperparameter table HP (per start, or one column for all).
LR, CLIP, CLIP_INV, WD, EPS, P1, P2, P3, P4 = range(9)
HP_ROWS = 9

# Surfaces: 1.. are engine.landscape.gradients.FUNCTIONS in order; PROGRAM is a custom formula.
PROGRAM = 99

# Status codes the kernel writes (engine.landscape.status's, plus one the Python side settles).
RUNNING, DIVERGED = 0, 2
LEFT = 5  #: left the box with a finite gradient: escaped or diverged, decided by the loss
