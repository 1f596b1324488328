"""Loaded before every other conftest and test module, so before numpy: the tests run the engine on the kernels
the product pins (inference/kernels.py), not on whatever this CPU would pick."""
import inference  # noqa: F401
