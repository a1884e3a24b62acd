"""Export services; import from here (``from exports import services``)."""

# The names are loaded on first use, from the stub beside this file (what type checkers read):
# importing one service module (a command's) no longer imports every other one and their
# libraries at start-up.
import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
