"""The Landscape tab and its widgets."""
