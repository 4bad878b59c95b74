"""Optimizers and learning-rate schedules.

    >>> from scratchgan import nn, optim
    >>> model = nn.Linear(3, 1)
    >>> opt = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    >>> sched = optim.lr_scheduler.LinearLR(opt, total_iters=1000)
"""
from scratchgan.optim import lr_scheduler
from scratchgan.optim.adam import Adam
from scratchgan.optim.optimizer import Optimizer
from scratchgan.optim.rmsprop import RMSprop
from scratchgan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "lr_scheduler"]
