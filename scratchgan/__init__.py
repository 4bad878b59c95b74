"""scratchgan: GANs from scratch on NumPy, every gradient explicit.

    >>> import scratchgan as sg
    >>> x = sg.Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2. 4.])
"""
from scratchgan import functions
from scratchgan.autograd import Function, Tensor, backward, grad
from scratchgan.config import Config, enable_grad, no_grad, using_config

__version__ = "0.1.0"

__all__ = ["Tensor", "Function", "backward", "grad", "no_grad", "enable_grad", "using_config",
           "Config", "functions", "__version__"]
