"""The Maps view: convergence over start points and hyperparameters."""
