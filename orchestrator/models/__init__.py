"""The model gateway and its backends (litellm, the embedded model), capabilities, output parsing."""
