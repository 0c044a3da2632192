"""The MNIST training tab: live curves, results table and the worker that runs Keras."""
