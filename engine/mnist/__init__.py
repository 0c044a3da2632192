"""The MNIST side: datasets and training the lesson's MLP per optimizer."""
